"""status.yml on a target over SSH: what serves, since when, health, rollback
targets and the lock, as a table; and it changes nothing on the host."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest
from ansible_run import ROOT, changed, deploy, on_target, playbook, serving, target_files_digest

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"


@pytest.fixture(scope="module")
def two_releases(ssh_target) -> None:
    """V1 then V2 deployed: V2 serves, V1 is a rollback target."""
    for version in (V1, V2):
        run = deploy(ssh_target, version)
        assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V2


def table_line(output: str, host: str) -> list[str]:
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(host + " ")]
    assert lines, output[-3000:]
    return lines[0].split()


def test_status_names_what_serves_its_health_and_the_rollback_targets(ssh_target, two_releases):
    before = target_files_digest(ssh_target["container"], ROOT)
    run = playbook(ssh_target["inventory"], "status.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    host, version, since, health, *rest = table_line(run.stdout, "test-1")
    assert (host, version, health) == ("test-1", V2, "ok")
    assert since.startswith("20") and since.endswith("Z")
    assert V1 in " ".join(rest) and rest[-1] == "free"
    assert f"deploy {V2} success" in run.stdout  # the last history events
    assert changed(run.stdout) == 0
    assert target_files_digest(ssh_target["container"], ROOT) == before


def test_status_shows_who_holds_the_lock(ssh_target, two_releases):
    lock = {"holder": "another-operator", "purpose": "deploy c0ffee3",
            "since": "2026-01-01T00:00:00Z", "since_epoch": time.time(), "token": "theirs"}  # fmt: skip
    on_target(ssh_target, f"echo '{json.dumps(lock)}' > {ROOT}/lock")
    try:
        run = playbook(ssh_target["inventory"], "status.yml")
    finally:
        on_target(ssh_target, f"rm -f {ROOT}/lock")
    assert run.returncode == 0, run.stdout[-5000:]
    assert "another-operator for deploy c0ffee3 since 2026-01-01T00:00:00Z" in run.stdout


def controller_name() -> str:
    """The controller's name as the deploy_lock action plugin tells it."""
    return os.environ.get("STICKFORSTATS_CONTROLLER") or socket.gethostname()


def dead_pid() -> int:
    """A pid that runs nothing (a process that has ended)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def killed_run_lock(controller: str, pid: int) -> dict:
    """The lock a deploy left when it was killed after its switch: fresh, not renewed."""
    return {"holder": "killed-operator", "purpose": "deploy c0ffee9", "since": "2026-01-01T00:00:00Z",
            "since_epoch": time.time(), "token": "killed", "controller": controller, "pid": pid,
            "lease": 60}  # fmt: skip


def status_with_lock(target: dict, lock: dict, current: str) -> tuple[str, str]:
    """status.yml's output with LOCK in place and `current` left naming CURRENT (as a
    run killed between its switch and its record leaves them); then `current`."""
    on_target(
        target,
        f"echo '{json.dumps(lock)}' > {ROOT}/lock && ln -sfn releases/{current} {ROOT}/current",
    )
    try:
        run = playbook(target["inventory"], "status.yml")
        assert run.returncode == 0, run.stdout[-5000:]
        return run.stdout, serving(target)
    finally:
        on_target(target, f"rm -f {ROOT}/lock && ln -sfn releases/{V2} {ROOT}/current")


def test_status_says_a_dead_runs_lock_is_dead_and_mends_current(ssh_target, two_releases):
    """Same controller, the run's ansible-playbook gone: dead at once."""
    output, current = status_with_lock(
        ssh_target, killed_run_lock(controller_name(), dead_pid()), current=V1
    )
    version = table_line(output, "test-1")[1]
    assert version == V2 and current == V2  # reconciled: current names what serves
    assert "killed-operator for deploy c0ffee9 since 2026-01-01T00:00:00Z: dead (its run" in output
    assert "taken over by the next deploy or rollback" in output


def test_status_says_when_a_live_looking_lock_lapses(ssh_target, two_releases):
    """Another controller's lock, renewed just now: status cannot tell it dead, says when
    it would be taken over, names what the front door serves and writes nothing."""
    output, current = status_with_lock(
        ssh_target, killed_run_lock("another-controller", 4242), current=V1
    )
    version = table_line(output, "test-1")[1]
    assert version == V2 and current == V1  # what serves, said; current left to the run
    assert "killed-operator for deploy c0ffee9 since 2026-01-01T00:00:00Z: renewed" in output
    assert "lease 60 s" in output


def project_containers(target: dict) -> dict[str, dict]:
    """Name -> {service, config, state} of the project's containers."""
    fmt = '{{.Names}} {{.Label "com.docker.compose.service"}} {{.Label "org.stickforstats.config"}} {{.State}}'
    lines = on_target(
        target,
        f"docker ps --all --filter label=com.docker.compose.project=stickforstats --format '{fmt}'",
    ).splitlines()
    found = {}
    for line in lines:
        name, service, config, state = [*line.split(" "), "", "", ""][:4]
        found[name] = {"service": service, "config": config, "state": state}
    return found


def test_stopped_containers_of_a_release_that_no_longer_serves_are_leftovers(
    ssh_target, two_releases
):
    """A deploy killed after its switch (fault campaign, rollout-switched) leaves the old
    release's web containers stopped (exit 0, drained) but not removed: status.yml says
    health ok and names them; a failure of the serving release's containers is still
    one (tests/unit/plugins/module_utils/test__health_leftovers.py); the next deploy
    removes them. Last in this file: it deploys V1."""
    state = json.loads(on_target(ssh_target, f"cat {ROOT}/proxy/state.json"))
    active = {name for names in state["active"].values() for name in names}
    before = project_containers(ssh_target)
    old = sorted(
        name
        for name, c in before.items()
        if c["service"] in state["active"] and c["config"] and name not in active
    )
    assert old, before  # V1's web containers, warm
    on_target(ssh_target, f"docker stop --time 30 {' '.join(old)}")  # as the rollout stops them
    run = playbook(ssh_target["inventory"], "status.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    _, version, _, health, *_ = table_line(run.stdout, "test-1")
    assert (version, health) == (V2, "ok"), run.stdout[-3000:]
    said = f"{len(old)} stopped containers of a release that does not serve ({', '.join(old)})"
    assert said in run.stdout, run.stdout[-3000:]

    assert deploy(ssh_target, V1).returncode == 0
    after = project_containers(ssh_target)
    assert not set(old) & set(after), after
    run = playbook(ssh_target["inventory"], "status.yml")
    assert "stopped containers of a release that does not serve" not in run.stdout
