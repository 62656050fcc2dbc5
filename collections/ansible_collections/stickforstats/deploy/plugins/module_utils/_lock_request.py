"""One call of the deploy_lock module: take, release or look at the lock of a host.

answer() decides and acts; the module only turns its options into a LockRequest and
the Answer into exit_json or fail_json. The host's side (warnings, check mode, the
clock and the pause between two looks at a live lock) is injected, for tests.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils import _lock
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import Layout
from ansible_collections.stickforstats.deploy.plugins.module_utils._truth import (
    reconcile,
    serving_release,
)

# Seconds between two looks at a live lock while queueing behind it.
POLL = 2.0
# The keeper of a lease ends at the latest this long after it started (or stale_after).
KEEPER_MAX = 24 * 3600


@dataclass(frozen=True)
class LockRequest:
    """The deploy_lock module's options (see its DOCUMENTATION)."""

    path: str
    state: str = "present"
    token: str = ""
    holder: str = "unknown"
    purpose: str = "deploy"
    lease: int = 60
    wait: int = 0
    command: str = ""
    controller: str = ""
    pid: int = 0
    live_pids: tuple[int, ...] | None = None
    proxy_state: str = ""
    stale_after: int = 3600
    break_stale: bool = False
    directories: tuple[str, ...] = ()
    history_last: int = 0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> LockRequest:
        live = params.get("live_pids")
        return cls(
            path=params["path"],
            state=params["state"],
            token=params["token"] or "",
            holder=params["holder"],
            purpose=params["purpose"],
            lease=params["lease"],
            wait=params["wait"],
            command=params["command"],
            controller=params["controller"],
            pid=params["pid"],
            live_pids=tuple(live) if live is not None else None,
            proxy_state=params["proxy_state"] or "",
            stale_after=params["stale_after"],
            break_stale=params["break_stale"],
            directories=tuple(params["directories"] or ()),
            history_last=params["history_last"],
        )

    @property
    def layout(self) -> Layout:
        return Layout.of_lock(self.path)

    @property
    def caller(self) -> _lock.Caller:
        return _lock.Caller(self.token, self.controller, self.pid, self.live_pids)


@dataclass(frozen=True)
class Host:
    """What answer() needs from the module: check mode, warnings, time."""

    check_mode: bool = False
    warn: Callable[[str], None] = lambda message: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


@dataclass
class Answer:
    """The module's result (its return values), and why it failed (None when it did not)."""

    result: dict[str, Any] = field(default_factory=dict)
    failure: str | None = None


NOTHING_HERE = {
    "changed": False, "lock": {}, "current": "", "kept": [], "history": [], "reconciled": {},
    "lock_state": "free", "lock_why": "", "serving": "",
}  # fmt: skip


def answer(request: LockRequest, host: Host) -> Answer:
    """Takes, releases or reports the lock of REQUEST, queueing behind a live one for
    request.wait seconds, looking again every POLL seconds outside the guard."""
    root = request.layout.root
    if request.state == "present" and not host.check_mode:
        make_directories([root])
    elif not os.path.isdir(root):  # nothing was ever deployed here: nothing to look at or make
        return Answer(dict(NOTHING_HERE))
    started = host.monotonic()
    deadline = started + max(0, request.wait) if request.state == "present" else started
    while True:
        with _lock.guarded(request.path) if not host.check_mode else contextlib.nullcontext():
            done = one_look(request, host, started, deadline)
        if done is not None:
            return done
        host.sleep(POLL)


def one_look(request: LockRequest, host: Host, started: float, deadline: float) -> Answer | None:
    """One look at the lock (under its guard): the answer, or None to queue and look again."""
    now = host.clock()
    found = _lock.read(request.path)
    verdict = _lock.judge(found, request.caller, now, request.stale_after)
    result = look(request, host, found, verdict, now)
    if request.state == "query":
        return Answer(result)
    if request.state == "absent":
        if verdict.state == "mine":
            if not host.check_mode:
                _lock.remove(request.path)
            result.update(changed=True, lock={}, lock_state="free", lock_why="")
        return Answer(result)
    if verdict.state == "mine":
        return held(request, host, result)
    if verdict.state == "live" and not legacy_breakable(found, request, now):
        if host.monotonic() < deadline:
            return None
        return Answer(result, refusal(request, found or {}, verdict, now))
    return take(request, host, found, verdict, result, now, started)


