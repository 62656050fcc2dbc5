"""The target's Docker engine stopped during the rollout then started; the SSH
connection cut mid-task (the controller's sshd sessions killed in the target)."""

from __future__ import annotations

import pytest
from campaign import Campaign, run_case, verdict
from injectors import engine_stopped, ssh_cut
from phases import phase

pytestmark = pytest.mark.docker


@pytest.mark.faults_full
def test_engine_stopped_during_the_rollout(campaign: Campaign) -> None:
    result = run_case(
        campaign,
        "engine stopped in the rollout",
        "the target's dockerd stopped (SIGTERM) 2 s into the rollout, then started",
        engine_stopped(campaign, phase("deploy.yml", "rollout-early")),
        engine_up=False,
    )
    assert result.passed, verdict(result, campaign.logs)


@pytest.mark.faults_full
@pytest.mark.parametrize(
    ("playbook", "name"),
    [("deploy.yml", "rollout-early"), ("deploy.yml", "migrate"), ("rollback.yml", "rollout")],
)
def test_ssh_cut_mid_task(campaign: Campaign, playbook: str, name: str) -> None:
    at = phase(playbook, name)
    result = run_case(
        campaign,
        f"ssh cut: {playbook.removesuffix('.yml')} at {name}",
        f"the controller's sshd sessions killed in the target during `{playbook}` at {name} ({at.what})",
        ssh_cut(campaign, playbook, at),
        first="rollback.yml" if playbook == "deploy.yml" else "deploy.yml",
    )
    assert result.passed, verdict(result, campaign.logs)
