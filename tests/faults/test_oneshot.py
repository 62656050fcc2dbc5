"""A one-shot service that exits 0 (restart: "no") is no failure of the release."""

from __future__ import annotations

import pytest
from ansible_run import on_target
from campaign import Campaign, run_case, verdict
from oneshot import app_with_oneshot, deploy_with_oneshot

pytestmark = [pytest.mark.docker, pytest.mark.faults_full]


def test_a_oneshot_service_that_exits_0(campaign: Campaign) -> None:
    app = app_with_oneshot(campaign.logs)
    try:
        result = run_case(
            campaign,
            "one-shot service exits 0",
            'a release with a service that runs once and exits 0 (restart: "no")',
            deploy_with_oneshot(campaign, app),
            deploy_args=("-e", f"deploy_app_dir={app}"),
        )
    finally:  # the later cases deploy the app without it
        on_target(
            campaign.target,
            "docker ps -aq --filter label=com.docker.compose.service=init | xargs -r docker rm -f",
        )
    assert result.passed, verdict(result, campaign.logs)
