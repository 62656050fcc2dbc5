"""One fault case from start to verdict, the same for every fault.

`run_case`: the host is put back to a known state if an earlier case left it
otherwise (said in the results), the prober starts (50 requests/s through the
front door), the case's fault is injected, then: what answers, what `current`
names and what status.yml says; the next runs (the other playbook first: a
faulted deploy is followed by rollback.yml, as in an incident, then deploy.yml;
a killed rollback by deploy.yml, then rollback.yml: each takes over the other's
dead lock) and again what serves; the row written at the start. The prober
stops after all of it. Every finding goes into the results table, then the
case fails on any of them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aftermath import next_run
from ansible_run import ROOT, http, on_target
from results import CaseResult
from runner import RUNS, Run, wait_until
from target_state import answering, current, last_event, lock_file, other_good, status

from bench.prober import Prober, Sample, longest_gap

PROBE_TIMEOUT = 5.0  # seconds: a loaded 2-core machine (the bench uses 1 s on an idle one)
PROBE_MAX = 1500.0  # seconds: the prober's own bound, above any case


@dataclass
class Campaign:
    """The session's target, where the logs go, the row written first, the results."""

    target: dict
    logs: Path
    row: dict
    results: list[CaseResult] = field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    """What an injector did: when the fault was over (monotonic), what the faulted run did."""

    ended: float
    run: str
    problems: tuple[str, ...] = ()  # what the injector itself found wrong (races)


def outcome(run: Run) -> str:
    """How a faulted run ended, in a few words."""
    if run.killed_at is not None:
        return f"{run.playbook} killed (SIGKILL, whole tree)"
    code = run.proc.poll()
    return f"{run.playbook} exit {code}"


def switched_from(target: dict, before: str) -> Callable[[], bool]:
    """True once the front door answers a version other than BEFORE."""
    return lambda: answering(target) not in ("", before)


def row_kept(target: dict, row: dict) -> bool:
    items = http(target, "/api/v1/items/")["items"]
    return any(i.get("id") == row["id"] and i.get("name") == row["name"] for i in items)


def baseline(campaign: Campaign, logs: Path) -> str:
    """The host serving a good version that `current` names, no lock: made so if
    an earlier case left it otherwise. Returns what had to be done ('' if nothing)."""
    target = campaign.target
    notes = []
    if lock_file(target):
        on_target(target, f"rm -f {ROOT}/lock")
        notes.append("removed a lock an earlier case left")
    serving, link = answering(target), current(target)
    last = last_event(target)
    # a rollback goes back along what served: after a rollback there may be nowhere
    # further back, so every case starts right after a successful deploy
    if not serving or serving != link or last != ("deploy", "success"):
        run = Run.start(
            target["inventory"], "deploy.yml", "-e", f"app_version={other_good(serving)}", logs=logs
        )
        assert run.wait() == 0, f"the host could not be brought back to a known state\n{run.tail()}"
        notes.append(
            f"deployed first (answered {serving or 'nothing'}, current named {link or 'nothing'},"
            f" last event {' '.join(last) or 'none'})"
        )
    return "; ".join(notes)


def when_failed(samples: list[Sample]) -> str:
    """When the failed requests were sent, in seconds after the first request, the
    longest time without a good answer, and the runs going on then (a log's name)."""
    t0 = samples[0].sent
    bad = [s.sent for s in samples if not s.ok]
    gap, at = longest_gap([s.done for s in samples if s.ok], t0, samples[-1].done)
    during = [
        r.log.name
        for r in RUNS
        if r.wall[0] <= bad[-1] and (r.wall[1] or time.time()) >= bad[0] and r.wall[0] >= t0 - 5
    ]
    return (
        f"sent from {bad[0] - t0:.0f} s to {bad[-1] - t0:.0f} s, during {', '.join(during) or 'no run'};"
        f" no good answer for {gap:.1f} s from {at - t0:.0f} s"
    )


def answered(samples: list[Sample]) -> list[str]:
    """The versions that answered, in the order they first did (both answer for a
    moment at a switch: nginx's old workers finish)."""
    return list(dict.fromkeys(s.version or "?" for s in samples if s.ok))


