"""One deploy_lock call (plugins/module_utils/_lock_request.py), in process, on real files.

The module itself runs as a subprocess in test__lock.py; here the host's side (check
mode, warnings, the clock) is injected and no keeper process is started.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils import _lock, _lock_request
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import Layout
from ansible_collections.stickforstats.deploy.plugins.module_utils._lock_request import (
    POLL,
    Host,
    LockRequest,
    answer,
)

NOW = 1_800_000_000.0


class Clock:
    """time.time and time.monotonic that move only when slept."""

    def __init__(self) -> None:
        self.now = NOW
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def host(self, check_mode: bool = False, warned: list[str] | None = None) -> Host:
        return Host(
            check_mode=check_mode,
            warn=(warned if warned is not None else []).append,
            sleep=self.sleep,
            clock=lambda: self.now,
            monotonic=lambda: self.now,
        )


@pytest.fixture(autouse=True)
def no_keeper(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    started: list[tuple] = []
    monkeypatch.setattr(_lock, "start_keeper", lambda *args: started.append(args) or 1)
    return started


def deployed(tmp_path: Path, current: str = "c0ffee1", serving: str | None = None) -> Layout:
    """A root with c0ffee1 and c0ffee2 recorded, current at CURRENT, the proxy at SERVING."""
    layout = Layout(str(tmp_path / "opt"))
    for version in ("c0ffee1", "c0ffee2"):
        os.makedirs(layout.release_dir(version))
        Path(layout.manifest(version)).write_text(json.dumps({"version": version}))
    layout.switch_current(current)
    layout.append({"at": "2026-12-03T00:00:00Z", "event": "deploy", "version": current})
    if serving:
        os.makedirs(layout.proxy)
        release = layout.release_dir(serving) + "/"
        Path(layout.proxy_state).write_text(json.dumps({"release": release}))
    return layout


def test_the_options_become_a_typed_request() -> None:
    params = {
        "path": "/opt/s/lock", "state": "present", "token": None, "holder": "ci",
        "purpose": "deploy", "lease": 60, "wait": 0, "command": "", "controller": "vm",
        "pid": 4, "live_pids": [4, 5], "proxy_state": None, "stale_after": 3600,
        "break_stale": False, "directories": ["/opt/s/releases"], "history_last": 3,
    }  # fmt: skip
    request = LockRequest.from_params(params)
    assert request.token == "" and request.proxy_state == ""
    assert request.caller == _lock.Caller("", "vm", 4, (4, 5))
    assert request.layout == Layout("/opt/s")
    assert LockRequest.from_params({**params, "live_pids": None}).caller.live_pids is None


def test_nothing_deployed_answers_a_query_without_making_anything(tmp_path: Path) -> None:
    request = LockRequest(path=str(tmp_path / "none" / "lock"), state="query")
    done = answer(request, Clock().host())
    assert done.failure is None
    assert done.result == _lock_request.NOTHING_HERE
    assert not (tmp_path / "none").exists()


def test_a_free_lock_is_taken_with_the_layout_read_in_the_same_call(
    tmp_path: Path, no_keeper: list[tuple]
) -> None:
    layout = deployed(tmp_path)
    new = layout.release_dir("c0ffee3")
    request = LockRequest(path=layout.lock, token="t1", holder="ci", directories=(new,),
                          history_last=5)  # fmt: skip
    done = answer(request, Clock().host())
    assert done.failure is None
    result = done.result
    assert (result["changed"], result["lock_state"], result["current"]) == (True, "mine", "c0ffee1")
    assert result["kept"] == ["c0ffee1", "c0ffee2"]
    assert [e["version"] for e in result["history"]] == ["c0ffee1"]
    assert result["made"] == [new] and os.path.isdir(new)
    assert json.loads(Path(layout.lock).read_text())["token"] == "t1"
    assert [args[:3] for args in no_keeper] == [(layout.lock, "t1", 60)]
    again = answer(request, Clock().host())  # the same run asks again: nothing changes
    assert (again.result["changed"], again.result["lock_state"]) == (False, "mine")


def test_a_live_lock_is_queued_behind_then_refused_naming_the_wait(tmp_path: Path) -> None:
    layout = deployed(tmp_path)
    assert answer(LockRequest(path=layout.lock, token="t1"), Clock().host()).failure is None
    clock = Clock()
    clock.now = os.stat(layout.lock).st_mtime + 1
    done = answer(LockRequest(path=layout.lock, token="t2", wait=5), clock.host())
    assert done.failure is not None and "it is alive" in done.failure
    assert done.failure.endswith("Waited 5 s for it.")
    assert clock.slept == [POLL, POLL, POLL]
    assert done.result["lock_state"] == "live"
    assert json.loads(Path(layout.lock).read_text())["token"] == "t1"


def test_a_query_reconciles_current_with_what_serves(tmp_path: Path) -> None:
    layout = deployed(tmp_path, current="c0ffee1", serving="c0ffee2")
    warned: list[str] = []
    done = answer(LockRequest(path=layout.lock, state="query"), Clock().host(warned=warned))
    assert done.result["current"] == done.result["serving"] == "c0ffee2"
    assert done.result["reconciled"]["from"] == "c0ffee1"
    assert layout.current() == "c0ffee2"
    assert layout.events()[-1]["event"] == "reconcile"
    assert "Records reconciled" in warned[0]


def test_check_mode_takes_nothing_and_reconciles_nothing(tmp_path: Path) -> None:
    layout = deployed(tmp_path, current="c0ffee1", serving="c0ffee2")
    done = answer(LockRequest(path=layout.lock, token="t1"), Clock().host(check_mode=True))
    assert done.result["lock_state"] == "mine" and done.result["changed"] is True
    assert done.result["reconciled"]["to"] == "c0ffee2"
    assert not os.path.exists(layout.lock)
    assert layout.current() == "c0ffee1"
    assert "made" not in done.result


def test_only_the_holder_releases(tmp_path: Path) -> None:
    layout = deployed(tmp_path)
    answer(LockRequest(path=layout.lock, token="t1"), Clock().host())
    other = answer(LockRequest(path=layout.lock, state="absent", token="t2"), Clock().host())
    assert other.result["changed"] is False and os.path.exists(layout.lock)
    mine = answer(LockRequest(path=layout.lock, state="absent", token="t1"), Clock().host())
    assert (mine.result["changed"], mine.result["lock"]) == (True, {})
    assert not os.path.exists(layout.lock)
