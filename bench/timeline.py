"""What one ansible-playbook run did, from the bench_timeline callback's JSON lines.

Pure functions (unit-tested): tasks run, time per phase of our deploy (from the tasks'
tags, by the collection's phase table, plugins/plugin_utils/_phases.py), and the
moments of an automatic rollback (new release found unhealthy, restore started,
restored release healthy).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

# The phases come from the task tags the callback records, by the collection's own table
# (plugins/plugin_utils/_phases.py), the one the deploy_summary callback reads.
COLLECTIONS = str(Path(__file__).resolve().parents[1] / "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils import (  # noqa: E402
    _phases,
)

# Where a deploy finds the new release unhealthy (by tag): the health gate after the
# switch, or (rolling) the switch itself, which refuses new containers that fail their
# healthcheck.
GATES = ("release_verify", "release_switch")
# The restore of the previous release, within the automatic rollback (phase rollback):
# its switch back, and the rest of the restore (pins, current, history).
RESTORE = ("release_switch", "release_restore")
HEALTH = "release_verify"  # the health check of a release, the restored one included
EXECUTED = ("ok", "changed", "failed", "ignored", "unreachable")


def load(path: Path) -> list[dict]:
    """The events of a timeline file (an empty list when it does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _tags(event: dict) -> set[str]:
    """The tags of an event's task (none in a timeline written before the callback
    recorded them)."""
    return set(event.get("tags") or ())


def tasks_run(events: Iterable[dict]) -> dict[str, int]:
    """Task starts, host results that ran a module (ok, changed, failed ...), skipped."""
    starts = results = skipped = changed = 0
    for event in events:
        if event["event"] == "task_start":
            starts += 1
        elif event["event"] == "result":
            if event["status"] in EXECUTED:
                results += 1
                changed += event["status"] == "changed"
            elif event["status"] == "skipped":
                skipped += 1
    return {"task_starts": starts, "executed": results, "changed": changed, "skipped": skipped}


def phases(events: Sequence[dict], end: float) -> dict[str, float]:
    """Seconds per phase: each task lasts from its start to the next task's start (the
    last one to END), in the phase its tags give (_phases.py; a task without a phase tag
    in the previous task's phase)."""
    starts = [e for e in events if e["event"] == "task_start"]
    totals: dict[str, float] = {}
    phase: str | None = None
    for event, nxt in zip(starts, [*starts[1:], None], strict=True):
        phase = _phases.phase_of(event.get("tags"), phase)
        stop = nxt["t"] if nxt is not None else end
        totals[phase] = totals.get(phase, 0.0) + max(0.0, stop - event["t"])
    return {k: round(v, 3) for k, v in totals.items()}


def auto_rollback(events: Sequence[dict]) -> dict[str, float | None]:
    """Epoch times of an automatic rollback: the new release was found unhealthy (a task
    of its health gate or, rolling, of its switch failed: GATES), the restore of the
    previous release started (the first RESTORE task of the rollback phase), the restored
    release passed its health check (a HEALTH task of the rollback phase succeeded after
    that). A moment that did not happen is None."""
    gate_failed = restore_start = restored_healthy = None
    for event in events:
        tags = _tags(event)
        rollback = _phases.tagged_phase(tags) == "rollback"
        if (
            gate_failed is None
            and event["event"] == "result"
            and event["status"] == "failed"
            and not rollback
            and tags & set(GATES)
        ):
            gate_failed = event["t"]
        if (
            restore_start is None
            and event["event"] == "task_start"
            and rollback
            and tags & set(RESTORE)
        ):
            restore_start = event["t"]
        if (
            restore_start is not None
            and restored_healthy is None
            and event["event"] == "result"
            and event["status"] in ("ok", "changed")
            and rollback
            and HEALTH in tags
            and event["t"] >= restore_start
        ):
            restored_healthy = event["t"]
    return {
        "gate_failed": gate_failed,
        "restore_start": restore_start,
        "restored_healthy": restored_healthy,
    }


def stamped_phases(output: str, end: float) -> dict[str, float]:
    """Seconds per step of a bench shell script, from its `PHASE name epoch` lines: each
    step lasts until the next stamp (the last one until END). A final `done` stamp
    closes the previous step and is not a step itself."""
    stamps: list[tuple[str, float]] = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "PHASE":
            try:
                stamps.append((parts[1], float(parts[2])))
            except ValueError:
                continue
    totals: dict[str, float] = {}
    for (name, start), nxt in zip(stamps, [*stamps[1:], None][: len(stamps)], strict=True):
        if name == "done":
            continue
        stop = nxt[1] if nxt is not None else end
        totals[name] = round(totals.get(name, 0.0) + max(0.0, stop - start), 3)
    return totals
