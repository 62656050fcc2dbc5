"""One row per fault case, and the Markdown table the README quotes.

`SFS_FAULTS_REPORT=tests/faults/results.md` (make test-faults sets it) writes
the table at the end of the session, with every case that ran, passed or not.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class NextRun:
    """A deploy.yml or rollback.yml run after the fault, retried while refused."""

    playbook: str
    ok: bool
    attempts: int
    waited_s: float  # from the fault's end to the start of the attempt that succeeded
    took_s: float  # that attempt's own time
    said: str  # what it reported: a takeover, a reconciliation, or why it failed
    moved: str = ""  # BEFORE -> AFTER from its summary

    def cell(self) -> str:
        verdict = (
            f"ok at attempt {self.attempts}" if self.ok else f"FAILED ({self.attempts} attempts)"
        )
        parts = [f"`{self.playbook}` {verdict}", self.moved, self.said]
        return "; ".join(p for p in parts if p)


@dataclass
class CaseResult:
    case: str
    fault: str
    engine_up: bool
    faulted_run: str = ""  # what the faulted run did (exit, what it printed last)
    prepared: str = ""  # what the harness did first, when an earlier case left the host otherwise
    failed: int = 0
    requests: int = 0
    failure_kinds: dict[str, int] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)  # versions the prober saw, in order
    after: str = ""  # current / answering / status right after the fault
    next_runs: list[NextRun] = field(default_factory=list)
    deploy_again_s: float | None = None  # fault end -> a deploy.yml accepted and succeeded
    row_kept: bool | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    load: float = 0.0  # the machine's load average (1 min) when the case started

    @property
    def passed(self) -> bool:
        return not self.problems


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _failed(result: CaseResult) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.failure_kinds.items()))
    base = f"{result.failed} of {result.requests}"
    note = "" if result.engine_up else " (engine down)"
    return f"{base}{' (' + kinds + ')' if kinds else ''}{note}"


def table(results: list[CaseResult]) -> str:
    head = (
        "| case | fault | failed requests | the site after it | the next runs | "
        "next run accepted after | row kept | verdict |\n|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for r in results:
        again = f"{r.deploy_again_s:.0f} s" if r.deploy_again_s is not None else "not within 150 s"
        served = " -> ".join(r.answered) or "nothing"
        verdict = "pass" if r.passed else "FAIL: " + "; ".join(r.problems)
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"{r.case} (load {r.load:.0f}, {r.seconds:.0f} s)",
                    r.fault + (f" (before it, the harness {r.prepared})" if r.prepared else ""),
                    _failed(r),
                    f"{r.faulted_run}; answered {served}; {r.after}",
                    "<br>".join(n.cell() for n in r.next_runs) or "-",
                    again,
                    {True: "yes", False: "NO", None: "-"}[r.row_kept],
                    verdict,
                )
            )
            + " |"
        )
    return head + "\n".join(rows) + "\n"


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or "?"


def write(results: list[CaseResult], path: Path, total_s: float) -> None:
    passed = sum(r.passed for r in results)
    path.write_text(
        "# Fault-injection campaign\n\n"
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {_commit()}, "
        f"{os.cpu_count()} cores, {platform.machine()}; "
        f"{len(results)} cases, {passed} passed, {total_s / 60:.1f} min. "
        "A prober sent 50 requests/s to the front door through each case and the runs after it "
        "(failed: not 200 within 5 s). The next runs: no extra flag, retried every 10 s for "
        "150 s after the fault. Written by `make test-faults` (tests/faults/).\n\n" + table(results)
    )


def report_path() -> Path | None:
    value = os.environ.get("SFS_FAULTS_REPORT", "")
    return Path(value) if value else None
