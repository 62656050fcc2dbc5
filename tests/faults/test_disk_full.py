"""The disk filling during the pull and during the record.

Only the target is touched: a small tmpfs mounted inside it and filled, never
the machine's own disk (the target's filesystems are the machine's). At the
pull: /var/lib/docker/tmp, where the engine downloads layers, once the free-disk
check passed. At the record: the new release's directory, once the release
serves and before `current` and release.json are written.
"""

from __future__ import annotations

import pytest
from campaign import Campaign, run_case, verdict
from injectors import disk_full_at_pull, disk_full_at_record

pytestmark = [pytest.mark.docker, pytest.mark.faults_full]


def test_disk_full_during_the_pull(campaign: Campaign) -> None:
    result = run_case(
        campaign,
        "disk full at the pull",
        "the engine's download directory full (a full 1 MB tmpfs) after the free-disk check",
        disk_full_at_pull(campaign),
    )
    assert result.passed, verdict(result, campaign.logs)


def test_disk_full_during_the_record(campaign: Campaign) -> None:
    result = run_case(
        campaign,
        "disk full at the record",
        "the release's directory full (a filled 4 MB tmpfs) after the rollout, before the record",
        disk_full_at_record(campaign),
    )
    assert result.passed, verdict(result, campaign.logs)