def look(
    request: LockRequest, host: Host, found: dict | None, verdict: _lock.Verdict, now: float
) -> dict[str, Any]:
    """What the host holds: the lock, what serves (reconciled unless a live run works), kept, history."""
    layout = request.layout
    proxy_state = request.proxy_state or layout.proxy_state
    reconciled: dict = {}
    if verdict.state != "live":
        reconciled = reconcile(layout.root, proxy_state, request.holder, write=not host.check_mode)
        if reconciled:
            host.warn(
                f"Records reconciled: current named {reconciled['from'] or 'nothing'}, but"
                f" {reconciled['to']} serves (a run that did not finish); current now names"
                f" {reconciled['to']}, recorded in the history."
            )
    current = reconciled.get("to") or layout.current()
    result: dict[str, Any] = {
        "changed": bool(reconciled) and not host.check_mode,
        "lock": found or {},
        "lock_state": verdict.state,
        "lock_why": verdict.why,
        "current": current,
        "serving": serving_release(layout.root, proxy_state) or current,
        "kept": layout.kept(),
        "history": layout.events(request.history_last),
        "reconciled": reconciled,
    }
    if found and found.get("since_epoch"):
        result["age"] = round(now - float(found["since_epoch"]), 1)
    return result


def legacy_breakable(lock: dict | None, request: LockRequest, now: float) -> bool:
    """A lock without a lease (an older version's), older than stale_after, with break_stale."""
    if not lock or lock.get("lease") or not request.break_stale:
        return False
    return now - float(lock.get("since_epoch") or now) > request.stale_after


def refusal(request: LockRequest, lock: dict, verdict: _lock.Verdict, now: float) -> str:
    """The one-line refusal of a live lock: who holds it, and how to queue behind it."""
    msg = f"Deploy lock {request.path} is {_lock.describe(lock, now)}; it is alive ({verdict.why})."
    if request.wait > 0:
        return msg + f" Waited {request.wait} s for it."
    queue = f": {request.command}" if request.command else " with -e release_lock_wait=SECONDS"
    return (
        msg + " Wait for it to finish, or queue behind it (a dead run's lock is taken over"
        f" on its own within {int(lock.get('lease') or request.stale_after)} s){queue}"
    )


def new_lock(request: LockRequest, now: float) -> dict[str, Any]:
    """The lock file's content for this run, taken at NOW."""
    return {
        "holder": request.holder,
        "purpose": request.purpose,
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "since_epoch": now,
        "token": request.token,
        "controller": request.controller,
        "pid": request.pid,
        "lease": request.lease,
    }


def take(
    request: LockRequest, host: Host, found: dict | None, verdict: _lock.Verdict,
    result: dict[str, Any], now: float, started: float,
) -> Answer:  # fmt: skip
    """Takes the lock (taking over a dead run's) and starts its keeper."""
    path = request.path
    if found:
        why = verdict.why or f"older than {request.stale_after} s, broken with break_stale"
        result["taken_over"] = {**found, "why": why}
        host.warn(f"Took over the deploy lock {path}, {_lock.describe(found, now)}: {why}")
        if not host.check_mode:
            _lock.remove(path)
    lock = new_lock(request, now)
    if not host.check_mode:
        if not _lock.create(path, lock):  # never under the guard; a writer that ignores it
            return Answer(result, f"Deploy lock {path} was just taken by another run.")
        until = now + max(request.stale_after, KEEPER_MAX)
        _lock.start_keeper(path, request.token, request.lease, until)
    if host.monotonic() - started > POLL:
        result["waited"] = round(host.monotonic() - started, 1)
    result.update(changed=True, lock=lock, lock_state="mine", lock_why="")
    return held(request, host, result)


def held(request: LockRequest, host: Host, result: dict[str, Any]) -> Answer:
    """The answer with the lock held by this run, its directories made."""
    if not host.check_mode:
        result["made"] = make_directories(request.directories)
    return Answer(result)


def make_directories(paths: list[str] | tuple[str, ...]) -> list[str]:
    """Makes each missing directory (mode 0750); returns those made."""
    made = []
    for directory in paths:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o750, exist_ok=True)
            os.chmod(directory, 0o750)
            made.append(directory)
    return made
