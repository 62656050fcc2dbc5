"""The deploy lock's lease, takeover and keeper (plugins/module_utils/_lock.py and the module).

The module runs here as Ansible runs it on a host (a process given its
arguments as JSON), against a lock directory under tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils import _lock

REPO = Path(__file__).resolve().parents[4]
MODULE = (
    REPO / "collections/ansible_collections/stickforstats/deploy/plugins/modules/deploy_lock.py"
)
NOW = 1_800_000_000.0


def run_module(tmp_path: Path, **args: object) -> dict:
    """The deploy_lock module's result for ARGS (its JSON output)."""
    spec = tmp_path / f"args-{time.monotonic_ns()}.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    proc = subprocess.run(
        [sys.executable, str(MODULE), str(spec)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "collections")},
    )  # fmt: skip
    return json.loads(proc.stdout)


def warnings(result: dict) -> str:
    return json.dumps(result.get("warnings", []))


@pytest.fixture
def lock_path(tmp_path: Path):
    root = tmp_path / "root"
    yield str(root / "lock")
    # the keepers started by the tests end when their lock goes
    (root / "lock").unlink(missing_ok=True)


LIVE = {"token": "t1", "controller": "ci-1", "pid": 100, "lease": 60, "since_epoch": NOW - 500}


@pytest.mark.parametrize(
    ("lock", "caller", "renewed", "state"),
    [
        (None, _lock.Caller("t2"), 0, "free"),
        (LIVE, _lock.Caller("t1"), NOW, "mine"),
        # renewed 10 s ago, lease 60: alive whoever asks
        (LIVE, _lock.Caller("t2", "ci-2", 7, (7,)), NOW - 10, "live"),
        # not renewed for longer than its lease: dead
        (LIVE, _lock.Caller("t2", "ci-2", 7, (7,)), NOW - 61, "dead"),
        # same controller, its pid runs no ansible-playbook any more: dead at once
        (LIVE, _lock.Caller("t2", "ci-1", 7, (7,)), NOW - 1, "dead"),
        # same controller, its pid still runs ansible-playbook: alive
        (LIVE, _lock.Caller("t2", "ci-1", 7, (7, 100)), NOW - 1, "live"),
        # same controller but it cannot tell which pids live: the lease decides
        (LIVE, _lock.Caller("t2", "ci-1", 7, None), NOW - 1, "live"),
        # an older version's lock (no lease): stale_after is its lease
        ({"token": "t0", "since_epoch": NOW - 100}, _lock.Caller("t2"), NOW - 100, "live"),
        ({"token": "t0", "since_epoch": NOW - 4000}, _lock.Caller("t2"), NOW - 4000, "dead"),
    ],
)
def test_a_lock_is_free_mine_live_or_dead(lock, caller, renewed, state) -> None:
    found = {**lock, "renewed_epoch": renewed} if lock else None
    assert _lock.judge(found, caller, NOW, legacy_lease=3600).state == state


def test_a_lock_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = str(tmp_path / "lock")
    assert _lock.create(path, {"token": "a", "holder": "x"})
    assert not _lock.create(path, {"token": "b", "holder": "y"})
    assert json.loads(Path(path).read_text())["token"] == "a"
    assert sorted(os.listdir(tmp_path)) == ["lock"]  # nothing left aside


def test_an_empty_lock_from_a_crash_is_taken_over_once_its_lease_lapsed(
    tmp_path: Path, lock_path: str
) -> None:
    os.makedirs(os.path.dirname(lock_path))
    Path(lock_path).write_text("")
    old = time.time() - 4000
    os.utime(lock_path, (old, old))
    result = run_module(tmp_path, path=lock_path, token="t2", holder="b", lease=30)
    assert result.get("changed") is True, result
    assert "unreadable" in result["taken_over"]["holder"]
    assert json.loads(Path(lock_path).read_text())["token"] == "t2"


def test_a_live_lock_is_refused_naming_the_command_that_queues(
    tmp_path: Path, lock_path: str
) -> None:
    taken = run_module(tmp_path, path=lock_path, token="t1", holder="alice", controller="ci-1",
                       pid=100, live_pids=[100], purpose="deploy c0ffee2")  # fmt: skip
    assert taken["changed"], taken
    refused = run_module(
        tmp_path, path=lock_path, token="t2", holder="bob", controller="ci-2", pid=7,
        live_pids=[7], command="ansible-playbook deploy.yml -e release_lock_wait=900",
    )  # fmt: skip
    assert refused.get("failed"), refused
    assert "held by alice (ansible-playbook pid 100 on ci-1) for deploy c0ffee2" in refused["msg"]
    assert "it is alive" in refused["msg"]
    assert refused["msg"].endswith(": ansible-playbook deploy.yml -e release_lock_wait=900")


