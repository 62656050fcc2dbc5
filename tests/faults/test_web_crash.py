"""A new release whose web containers crash during boot (dead001 exits at once)
or never get healthy (badbad1's health answers 503): the deploy fails, the
traffic never moves, the previous release serves on, nothing is left behind
that blocks the next runs."""

from __future__ import annotations

import pytest
from campaign import Campaign, run_case, verdict
from injectors import finished
from target_state import CRASH, UNHEALTHY

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(
    ("version", "what"),
    [
        pytest.param(CRASH, "exits at once", marks=pytest.mark.faults_full),
        pytest.param(UNHEALTHY, "health answers 503", marks=pytest.mark.faults_full),
    ],
    ids=["crash-at-boot", "unhealthy"],
)
def test_a_new_web_container_that_does_not_boot(
    campaign: Campaign, version: str, what: str
) -> None:
    result = run_case(
        campaign,
        f"new web container: {version}",
        f"deploy of {version}, whose web container {what}",
        finished(campaign, version),
    )
    assert result.passed, verdict(result, campaign.logs)
