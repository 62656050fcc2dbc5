"""The phases of a deploy or rollback, from the tags of its tasks: one table, read by
the deploy_summary callback and by the bench (bench/timeline.py).

Every task of the deploy and rollback roles carries one of the table's tags, inherited
from an ``import_tasks``, ``import_role`` or ``block`` with ``tags:``, or from
``apply: {tags: [...]}`` on ``include_role`` / ``include_tasks`` (the tags of an include
without ``apply`` do not reach its tasks; roles/release/TAGS_FINDINGS.md). Inner tags
add to outer ones, so a task can carry several: the FIRST entry of the table whose tag the
task carries gives its phase (the automatic rollback's health check carries
``deploy_recover`` and ``release_verify``: it is the rollback). A task with none of
them (a task list included without tags, a role's argument check) counts in the phase of
the host's previous task, else ``other``.

A task file can move or be renamed: its tags, not its path, say where its time goes.
"""

from __future__ import annotations

from collections.abc import Iterable

# (tag, phase), the first tag a task carries wins.
PHASE_TAGS: tuple[tuple[str, str], ...] = (
    # the deploy's automatic rollback, its restore and health check
    ("deploy_recover", "rollback"),
    ("deploy_fleet", "rollback"),  # a batched deploy bringing back the earlier hosts
    ("release_switch", "switch"),  # compose_rollout of a new or kept release
    ("release_verify", "verify"),  # the health gate after a switch, deploy or rollback
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
    # the rest of a rollback.yml restore: pins, current, history
    ("release_restore", "record"),
    ("deploy_prune", "prune"),
    ("release_unlock", "unlock"),
    ("release_summary", "record"),
)
OTHER = "other"  # the phase of a task without a phase tag, before any task with one
# Every phase, in the table's order.
PHASE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(phase for _, phase in PHASE_TAGS))


def tagged_phase(tags: Iterable[str] | None) -> str | None:
    """The phase the table gives TAGS (a task's tags, duplicates and other tags allowed),
    None when they hold none of its tags."""
    carried = {str(tag) for tag in tags or ()}
    for tag, phase in PHASE_TAGS:
        if tag in carried:
            return phase
    return None


def phase_of(tags: Iterable[str] | None, previous: str | None = None) -> str:
    """The phase of a task from its TAGS; a task without a phase tag counts in PREVIOUS
    (the phase of the host's previous task), else in ``other``."""
    return tagged_phase(tags) or previous or OTHER