def run_case(
    campaign: Campaign,
    case: str,
    fault: str,
    inject: Callable[[Path], Fault],
    *,
    engine_up: bool = True,
    first: str = "rollback.yml",
    prepare: Callable[[Path], str] | None = None,
    deploy_args: tuple[str, ...] = (),
    next_controller: str | None = None,
) -> CaseResult:
    """The case CASE (FAULT says what it is): INJECT the fault, then judge the host.
    FIRST: the playbook run first after it; PREPARE: a fault in the host's past,
    before the prober starts; DEPLOY_ARGS: given to every deploy after the fault;
    NEXT_CONTROLLER: the STICKFORSTATS_CONTROLLER of the runs after the fault."""
    target = campaign.target
    logs = campaign.logs / case
    started = time.monotonic()
    result = CaseResult(case, fault, engine_up, load=os.getloadavg()[0])
    result.prepared = baseline(campaign, logs)
    before = prepare(logs) + "; " if prepare else ""  # a fault in the host's past
    prober = Prober(target["http"], rate=50.0, timeout=PROBE_TIMEOUT, max_duration=PROBE_MAX)
    prober.start()
    time.sleep(1)
    try:
        injected = inject(logs)
        result.faulted_run = before + injected.run
        result.problems.extend(injected.problems)
        # an engine that was down brings the containers back on its own
        wait_until("an answer", lambda: answering(target) != "", 1 if engine_up else 180)
        look(campaign, logs, result)
        for book in [first, "rollback.yml" if first == "deploy.yml" else "deploy.yml"]:
            version = other_good(answering(target))
            args = ("-e", f"app_version={version}", *deploy_args) if book == "deploy.yml" else ()
            after = next_run(target["inventory"], book, args, logs, injected.ended, next_controller)
            result.next_runs.append(after)
            if not after.ok:
                result.problems.append(f"{book} did not succeed within the lease bound")
        accepted = result.next_runs[0]
        result.deploy_again_s = accepted.waited_s if accepted.ok else None
        serving, link = answering(target), current(target)
        if link != serving:
            result.problems.append(f"after the next runs current names {link}, {serving} answers")
        result.row_kept = row_kept(target, campaign.row)
        if not result.row_kept:
            result.problems.append("the row written before the case is gone")
    except AssertionError as failed:  # the harness could not go on: said in the table too
        result.problems.append(str(failed).splitlines()[0])
        raise
    finally:
        tally(prober.stop(), result)
        result.seconds = round(time.monotonic() - started, 1)
        campaign.results.append(result)
    return result


def look(campaign: Campaign, logs: Path, result: CaseResult) -> None:
    """Right after the fault: what answers, `current` and status.yml. A killed run
    cannot mend its records: the next look (status.yml) does, so `current` is
    judged after it, and what the fault left is reported."""
    target = campaign.target
    left = current(target)
    row, _ = status(target, logs)
    serving, link = answering(target), current(target)
    mended = f" (left naming {left or 'nothing'})" if left != link else ""
    result.after = (
        f"current {link or 'none'}{mended}; status.yml: serving {row.get('SERVING', '?')}, "
        f"health {row.get('HEALTH', '?')}, lock {row.get('LOCK', '?')}"
    )
    if not serving:
        result.problems.append("nothing answers after the fault")
    if link != serving:
        result.problems.append(f"current names {link or 'nothing'} but {serving} answers")
    if row.get("SERVING") != serving:
        result.problems.append(f"status.yml says {row.get('SERVING')} serves, {serving} answers")
    if row.get("HEALTH") != "ok":
        result.problems.append(f"status.yml health: {row.get('HEALTH')}")


def tally(samples: list[Sample], result: CaseResult) -> None:
    """The prober's samples into RESULT: failed of total, by kind, versions answered."""
    result.requests = len(samples)
    result.failed = sum(not s.ok for s in samples)
    kinds: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
    result.failure_kinds = kinds
    result.answered = answered(samples)
    if result.engine_up and result.failed:
        result.problems.append(f"{result.failed} requests failed ({when_failed(samples)})")


def verdict(result: CaseResult, runs_dir: Path) -> str:
    """The assertion message: every problem, and where the logs are."""
    return f"{result.case}: " + "; ".join(result.problems) + f" (logs: {runs_dir / result.case})"
