"""Two deploys at once from two controllers; a takeover racing a takeover."""

from __future__ import annotations

import pytest
from campaign import Campaign, run_case, verdict
from races import takeover_race, two_controllers

pytestmark = pytest.mark.docker


def test_two_deploys_from_two_controllers(campaign: Campaign) -> None:
    result = run_case(
        campaign,
        "two controllers at once",
        "deploys of two versions started together from ctl-a and ctl-b",
        two_controllers(campaign),
    )
    assert result.passed, verdict(result, campaign.logs)


@pytest.mark.faults_full
def test_a_takeover_racing_a_takeover(campaign: Campaign) -> None:
    result = run_case(
        campaign,
        "takeover racing a takeover",
        "a deploy killed holding the lock, then two deploys at once from its controller",
        takeover_race(campaign),
    )
    assert result.passed, verdict(result, campaign.logs)
