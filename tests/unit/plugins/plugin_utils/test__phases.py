"""The phase table (plugins/plugin_utils/_phases.py): a task's phase is that of the first
table entry whose tag it carries; without one, the phase of the host's previous task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import PHASES
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._phases import (
    OTHER,
    PHASE_NAMES,
    PHASE_TAGS,
    phase_of,
    tagged_phase,
)

REPO = Path(__file__).resolve().parents[4]
# Phase tags are named <role>_<phase> after the release cycle's roles; the others
# (deploy, preflight, health, env_file ...) select tasks for --tags.
PHASE_PREFIXES = ("deploy_", "release_", "rollback_")


def _tags_in(node: Any) -> Iterator[str]:
    """Every tag named in NODE (tasks, blocks, include_* apply), at any depth."""
    if isinstance(node, dict):
        tags = node.get("tags")
        yield from [tags] if isinstance(tags, str) else tags if isinstance(tags, list) else []
        for value in node.values():
            yield from _tags_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _tags_in(item)


def tags_used() -> set[str]:
    """The tags the roles and playbooks put on their tasks."""
    files = [*(REPO / "roles").glob("*/tasks/*.yml"), *(REPO / "playbooks").rglob("*.yml")]
    return {tag for path in files for tag in _tags_in(yaml.safe_load(path.read_text()))}


def test_the_table_and_the_roles_name_the_same_tags():
    """A tag renamed in a role, or in the table, leaves that time in another phase."""
    table = [tag for tag, _ in PHASE_TAGS]
    assert len(table) == len(set(table))  # a tag has one phase
    assert set(table) == {t for t in tags_used() if t.startswith(PHASE_PREFIXES)}


def test_a_context_tag_wins_over_the_step_it_includes():
    """The automatic rollback's switch and health check are the rollback; a rollback.yml
    restore's switch and health check are its switch and verify, the rest its record."""
    order = [tag for tag, _ in PHASE_TAGS]
    assert order.index("deploy_recover") < order.index("release_switch")
    assert order.index("deploy_fleet") < order.index("release_verify")
    assert order.index("release_switch") < order.index("release_restore")
    assert order.index("release_verify") < order.index("release_restore")


def test_the_summary_shows_phases_of_the_table():
    assert set(PHASES) <= set(PHASE_NAMES)
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
