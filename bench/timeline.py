"""What one ansible-playbook run did, from the bench_timeline callback's JSON lines.

Pure functions (unit-tested): tasks run, time per phase of our deploy, and the
moments of an automatic rollback (new release found unhealthy, restore started,
restored release healthy).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

# Task file (path substring) -> phase of our deploy; the first match wins.
PHASES: list[tuple[str, str]] = [
    ("roles/env_file/tasks/preflight", "preflight"),
    ("roles/compose_images/tasks/preflight", "preflight"),
    ("playbooks/", "preflight"),
    ("roles/deploy/tasks/lock", "lock"),
    ("roles/deploy/tasks/stage", "stage"),
    ("roles/env_file/", "stage"),
    ("roles/compose_images/", "stage"),
    ("roles/deploy/tasks/pull", "pull"),
    ("roles/deploy/tasks/migrate", "migrate"),
    ("roles/deploy/tasks/switch", "switch"),
    ("roles/deploy/tasks/verify", "verify"),
    ("roles/deploy/tasks/record", "record"),
    ("roles/deploy/tasks/prune", "prune"),
    ("roles/deploy/tasks/unlock", "unlock"),
    ("roles/deploy/tasks/recover", "recover"),
    ("roles/deploy/tasks/compose_failed", "recover"),
    ("roles/deploy/tasks/batches", "recover"),
    ("roles/rollback/", "rollback"),
]
# Where a deploy finds the new release unhealthy: the health gate after the switch, or
# (rolling) the switch itself, which refuses new containers that fail their healthcheck.
GATES = ("roles/health/", "roles/deploy/tasks/switch")
EXECUTED = ("ok", "changed", "failed", "ignored", "unreachable")


def load(path: Path) -> list[dict]:
    """The events of a timeline file (an empty list when it does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def phase_of(path: str, context: str | None = None) -> str:
    """The phase of a task from its file path. The health role belongs to the phase
    it was included from (CONTEXT: verify, or rollback), `verify` by default."""
    if "roles/health/" in path:
        return context or "verify"
    for needle, phase in PHASES:
        if needle in path:
            return phase
    return "other"


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
    last one to END). Health checks count in the phase they were included from."""
    starts = [e for e in events if e["event"] == "task_start"]
    totals: dict[str, float] = {}
    context = "verify"
    for event, nxt in zip(starts, [*starts[1:], None], strict=True):
        path = event.get("path", "")
        if "roles/rollback/" in path or "roles/deploy/tasks/recover" in path:
            context = "rollback"
        phase = phase_of(path, context)
        stop = nxt["t"] if nxt is not None else end
        totals[phase] = totals.get(phase, 0.0) + max(0.0, stop - event["t"])
    return {k: round(v, 3) for k, v in totals.items()}


def auto_rollback(events: Sequence[dict]) -> dict[str, float | None]:
    """Epoch times of an automatic rollback: the new release was found unhealthy (its
    health gate failed or, rolling, the switch refused its containers), the restore of
    the previous release started, the restored release passed its health check. A
    moment that did not happen is None."""
    gate_failed = restore_start = restored_healthy = None
    for event in events:
        path = event.get("path", "")
        if (
            gate_failed is None
            and event["event"] == "result"
            and event["status"] == "failed"
            and any(gate in path for gate in GATES)
        ):
            gate_failed = event["t"]
        if (
            restore_start is None
            and event["event"] == "task_start"
            and "roles/rollback/tasks/restore" in path
        ):
            restore_start = event["t"]
        if (
            restore_start is not None
            and restored_healthy is None
            and event["event"] == "result"
            and event["status"] in ("ok", "changed")
            and "roles/health/" in path
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
