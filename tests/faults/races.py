"""Runs at once: two deploys from two controllers, and a takeover racing a takeover.

The lock records a controller id (STICKFORSTATS_CONTROLLER, else the host
name). Whatever the timing, one run holds the lock at a time: a run that does
not get it fails saying the lock is held (release_lock_wait is 0), and a dead
run's lock is taken over by exactly one of two runs racing for it.
"""

from __future__ import annotations

import time
from pathlib import Path

from campaign import Campaign, Fault
from injectors import Injector, deploy_run
from phases import phase
from runner import Run, kill_at
from target_state import GOOD, answering

TOOK_OVER = "Took over the deploy lock"
REFUSED = "Deploy lock"


def _flat(run: Run) -> str:
    return " ".join(run.output().split())


def _judge(runs: list[Run], codes: list[int]) -> list[str]:
    """Problems: none succeeded, or one failed for another reason than the lock."""
    problems = []
    if 0 not in codes:
        problems.append("none of the runs at once succeeded")
    for run, code in zip(runs, codes, strict=True):
        if code != 0 and REFUSED not in _flat(run):
            problems.append(f"{run.log.name} failed (exit {code}) for another reason than the lock")
    return problems


def _versions(campaign: Campaign) -> list[str]:
    serving = answering(campaign.target)
    return [v for v in GOOD if v != serving][:2]


def two_controllers(campaign: Campaign) -> Injector:
    """Deploys of two versions started together from controllers ctl-a and ctl-b."""

    def inject(logs: Path) -> Fault:
        va, vb = _versions(campaign)
        runs = [
            deploy_run(campaign, logs, va, controller="ctl-a"),
            deploy_run(campaign, logs, vb, controller="ctl-b"),
        ]
        codes = [r.wait() for r in runs]
        said = ", ".join(
            f"{c} deploy {v}: exit {code}"
            for c, v, code in zip(("ctl-a", "ctl-b"), (va, vb), codes, strict=True)
        )
        return Fault(time.monotonic(), said, tuple(_judge(runs, codes)))

    return inject


def takeover_race(campaign: Campaign) -> Injector:
    """A deploy killed once it holds the lock (staging), then two deploys started
    together from the same controller: both see the holder's pid gone."""

    def inject(logs: Path) -> Fault:
        killed = deploy_run(campaign, logs)
        kill_at(killed, phase("deploy.yml", "staging"))
        va, vb = _versions(campaign)
        runs = [deploy_run(campaign, logs, va), deploy_run(campaign, logs, vb)]
        codes = [r.wait() for r in runs]
        took = sum(TOOK_OVER in _flat(r) for r in runs)
        problems = _judge(runs, codes)
        if took != 1:
            problems.append(f"{took} runs took over the dead run's lock (1 expected)")
        said = f"killed at staging, then deploys of {va} and {vb}: exits {codes}, {took} took over"
        return Fault(time.monotonic(), said, tuple(problems))

    return inject
