"""One measurement: a command, the prober around it, the SSH connections it opened.

`measured()` starts the prober (50 requests/s on the target's front door) a moment
before the command, stops it a moment after, reads the targets' SSH connection
counters before and after, and returns a `Result` ready for the JSON output.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench import sandbox
from bench.config import Target
from bench.methods import Run
from bench.prober import Prober, Sample, summarize

LEAD_S = 1.0  # prober runs this long before the command starts
TAIL_S = 2.0  # and this long after it ends
PROBE_MAX_S = 900.0


@dataclass
class Result:
    measure: str  # deploy, rollback, fleet, overhead, setup
    method: str
    version: str
    previous: str | None
    seconds: float
    rc: int
    ok: bool
    started: float
    phases: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, int] | None = None
    ssh_connections: int | None = None
    probe: dict | None = None
    hosts: int = 1
    extra: dict = field(default_factory=dict)
    log: str = ""
    samples: list[Sample] = field(default_factory=list, repr=False)
    run: Run | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        skip = {"samples", "run"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}


def measured(
    measure: str,
    method: str,
    version: str,
    previous: str | None,
    targets: Sequence[Target],
    command: Callable[[], Run],
    *,
    probe: bool = True,
    expect_success: bool = True,
) -> Result:
    """Runs COMMAND with the prober on the first target (when PROBE) and the SSH
    counters of TARGETS read around it. `ok` is whether the exit status was what was
    expected (success, or failure when EXPECT_SUCCESS is false)."""
    before = sum(sandbox.ssh_connections(t) for t in targets)
    prober = Prober(targets[0].http_port, max_duration=PROBE_MAX_S) if probe else None
    if prober is not None:
        prober.start()
        time.sleep(LEAD_S)
    try:
        result = command()
    finally:
        samples: list[Sample] = []
        if prober is not None:
            time.sleep(TAIL_S)
            samples = prober.stop()
    after = sum(sandbox.ssh_connections(t) for t in targets)
    done = result.done
    summary = None
    if prober is not None:
        summary = summarize(samples, prober.started, prober.stopped, done.started, version)
    return Result(
        measure=measure,
        method=method,
        version=version,
        previous=previous,
        seconds=round(done.seconds, 3),
        rc=done.rc,
        ok=(done.rc == 0) == expect_success,
        started=done.started,
        phases=result.phases,
        tasks=result.tasks,
        ssh_connections=after - before,
        probe=summary.as_dict() if summary else None,
        hosts=len(targets),
        log=result.log,
        samples=samples,
        run=result,
    )
