"""A data service that restarted once in its past: redis-server killed inside its
container (as an OOM kill does), brought back by its restart policy
(RestartCount 1), before the case. Deploys and rollbacks after it judge this run,
not the container's whole life."""

from __future__ import annotations

import pytest
from campaign import Campaign, run_case, verdict
from injectors import deploy_plain, redis_restarted

pytestmark = pytest.mark.docker


def test_a_past_restart_of_redis(campaign: Campaign) -> None:
    result = run_case(
        campaign,
        "redis restarted once in its past",
        "redis-server killed once before the case (RestartCount 1), then a deploy",
        deploy_plain(campaign),
        prepare=redis_restarted(campaign),
    )
    assert result.passed, verdict(result, campaign.logs)
