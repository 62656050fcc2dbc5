"""After a fault: the next deploy.yml and rollback.yml, with no extra flag.

Each is retried every RETRY_EVERY s while it fails, as long as an attempt can
start within LEASE_BOUND s of the fault's end (the lock takes over a dead run's
lock at once when the same controller sees its pid gone, within about 2 min
otherwise). What each reported (a takeover, a reconciliation, a refusal) is
kept for the results table.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from results import NextRun
from runner import Run

LEASE_BOUND = 150.0  # seconds after the fault within which an attempt may start
RETRY_EVERY = 10.0  # seconds between two attempts
MAX_ATTEMPTS = 16  # LEASE_BOUND / RETRY_EVERY, and one more
NOTES = ("Took over the deploy lock", "Records reconciled")


def _flat(text: str) -> str:
    return " ".join(text.split())


def said(output: str, ok: bool) -> str:
    """What a run reported that matters here: a takeover, a reconciliation, or
    (failed) the first failure's message; at most 240 characters each."""
    flat = _flat(output)
    notes = []
    for note in NOTES:
        at = flat.find(note)
        if at >= 0:
            end = min(
                e
                for e in (flat.find("[WARNING]", at + 1), flat.find("TASK [", at), len(flat))
                if e > 0
            )
            notes.append(flat[at:end][:240].strip())
    if not ok:
        at = flat.find("fatal: [")
        if at < 0:
            at = max(flat.rfind("ERROR!"), 0)
        notes.append(flat[at : at + 240])
    return " / ".join(notes)


def moved(output: str, host: str = "test-1") -> str:
    """BEFORE -> AFTER and the outcome, from the run's summary."""
    found = re.search(rf"^{host}\s+(deploy|rollback)\s+(\S+)\s+(\S+ -> \S+)\s+(\S+)", output, re.M)
    return f"{found.group(3)} {found.group(4)}" if found else ""


def next_run(
    inventory: str,
    playbook: str,
    args: tuple[str, ...],
    logs: Path,
    since: float,
    controller: str | None = None,
) -> NextRun:
    """PLAYBOOK until it succeeds, attempts starting within LEASE_BOUND s of SINCE."""
    attempts = 0
    run: Run | None = None
    while attempts < MAX_ATTEMPTS:
        attempts += 1
        started = time.monotonic()
        run = Run.start(inventory, playbook, *args, logs=logs, controller=controller)
        code = run.wait()
        if code == 0:
            out = run.output()
            return NextRun(
                playbook, True, attempts, round(started - since, 1),
                round(time.monotonic() - started, 1), said(out, True), moved(out),
            )  # fmt: skip
        if time.monotonic() + RETRY_EVERY - since > LEASE_BOUND:
            break
        time.sleep(RETRY_EVERY)
    out = run.output() if run else ""
    return NextRun(
        playbook, False, attempts, round(time.monotonic() - since, 1), 0.0,
        said(out, False), moved(out),
    )  # fmt: skip
