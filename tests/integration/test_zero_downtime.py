"""Zero downtime: the rolling strategy under 50 requests/s, end to end over SSH.

A prober sends 50 requests/s to the target's front door through each run; a
request fails when it does not answer 200 within PROBE_TIMEOUT s (a refused or
reset connection, a 502/503/504, no answer). Each test asserts that none failed
and that the traffic really moved (or, for a refused deploy, never moved).

Also here: Postgres and Redis are never recreated by a release; Celery beat
never runs twice at once while workers overlap (both read from the Redis list
the sample app's worker and beat append "start"/"stop" to); a long request in
flight at the switch completes; rollback.yml within the warm window is a
traffic switch (no container started); the recreate strategy stays available.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from ansible_run import REPO, ROOT, deploy, http, on_target, playbook, serving

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.prober import Prober, Sample

pytestmark = pytest.mark.docker
V1, V2, V3, UNHEALTHY = "c0ffee1", "c0ffee2", "c0ffee3", "badbad1"
PROBE_TIMEOUT = 5.0  # seconds; the bench's prober uses 1 s on an idle machine


def probed(target: dict, run) -> tuple[object, list[Sample], tuple[float, float]]:
    """RUN() while 50 requests/s go to TARGET's front door: its result, every sample,
    and when the run started and ended (seconds since the first sample)."""
    prober = Prober(target["http"], rate=50.0, timeout=PROBE_TIMEOUT, max_duration=600)
    prober.start()
    time.sleep(1)
    started = time.time()
    try:
        result = run()
    finally:
        ended = time.time()
        time.sleep(1)
        samples = prober.stop()
    t0 = samples[0].sent if samples else started
    return result, samples, (started - t0, ended - t0)


def dropped(target: dict, run, samples: list[Sample], span: tuple[float, float]) -> str:
    """Why requests failed, as far as the target tells: the failures, when the run
    started and ended, what the deploy printed last, the retire jobs' log and the
    containers (a failure in CI is seldom reproduced)."""
    retired = subprocess.run(
        ["docker", "exec", target["container"], "sh", "-c",
         f"tail -n 20 {ROOT}/proxy/retire.log 2>/dev/null; docker ps -a --format '{{{{.Names}}}} {{{{.Status}}}}'"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return (
        f"failed: {failures(samples)[:20]}\n"
        f"run from {span[0]:.2f}s to {span[1]:.2f}s\n"
        f"run output (end):\n{getattr(run, 'stdout', '')[-4000:]}\n"
        f"retire.log and containers:\n{retired}"
    )


def failures(samples: list[Sample]) -> list[str]:
    start = samples[0].sent if samples else 0
    return [f"{s.sent - start:.2f}s {s.kind}" for s in samples if not s.ok]


def versions(samples: list[Sample]) -> list[str]:
    """The versions that answered: the first, then the last if another.

    Right at a reload both releases can answer for a moment (nginx's old worker
    still accepts until it is told to stop): that is no failure.
    """
    answered = [s.version for s in samples if s.ok and s.version]
    if not answered:
        return []
    return [answered[0]] if answered[-1] == answered[0] else [answered[0], answered[-1]]


def data_containers(target: dict) -> str:
    return on_target(
        target,
        "docker inspect -f '{{.Name}} {{.Id}} {{.State.StartedAt}}' stickforstats_db stickforstats_redis",
    )


def web_containers(target: dict) -> set[str]:
    return set(
        on_target(
            target,
            "docker ps -q --no-trunc --filter label=com.docker.compose.project=stickforstats"
            " --filter label=com.docker.compose.service=backend",
        ).split()
    )


def lifecycle(target: dict, role: str) -> list[tuple[float, str, str]]:
    """(time, start|stop, container host name) lines the sample app's ROLE wrote to
    Redis (database 1, the broker's)."""
    out = on_target(
        target,
        f"docker exec stickforstats_redis redis-cli --no-auth-warning -n 1 LRANGE lifecycle:{role} 0 -1",
    )
    events = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            events.append((float(parts[2]), parts[0], parts[1]))
    return sorted(events)


def most_at_once(events: list[tuple[float, str, str]]) -> tuple[int, int]:
    """(most running at once, fewest running at once) over EVENTS; a host whose
    first event is a stop was running from the start."""
    first: dict[str, str] = {}
    for _at, what, host in events:
        first.setdefault(host, what)
    running = {host for host, what in first.items() if what == "stop"}
    most = fewest = len(running)
    for _at, what, host in events:
        if what == "start":
            running.add(host)
        else:
            running.discard(host)
        most, fewest = max(most, len(running)), min(fewest, len(running))
    return most, fewest


@pytest.fixture(scope="module")
def rolling(ssh_target) -> dict:
    """V1 serving under the rolling strategy, with the data containers' identity noted."""
    run = deploy(ssh_target, V1)
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V1
    on_target(
        ssh_target,
        "docker exec stickforstats_redis redis-cli --no-auth-warning -n 1 DEL lifecycle:beat lifecycle:worker",
    )
    return {"data": data_containers(ssh_target)}


def test_good_deploy_drops_no_request(ssh_target, rolling):
    run, samples, span = probed(ssh_target, lambda: deploy(ssh_target, V2))
    assert run.returncode == 0, run.stdout[-5000:]
    assert failures(samples) == [], dropped(ssh_target, run, samples, span)
    assert versions(samples) == [V1, V2]
    assert len(samples) > 50 * 10  # the prober ran through the deploy
    state = on_target(ssh_target, f"cat {ROOT}/proxy/state.json")
    assert '"warm": ["stickforstats-' in state  # V1's web containers stay ready


def test_postgres_and_redis_are_never_recreated(ssh_target, rolling):
    run = deploy(ssh_target, V3)
    assert run.returncode == 0, run.stdout[-5000:]
    assert data_containers(ssh_target) == rolling["data"]


def test_beat_never_runs_twice_while_workers_overlap(ssh_target, rolling):
    beat = lifecycle(ssh_target, "beat")
    worker = lifecycle(ssh_target, "worker")
    # two deploys so far in this module: each replaced beat and the worker once
    assert sum(1 for e in beat if e[1] == "start") >= 2, beat
    assert most_at_once(beat)[0] == 1, beat
    most, fewest = most_at_once(worker)
    assert most == 2, worker  # the new worker started before the old one stopped
    assert fewest >= 1, worker  # and a worker was running all along


def test_unhealthy_version_is_refused_without_a_failed_request(ssh_target, rolling):
    before = web_containers(ssh_target)
    run, samples, span = probed(ssh_target, lambda: deploy(ssh_target, UNHEALTHY))
    assert run.returncode != 0
    assert "fails its healthcheck" in run.stdout, run.stdout[-5000:]
    assert failures(samples) == [], dropped(ssh_target, run, samples, span)
    assert versions(samples) == [V3]  # the traffic never moved
    assert serving(ssh_target) == V3
    assert web_containers(ssh_target) == before  # the new containers were removed
    assert data_containers(ssh_target) == rolling["data"]


def test_rollback_within_the_warm_window_is_a_traffic_switch(ssh_target, rolling):
    warm = on_target(ssh_target, f"cat {ROOT}/proxy/state.json")
    run, samples, span = probed(
        ssh_target, lambda: playbook(ssh_target["inventory"], "rollback.yml")
    )
    assert run.returncode == 0, run.stdout[-5000:]
    assert failures(samples) == [], dropped(ssh_target, run, samples, span)
    assert versions(samples) == [V3, V2]
    assert serving(ssh_target) == V2
    # V2's backend container is the one that was warm: none was started
    backend = on_target(
        ssh_target,
        "docker ps --format '{{.Names}}' --filter label=com.docker.compose.service=backend",
    ).split()
    assert len(backend) == 1 and f'"{backend[0]}"' in warm, (backend, warm)


def test_long_request_in_flight_at_the_switch_completes(ssh_target, rolling):
    """With no warm window the old containers stop right after the switch: they
    finish the request in flight first (SIGTERM drains, bounded by 30 s)."""
    answer: dict = {}
    runs: list = []

    def slow() -> None:
        req = urllib.request.Request(
            f"http://127.0.0.1:{ssh_target['http']}/api/v1/slow/?s=30",
            headers={"Host": "localhost"},
        )
        try:
            with urllib.request.urlopen(req, timeout=90) as resp:
                answer["status"] = resp.status
                answer["body"] = resp.read().decode()
        except OSError as exc:
            answer["error"] = repr(exc)

    before = web_containers(ssh_target)
    request = threading.Thread(target=slow)
    request.start()
    time.sleep(1)
    deploying = threading.Thread(
        target=lambda: runs.append(deploy(ssh_target, V3, "-e", "deploy_warm_window=0"))
    )
    deploying.start()
    switched_in_flight = False
    for _ in range(240):  # bounded: 120 s
        if http(ssh_target, "/api/v1/version/").get("version") == V3:
            switched_in_flight = request.is_alive()
            break
        time.sleep(0.5)
    deploying.join(timeout=300)
    request.join(timeout=90)
    assert runs and runs[0].returncode == 0, runs[0].stdout[-5000:] if runs else "no run"
    assert switched_in_flight, "the traffic moved after the long request ended: nothing was tested"
    assert answer.get("status") == 200, answer
    assert f'"version": "{V2}"' in answer["body"], answer  # served to the end by the old release
    assert not (web_containers(ssh_target) & before)  # the old backend is gone, after draining


def test_recreate_strategy_is_still_available(ssh_target, rolling):
    run = deploy(ssh_target, V1, "-e", "release_strategy=recreate")
    assert run.returncode == 0, run.stdout[-5000:]
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    assert on_target(ssh_target, f"ls {ROOT}/proxy").split().count("upstreams.conf") == 0
    assert data_containers(ssh_target) == rolling["data"]
    # and back to rolling, from a host the recreate strategy left
    run, samples, span = probed(ssh_target, lambda: deploy(ssh_target, V2))
    assert run.returncode == 0, run.stdout[-5000:]
    assert failures(samples) == [], dropped(ssh_target, run, samples, span)
    assert versions(samples) == [V1, V2]
