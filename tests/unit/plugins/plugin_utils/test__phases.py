"""The phase table (plugins/plugin_utils/_phases.py): a task's phase is that of the first
table entry whose tag it carries; without one, the phase of the host's previous task."""

from __future__ import annotations

import pytest
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import PHASES
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._phases import (
    OTHER,
    PHASE_NAMES,
    PHASE_TAGS,
    phase_of,
    tagged_phase,
)


def test_the_table_in_its_order():
    assert PHASE_TAGS == (
        ("deploy_recover", "rollback"),
        ("deploy_fleet", "rollback"),
        ("release_switch", "switch"),
        ("release_verify", "verify"),
        ("deploy_verify", "verify"),
        ("deploy_preflight", "preflight"),
        ("release_lock", "lock"),
        ("rollback_target", "lock"),
        ("deploy_stage", "stage"),
        ("release_hooks", "hooks"),
        ("deploy_pull", "pull"),
        ("deploy_pin", "pull"),
        ("deploy_scan", "scan"),
        ("deploy_data_services", "data_services"),
        ("deploy_migrate", "migrate"),
        ("deploy_record", "record"),
        ("release_restore", "record"),
        ("deploy_prune", "prune"),
        ("release_unlock", "unlock"),
        ("release_summary", "record"),
    )
    tags = [tag for tag, _ in PHASE_TAGS]
    assert len(tags) == len(set(tags))  # a tag has one phase
    assert set(PHASES) <= set(PHASE_NAMES)  # the summary shows phases of the table
    assert OTHER not in PHASE_NAMES


@pytest.mark.parametrize(
    "tags,previous,phase",
    [
        # one phase tag, whatever else the task carries (the play's tags, `always`)
        (["deploy_pull"], "stage", "pull"),
        (["deploy_pin", "play_tag"], "pull", "pull"),
        (["deploy_migrate"], None, "migrate"),
        (["release_switch"], "migrate", "switch"),
        (["deploy_verify"], "switch", "verify"),
        (["release_verify", "always"], "switch", "verify"),
        (["deploy_record"], "verify", "record"),
        (["release_summary"], "unlock", "record"),
        (["release_restore"], "verify", "record"),
        (["rollback_target"], None, "lock"),
        (["release_lock"], None, "lock"),
        (["deploy_preflight"], None, "preflight"),
        (["deploy_stage"], "lock", "stage"),
        (["release_hooks"], "stage", "hooks"),
        (["deploy_scan"], "pull", "scan"),
        (["deploy_data_services"], "scan", "data_services"),
        (["deploy_prune"], "record", "prune"),
        (["release_unlock"], "prune", "unlock"),
        # inherited tags add up: the first entry of the table wins
        (["deploy_verify", "release_verify"], "switch", "verify"),
        (["deploy_recover", "release_switch"], "verify", "rollback"),
        (["release_verify", "deploy_recover"], "rollback", "rollback"),
        (["deploy_fleet", "release_restore"], "unlock", "rollback"),
        (["release_switch", "release_restore"], "lock", "switch"),
        (["release_verify", "release_restore"], "switch", "verify"),
        (("deploy_pull", "deploy_pull", "deploy_recover"), "pull", "rollback"),  # duplicates
        # no phase tag: the phase of the host's previous task, else other
        ([], "rollback", "rollback"),
        (["always"], "verify", "verify"),  # a role's argument check
        (["play_tag"], "switch", "switch"),
        ([], None, "other"),
        (None, None, "other"),
        (["unknown_tag"], None, "other"),
    ],
)
def test_phase_of(tags, previous, phase):
    assert phase_of(tags, previous) == phase


def test_tagged_phase_says_when_no_tag_is_in_the_table():
    assert tagged_phase(["deploy_recover", "release_verify"]) == "rollback"
    assert tagged_phase(["always", "play_tag"]) is None
    assert tagged_phase(None) is None
