"""The health gate judges this run (issue 14, item 1), on a target over SSH.

A data service killed once long ago (as an OOM kill does; its restart policy
brought it back, RestartCount 1) must not block every later deploy, nor make
status.yml say NOT OK for ever; and a declared one-shot service that exited 0
is done, not down. Restarts and exits during the run still fail the gate: the
module's unit tests (tests/unit/plugins/modules/test_health_check.py) show those.

Two deploys: c0ffee1 from the sample app, then c0ffee2 from a copy of it with a
one-shot service `init` (label stickforstats.deploy.oneshot, restart "no") that
exits 0; then rollback.yml back to c0ffee1. The shared sample app is not changed: the next deploy of another test
removes `init` (the rolling rollout removes containers of services the compose
file no longer has).
"""

from __future__ import annotations

import calendar
import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from ansible_run import REPO, deploy, history, http, on_target, playbook, serving

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"
PROJECT = "stickforstats"
ONESHOT_LABEL = "stickforstats.deploy.oneshot"


def service_containers(target: dict, service: str) -> list[str]:
    """Ids of the containers of SERVICE in the project, on the target's engine."""
    return on_target(
        target,
        f"docker ps --all --quiet --filter label=com.docker.compose.project={PROJECT}"
        f" --filter label=com.docker.compose.service={service}",
    ).split()


def service_container(target: dict, service: str) -> str:
    """Id of the one container of SERVICE in the project."""
    ids = service_containers(target, service)
    assert len(ids) == 1, (service, ids)
    return ids[0]


def inspect(target: dict, container: str) -> dict:
    return json.loads(on_target(target, f"docker inspect {container}"))[0]


def wait_for(target: dict, container: str, ready, what: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        seen = inspect(target, container)
        if ready(seen):
            return seen
        assert time.monotonic() < deadline, f"{what}: {json.dumps(seen['State'])[:800]}"
        time.sleep(0.5)


def healthy(seen: dict) -> bool:
    state = seen["State"]
    return state["Status"] == "running" and (state.get("Health") or {}).get("Status") == "healthy"


@pytest.fixture(scope="module", autouse=True)
def redis_as_found(ssh_target):
    """At the end, redis's restart count back to 0 (a start by hand resets it), for the
    tests after these on the same target."""
    yield
    redis = service_container(ssh_target, "redis")
    on_target(ssh_target, f"docker restart {redis}")
    wait_for(
        ssh_target,
        redis,
        lambda seen: seen["RestartCount"] == 0 and healthy(seen),
        "redis did not come back healthy with its restart count reset",
    )


def app_with_a_one_shot_service(directory: Path) -> Path:
    """A copy of the sample app whose compose file has a one-shot service `init`."""
    app = directory / "app"
    shutil.copytree(REPO / "tests" / "sample_app", app)
    compose_file = app / "docker-compose.prod.yml"
    compose = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    compose["services"]["init"] = {
        "image": compose["services"]["redis"]["image"],  # on the host already
        "entrypoint": ["redis-server", "--version"],  # prints its version, exits 0
        "restart": "no",
        "labels": {ONESHOT_LABEL: "true"},
    }
    compose_file.write_text(yaml.safe_dump(compose, sort_keys=False), encoding="utf-8")
    return app


def health_column(output: str, host: str) -> str:
    lines = [line.split() for line in output.splitlines() if line.strip().startswith(host + " ")]
    assert lines, output[-3000:]
    return lines[0][3]


def test_a_past_restart_and_a_finished_one_shot_service_do_not_block_the_gate(ssh_target, tmp_path):
    run = deploy(ssh_target, V1)
    assert run.returncode == 0, run.stdout[-5000:]

    # redis-server killed once (as an OOM kill does); `restart: unless-stopped` brings it back
    redis = service_container(ssh_target, "redis")
    before = inspect(ssh_target, redis)
    restarts = before["RestartCount"] + 1
    on_target(ssh_target, f"kill -KILL {before['State']['Pid']}")
    wait_for(
        ssh_target,
        redis,
        lambda seen: seen["RestartCount"] == restarts and healthy(seen),
        "redis did not come back, healthy, restarted by Docker",
    )

    app = app_with_a_one_shot_service(tmp_path)
    run = deploy(ssh_target, V2, "-e", f"deploy_app_dir={app}", "-v")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V2
    assert http(ssh_target, "/api/v1/health/")["version"] == V2
    last = history(ssh_target)[-1]
    assert (last["event"], last["version"], last["outcome"]) == ("deploy", V2, "success")
    # the gate saw both: redis, restarted before this run, and init, done
    assert inspect(ssh_target, redis)["RestartCount"] == restarts
    init = inspect(ssh_target, service_container(ssh_target, "init"))
    assert (init["State"]["Status"], init["State"]["ExitCode"]) == ("exited", 0)
    # ... against the baseline of when this run took its lock: before the web containers
    # it started (the check's own start, the default, would come after them)
    notes = " ".join(run.stdout.split())
    assert f"(redis) restarted {restarts} times before the baseline" in notes, run.stdout[-5000:]
    assert "(init) is one-shot and exited with code 0" in notes, run.stdout[-5000:]
    since = [float(s) for s in re.findall(r"^\s*since: ([0-9.]+)$", run.stdout, re.MULTILINE)]
    assert since, run.stdout[-5000:]
    new = [
        seen
        for seen in (inspect(ssh_target, c) for c in service_containers(ssh_target, "backend"))
        # the release runs repo:tag@sha256:... (pinned at the pull)
        if seen["Config"]["Image"].split("@")[0].endswith(f":{V2}")
    ]
    assert new, "no backend container of c0ffee2"
    started = new[0]["State"]["StartedAt"]
    assert since[-1] < calendar.timegm(time.strptime(started[:19], "%Y-%m-%dT%H:%M:%S")), (
        since,
        started,
    )

    run = playbook(ssh_target["inventory"], "status.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    assert "NOT OK" not in run.stdout, run.stdout[-5000:]
    assert health_column(run.stdout, "test-1") == "ok"


def test_the_rollback_gate_judges_its_own_run_too(ssh_target):
    """rollback.yml's gate: redis's past restart is history against its lock's time."""
    started = time.time()
    run = playbook(ssh_target["inventory"], "rollback.yml", "-e", f"rollback_to={V1}", "-v")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V1
    assert "(redis) restarted" in run.stdout and "before the baseline" in run.stdout
    since = [float(s) for s in re.findall(r"^\s*since: ([0-9.]+)$", run.stdout, re.MULTILINE)]
    assert since and started - 5 < since[-1] < time.time(), (started, since)


def test_status_still_says_not_ok_for_a_service_that_stopped(ssh_target):
    """The control: a container that stopped, not declared one-shot, is a service down.
    (status.yml sees the project's services only: a container started by hand under a
    service name the compose file does not have is not listed by Compose.)"""
    beat = service_container(ssh_target, "beat")
    on_target(ssh_target, f"docker stop --time 10 {beat}")
    try:
        run = playbook(ssh_target["inventory"], "status.yml")
    finally:
        on_target(ssh_target, f"docker start {beat}")
    assert run.returncode == 0, run.stdout[-5000:]
    assert "NOT OK: container" in run.stdout, run.stdout[-5000:]
    assert "(beat) exited with code" in " ".join(run.stdout.split()), run.stdout[-5000:]