def test_a_dead_runs_lock_is_taken_over_at_once_on_its_controller(
    tmp_path: Path, lock_path: str
) -> None:
    run_module(tmp_path, path=lock_path, token="t1", controller="ci-1", pid=100, live_pids=[100])
    result = run_module(
        tmp_path, path=lock_path, token="t2", controller="ci-1", pid=7, live_pids=[7]
    )
    assert result["changed"], result
    assert result["taken_over"]["token"] == "t1"
    assert "pid 100 on ci-1) is gone" in result["taken_over"]["why"]
    assert "Took over the deploy lock" in warnings(result)


def test_a_run_queues_behind_a_live_lock_until_it_is_released(
    tmp_path: Path, lock_path: str
) -> None:
    run_module(tmp_path, path=lock_path, token="t1", controller="ci-1", pid=100, live_pids=[100])
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            run_module, tmp_path, path=lock_path, token="t2", controller="ci-2", wait=30
        )
        time.sleep(3)
        assert not waiting.done()
        released = run_module(tmp_path, path=lock_path, token="t1", state="absent")
        assert released["changed"], released
        result = waiting.result(timeout=60)
    assert result["changed"] and result["lock"]["token"] == "t2", result
    assert "taken_over" not in result and result["waited"] >= 2


def test_two_takeovers_of_one_dead_lock_race_and_one_wins(tmp_path: Path, lock_path: str) -> None:
    run_module(tmp_path, path=lock_path, token="dead", controller="ci-1", pid=100, lease=60)
    old = time.time() - 120
    os.utime(lock_path, (old, old))
    with ThreadPoolExecutor(4) as pool:
        runs = list(
            pool.map(
                lambda token: run_module(tmp_path, path=lock_path, token=token, controller=token),
                ["r1", "r2", "r3", "r4"],
            )
        )
    winners = [r for r in runs if r.get("changed")]
    assert len(winners) == 1, runs
    assert winners[0]["taken_over"]["token"] == "dead"
    assert all("it is alive" in r["msg"] for r in runs if r not in winners), runs
    assert json.loads(Path(lock_path).read_text())["token"] == winners[0]["lock"]["token"]


def test_the_keeper_renews_while_the_connection_lives_and_stops_when_it_ends(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "lock")
    assert _lock.create(path, {"token": "t1", "lease": 3})
    connection = subprocess.Popen(["sleep", "30"])  # stands in for the sshd session
    old = time.time() - 100
    os.utime(path, (old, old))
    script = tmp_path / "keeper.py"
    script.write_text(_lock.KEEPER)
    keeper = subprocess.Popen(
        [sys.executable, str(script), path, "t1", "3", str(connection.pid), str(time.time() + 60)]
    )
    try:
        time.sleep(2.5)
        renewed = os.stat(path).st_mtime
        assert renewed > time.time() - 3, "the keeper renewed the lease"
        connection.kill()
        connection.wait()
        keeper.wait(timeout=10)  # it ends at its next look
        assert keeper.returncode == 0
    finally:
        connection.kill()
        keeper.kill()


def test_the_keeper_ends_when_the_lock_is_no_longer_its_runs(tmp_path: Path) -> None:
    path = str(tmp_path / "lock")
    assert _lock.create(path, {"token": "t2", "lease": 3})
    old = time.time() - 100
    os.utime(path, (old, old))
    script = tmp_path / "keeper.py"
    script.write_text(_lock.KEEPER)
    keeper = subprocess.run(
        [sys.executable, str(script), path, "t1", "3", "0", str(time.time() + 60)],
        timeout=20, check=False,
    )  # fmt: skip
    assert keeper.returncode == 0
    assert os.stat(path).st_mtime == pytest.approx(old), "another run's lease is not renewed"


def test_the_connection_is_the_nearest_sshd_ancestor() -> None:
    # pytest runs under no sshd here (CI, a terminal): none is found, and that is said as 0
    found = _lock.connection_pid()
    if found:
        with open(f"/proc/{found}/comm", encoding="utf-8") as handle:
            assert handle.read().strip() in ("sshd", "sshd-session")
    assert _lock.connection_pid(999_999_999) == 0
