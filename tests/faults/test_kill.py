"""ansible-playbook killed (SIGKILL, the whole tree: a cancelled CI job) at every
phase of deploy.yml and of rollback.yml, with 50 requests/s through the front door.

After each: no failed request, `current` and status.yml name what answers, the
other playbook then the same one succeed with no extra flag within the lease
bound, the row is still there (campaign.run_case).
"""

from __future__ import annotations

import pytest
from campaign import Campaign, run_case, verdict
from injectors import kill
from phases import DEPLOY, ROLLBACK, Phase, phase

pytestmark = pytest.mark.docker

SUBSET = {
    ("deploy.yml", "rollout-switched"),
    ("deploy.yml", "after-rollout"),
    ("rollback.yml", "rollout"),
}


def cases(playbook: str, phases: tuple[Phase, ...]) -> list:
    return [
        pytest.param(
            playbook,
            p,
            id=f"{playbook.removesuffix('.yml')}-{p.name}",
            marks=() if (playbook, p.name) in SUBSET else pytest.mark.faults_full,
        )
        for p in phases
    ]


@pytest.mark.parametrize(
    ("playbook", "phase"), cases("deploy.yml", DEPLOY) + cases("rollback.yml", ROLLBACK)
)
def test_killed_at_a_phase(campaign: Campaign, playbook: str, phase: Phase) -> None:
    other = "rollback.yml" if playbook == "deploy.yml" else "deploy.yml"
    result = run_case(
        campaign,
        f"kill {playbook.removesuffix('.yml')} at {phase.name}",
        f"`{playbook}` killed at {phase.name} ({phase.what})",
        kill(campaign, playbook, phase),
        first=other,
    )
    assert result.passed, verdict(result, campaign.logs)


@pytest.mark.faults_full
def test_killed_then_another_controller_comes(campaign: Campaign) -> None:
    """The next runs come from another controller: it cannot see the killed run's
    pid, so the lock is taken over once its lease lapsed (within about 2 min)."""
    at = phase("deploy.yml", "rollout-switched")
    result = run_case(
        campaign,
        "kill deploy on ctl-a, ctl-b next",
        f"`deploy.yml` from controller ctl-a killed at {at.name}; the next runs from ctl-b",
        kill(campaign, "deploy.yml", at, controller="ctl-a"),
        next_controller="ctl-b",
    )
    assert result.passed, verdict(result, campaign.logs)
