"""Tests of plugins/module_utils/_containers.py: the one judge of a container, shared by
compose_rollout (readiness of new and older web containers) and health_check (restarts
since a baseline, one-shot services), and the record read from `docker inspect`."""

from __future__ import annotations

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import (
    FATAL,
    GOOD,
    PENDING,
    Container,
    from_compose_ps,
    from_inspect,
    judge,
)

SINCE = 1796292000.0  # 2026-12-03T10:00:00Z
EARLIER = "2026-12-03T09:00:00Z"  # the current run started before the baseline
LATER = "2026-12-03T10:00:05Z"  # ... at or after it


def c(state: str = "running", health: str = "", **fields) -> Container:
    return Container(name="app-backend-1", service="backend", state=state, health=health,
                     running=state == "running", **fields)  # fmt: skip


# (container, judge's keyword arguments, verdict, cause, restarts counted)
TABLE = [
    # the states, whoever asks
    (c(), {}, GOOD, "no healthcheck", False),
    (c(health="healthy"), {}, GOOD, "healthy", False),
    (c(health="starting"), {}, PENDING, "starting", False),
    (c(health="weird"), {}, PENDING, "health", False),
    (c("created"), {}, PENDING, "created", False),
    (c("removing"), {}, PENDING, "not running", False),
    (c("exited", exit_code=3), {}, FATAL, "exited", False),
    (c("dead"), {}, FATAL, "dead", False),
    (c("restarting"), {}, FATAL, "restarting", False),
    (c(health="unhealthy"), {}, FATAL, "unhealthy", False),
    (c("paused", health="healthy"), {}, FATAL, "paused", False),
    # restarts: every one counts without a baseline (compose_rollout's new container) ...
    (c(restarts=1, started_at=EARLIER), {}, FATAL, "restarted", True),
    (c(health="unhealthy", restarts=2), {}, FATAL, "unhealthy", True),
    (c("exited", restarts=2), {}, FATAL, "exited", True),
    # ... none for an older container (compose_rollout: warm, or serving already) ...
    (c(restarts=5), {"count_restarts": False}, GOOD, "no healthcheck", False),
    (c(health="healthy", restarts=5), {"count_restarts": False}, GOOD, "healthy", False),
    (c("exited", restarts=5), {"count_restarts": False}, FATAL, "exited", False),
    # ... and since a baseline for health_check: before it, history; at or after, fatal
    (c(restarts=1, started_at=EARLIER), {"since": SINCE}, GOOD, "restarted before", False),
    (c(restarts=1, started_at=LATER), {"since": SINCE}, FATAL, "restarted", True),
    (c(restarts=1, started_at=""), {"since": SINCE}, FATAL, "restarted", True),  # unknown start
    (c(restarts=1, started_at=EARLIER), {"since": 0.0}, FATAL, "restarted", True),
    (c(restarts=None), {"since": SINCE}, GOOD, "no healthcheck", False),
    (c("restarting", restarts=1, started_at=EARLIER), {"since": SINCE}, FATAL, "restarting", False),
    # one-shot services (health_check): exit 0 is done, unless restarted since the baseline
    (c("exited", exit_code=0), {"oneshot": True}, GOOD, "oneshot done", False),
    (c("exited", exit_code=1), {"oneshot": True}, FATAL, "exited", False),
    (
        c("exited", exit_code=0, restarts=2, started_at=LATER),
        {"oneshot": True, "since": SINCE},
        FATAL,
        "exited",
        True,
    ),
    (
        c("exited", exit_code=0, restarts=2, started_at=EARLIER),
        {"oneshot": True, "since": SINCE},
        GOOD,
        "oneshot done",
        False,
    ),
    # a failing streak fails early (compose_rollout), before Docker says unhealthy
    (c(health="starting", streak=8), {"unhealthy_streak": 8}, FATAL, "streak", False),
    (c(health="starting", streak=7), {"unhealthy_streak": 8}, PENDING, "starting", False),
    (c(health="starting", streak=8), {}, PENDING, "starting", False),  # not judged
    (c(health="starting", streak=8, restarts=1), {"unhealthy_streak": 8}, FATAL, "streak", True),
]


@pytest.mark.parametrize(("container", "kwargs", "verdict", "cause", "restarted"), TABLE)
def test_judge(
    container: Container, kwargs: dict, verdict: str, cause: str, restarted: bool
) -> None:
    found = judge(container, **kwargs)
    assert (found.verdict, found.cause, found.restarted) == (verdict, cause, restarted)


def test_from_compose_ps_reads_what_health_check_lists() -> None:
    record = from_compose_ps({
        "ID": "abc", "Name": "app-redis-1", "Service": "redis", "State": "Running",
        "Health": "Healthy", "ExitCode": 0, "RestartCount": "2", "StartedAt": EARLIER,
        "OneShotLabel": "true", "ConfigLabel": "0123",
    })  # fmt: skip
    assert (record.name, record.service, record.state, record.health) == (
        "app-redis-1", "redis", "running", "healthy",
    )  # fmt: skip
    assert (record.restarts, record.started, record.digest) == (2, SINCE - 3600, "0123")
    assert from_compose_ps({"ID": "abc"}).name == "abc"
    assert from_compose_ps({"RestartCount": True}).restarts is None


def test_from_inspect_reads_what_compose_rollout_needs() -> None:
    record = from_inspect({
        "Id": "f00", "Name": "/app-backend-2", "RestartCount": 1,
        "Config": {
            "Labels": {"com.docker.compose.service": "backend", "org.stickforstats.config": "d1",
                       "com.docker.compose.config-hash": "h"},
            "Image": "registry:5000/app/backend:c0ffee2", "Env": ["B=2", "A=1"],
            "Cmd": ["web"], "Healthcheck": {"Test": ["CMD", "true"]},
        },
        "State": {"Status": "running", "Running": True, "Restarting": False, "ExitCode": 0,
                  "StartedAt": LATER,
                  "Health": {"Status": "starting", "FailingStreak": 2,
                             "Log": [{"ExitCode": 1, "Output": "refused\n"}]}},
        "HostConfig": {"PortBindings": {"8000/tcp": [{"HostPort": "8080"}]}},
        "NetworkSettings": {"Networks": {"app": {"IPAddress": "172.18.0.5"}}},
        "Mounts": [{"Source": "/srv/r/nginx.conf", "Destination": "/etc/nginx/nginx.conf"}],
    })  # fmt: skip
    assert record.name == "app-backend-2" and record.service == "backend"
    assert (record.state, record.health, record.streak, record.probe) == (
        "running", "starting", 2, "refused",
    )  # fmt: skip
    assert record.running and record.digest == "d1" and record.compose_hash == "h"
    assert record.env == ["A=1", "B=2"] and record.ports == ["8000:8080"]
    assert record.ip == "172.18.0.5" and record.healthcheck == ["CMD", "true"]
    assert record.mounts == [("/srv/r/nginx.conf", "/etc/nginx/nginx.conf")]
    assert judge(record, count_restarts=False, unhealthy_streak=8).verdict == PENDING
    assert judge(record, unhealthy_streak=8).cause == "restarted"  # a new one: every restart


def test_a_container_without_a_healthcheck_has_no_health() -> None:
    bare = from_inspect({"Id": "1", "Name": "/x", "Config": {}, "State": {"Status": "running",
                         "Running": True}})  # fmt: skip
    assert bare.health == "" and judge(bare).cause == "no healthcheck"
