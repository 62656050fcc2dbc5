"""Tests of the health_check module (plugins/modules/health_check.py).

The module's loop runs in-process against a real HTTP server on 127.0.0.1
(port 0) that each test scripts; nothing else is contacted. Docker is replaced
by canned `docker compose ps` / `docker inspect` outputs through the module's
command runner seam; the real Docker path is covered by the integration tests
(tests/integration), which deploy the sample app on a target host.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.stickforstats.deploy.plugins.modules import health_check
from ansible_collections.stickforstats.deploy.plugins.modules.health_check import (
    ARGUMENT_SPEC,
    HealthCheck,
    validate,
)

HEALTHY = {"status": "ok", "version": "c0ffee2", "checks": {"database": "ok", "cache": "ok"}}
SICK = {
    "status": "error",
    "version": "c0ffee2",
    "checks": {"database": "error: OperationalError", "cache": "ok"},
}
SITE = "stickforstats.example.org"
PROJECT = "stickforstats"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return text.encode()


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.seen.append(
                {
                    "path": self.path,
                    "host": self.headers.get("Host"),
                    "client": self.client_address[0],
                }
            )
        if server.delay and server.stopping.wait(server.delay):
            return
        reply = server.next_reply()
        if server.required_host is not None and self.headers.get("Host") != server.required_host:
            reply = Reply(400, "<h1>Bad Request (400)</h1>")  # Django's DisallowedHost
        payload = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


class HealthServer(ThreadingHTTPServer):
    """Answers with the scripted replies in turn, the last one over and over."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.replies: list[Reply] = [Reply(200, HEALTHY)]
        self.seen: list[dict[str, Any]] = []
        self.delay = 0.0
        self.required_host: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/api/v1/health/"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client gave up (timeout): nothing to report


@pytest.fixture
def server() -> Iterator[HealthServer]:
    srv = HealthServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.stopping.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)
    assert all(seen["client"] == "127.0.0.1" for seen in srv.seen)


def params(**overrides: Any) -> dict[str, Any]:
    """Module parameters: the documented defaults, then ``overrides``."""
    values = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
    values.update(interval=0.05, deadline=2, timeout=1)
    values.update(overrides)
    return values


class FakeDocker:
    """Stands in for the docker CLI: scripted outputs, one per attempt, the last one repeated."""

    def __init__(self, *ps: tuple[int, str, str] | str, inspect: str | list[str] = "") -> None:
        self.ps = [(0, out, "") if isinstance(out, str) else out for out in ps]
        self.inspect = [inspect] if isinstance(inspect, str) else list(inspect)
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> tuple[int, str, str]:
        self.calls.append(list(args))
        if args[1] == "compose":
            return self.ps.pop(0) if len(self.ps) > 1 else self.ps[0]
        if args[1] == "inspect":
            return 0, self.inspect.pop(0) if len(self.inspect) > 1 else self.inspect[0], ""
        raise AssertionError(f"unexpected command {args}")


def entry(service: str, state: str = "running", health: str = "", exit_code: int = 0) -> dict:
    """One container as `docker compose ps --all --format json` shows it."""
    return {
        "Command": '"/entrypoint.sh web --secret-key=hunter2"',
        "ID": f"id-{service}",
        "Name": f"stickforstats-{service}-1",
        "Project": PROJECT,
        "Service": service,
        "State": state,
        "Health": health,
        "ExitCode": exit_code,
        "Status": "Up 2 seconds",
    }


INSPECT_FORMAT = (
    "[{{json .Name}},{{.RestartCount}},{{json .State.StartedAt}},"
    '{{json (index .Config.Labels "stickforstats.deploy.oneshot")}},'
    '{{json (index .Config.Labels "org.stickforstats.config")}}]'
)
SINCE = 1796292000.0  # 2026-12-03T10:00:00Z: when this run took the deploy lock
EARLIER = "2026-12-03T09:00:00.123456789Z"  # started before this run
LATER = "2026-12-03T10:00:05.5Z"  # started during this run


def inspected(*containers: tuple[str, int, str] | tuple[str, int, str, str]) -> str:
    """`docker inspect --format INSPECT_FORMAT` of (service, restarts, started[, label])."""
    return "".join(
        json.dumps([f"/stickforstats-{c[0]}-1", c[1], c[2], c[3] if len(c) > 3 else ""]) + "\n"
        for c in containers
    )


def ndjson(*entries: dict) -> str:
    """Compose 2.21+ output: one JSON object per line."""
    return "".join(json.dumps(e) + "\n" for e in entries)


def run(
    server: HealthServer | None = None, runner: FakeDocker | None = None, **overrides: Any
) -> tuple[dict[str, Any], str | None]:
    if server is not None:
        overrides.setdefault("url", server.url)
    return HealthCheck(params(**overrides), run_command=runner).run()


# --- the endpoint ----------------------------------------------------------------------------


def test_healthy_at_once(server: HealthServer) -> None:
    result, message = run(server, assertions=['status == "ok"', 'checks.database == "ok"'])
    assert message is None
    assert result["healthy"] is True
    assert result["changed"] is False
    assert result["attempts"] == 1
    assert result["last_status"] == 200
    assert result["last_json"] == HEALTHY
    assert json.loads(result["last_body"]) == HEALTHY
    assert result["reasons"] == []
    assert result["containers"] == []
    assert 0 <= result["elapsed"] < 1
    assert [seen["path"] for seen in server.seen] == ["/api/v1/health/"]


def test_healthy_after_unhealthy_answers(server: HealthServer) -> None:
    server.script(
        Reply(503, SICK), Reply(503, SICK), Reply(502, "Bad Gateway"), Reply(200, HEALTHY)
    )
    result, message = run(server, assertions=['checks.database == "ok"'], deadline=5)
    assert message is None
    assert result["healthy"] is True
    assert result["attempts"] == 4
    assert len(server.seen) == 4
    assert result["reasons"] == []


def test_500_until_the_deadline(server: HealthServer) -> None:
    server.script(Reply(500, "Server Error"))
    started = time.monotonic()
    result, message = run(server, deadline=0.6, interval=0.1)
    took = time.monotonic() - started
    assert result["healthy"] is False
    assert result["reasons"] == ["HTTP status 500, expected 200"]
    assert message is not None
    assert re.fullmatch(
        r"unhealthy after \d+ attempts in \d\.\d s: HTTP status 500, expected 200", message
    ), message
    assert 0.6 <= result["elapsed"] < 1.0
    assert took < 1.5
    assert result["attempts"] >= 4
    assert result["attempts"] == len(server.seen)
    assert result["last_status"] == 500
    assert result["last_body"] == "Server Error"
    assert result["last_json"] is None


def test_server_that_never_answers(server: HealthServer) -> None:
    server.delay = 30
    started = time.monotonic()
    result, message = run(server, timeout=0.3, deadline=0.5, interval=0.1)
    assert time.monotonic() - started < 1.5
    assert result["healthy"] is False
    assert result["reasons"] == ["request failed: timeout after 0.3 s"]
    assert message is not None and "timeout after 0.3 s" in message
    assert result["last_status"] is None
    assert result["last_body"] == ""
    assert result["attempts"] in (1, 2)


def test_nothing_listening() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result, message = run(url=f"http://127.0.0.1:{port}/api/v1/health/", deadline=0.2)
    assert message is not None and "cannot connect" in message
    assert result["healthy"] is False
    assert result["last_status"] is None
    assert len(result["reasons"]) == 1
    assert result["reasons"][0].startswith("request failed: cannot connect: ")
    assert "refused" in result["reasons"][0].lower()


def test_wrong_json_field(server: HealthServer) -> None:
    server.script(Reply(200, SICK))
    result, message = run(
        server,
        assertions=['status == "ok"', 'checks.database == "ok"', 'checks.cache != "error"'],
        deadline=0.3,
    )
    assert result["healthy"] is False
    assert result["reasons"] == [
        'status is "error", expected "ok"',
        'checks.database is "error: OperationalError", expected "ok"',
    ]
    assert message is not None
    assert message.endswith(
        ': status is "error", expected "ok"; '
        'checks.database is "error: OperationalError", expected "ok"'
    )
    assert result["last_json"] == SICK


def test_version_assertion(server: HealthServer) -> None:
    result, _ = run(server, assertions=['version == "deadbee"'], deadline=0.2)
    assert result["reasons"] == ['version is "c0ffee2", expected "deadbee"']
    result, _ = run(server, assertions=['version == "c0ffee2"', "uptime_s exists"], deadline=0.2)
    assert result["reasons"] == ["uptime_s is missing"]


def test_body_that_is_not_json(server: HealthServer) -> None:
    server.script(Reply(200, "<html>maintenance</html>"))
    result, _ = run(server, assertions=['status == "ok"'], deadline=0.2)
    assert result["reasons"] == ['body is not JSON: "<html>maintenance</html>"']
    assert result["last_json"] is None
    result, message = run(server, deadline=0.2)
    assert message is None


def test_host_header_is_sent(server: HealthServer) -> None:
    server.required_host = SITE
    result, message = run(server, deadline=0.2)
    assert result["healthy"] is False
    assert result["reasons"] == ["HTTP status 400, expected 200"]
    assert server.seen[0]["host"] == f"127.0.0.1:{server.server_port}"

    server.seen.clear()
    result, message = run(server, host_header=SITE)
    assert message is None
    assert result["healthy"] is True
    assert [seen["host"] for seen in server.seen] == [SITE]


def test_expected_status(server: HealthServer) -> None:
    server.script(Reply(204, ""))
    result, message = run(server, expected_status=[200, 204])
    assert message is None
    result, message = run(server, expected_status=[200, 201], deadline=0.1)
    assert result["reasons"] == ["HTTP status 204, expected one of 200, 201"]


def test_redirects_are_not_followed(server: HealthServer) -> None:
    server.script(Reply(302, "", {"Location": "http://stickforstats.invalid/elsewhere/"}))
    result, message = run(server, deadline=0.2)
    assert message is not None
    assert result["last_status"] == 302
    assert result["reasons"] == ["HTTP status 302, expected 200"]
    assert all(seen["path"] == "/api/v1/health/" for seen in server.seen)


def test_proxy_variables_are_ignored(server: HealthServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    _, message = run(server)
    assert message is None
    assert len(server.seen) == 1


def test_last_body_is_cut(server: HealthServer) -> None:
    big = {"status": "ok", "padding": "x" * 5000}
    server.script(Reply(200, big))
    result, message = run(server, assertions=['status == "ok"'])
    assert message is None
    assert len(result["last_body"]) == 2000
    assert result["last_json"] == big


def test_stable_for_needs_consecutive_successes(server: HealthServer) -> None:
    server.script(Reply(200, HEALTHY), Reply(503, SICK), Reply(200, HEALTHY))
    result, message = run(server, stable_for=0.2, interval=0.1, deadline=3)
    assert message is None
    # healthy, unhealthy (starts over), then healthy for 0.2 s: three more attempts
    assert result["attempts"] == 5
    assert result["elapsed"] >= 0.4


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_stable_for_not_reached_before_the_deadline(server: HealthServer) -> None:
    server.script(Reply(503, SICK), Reply(200, HEALTHY))
    clock = FakeClock()
    check = HealthCheck(
        params(url=server.url, interval=1, deadline=5, stable_for=5),
        clock=clock,
        sleep=clock.sleep,
    )
    result, message = check.run()
    assert clock.sleeps == [1, 1, 1, 1, 1]
    assert result["attempts"] == 6
    assert result["healthy"] is False
    assert result["reasons"] == ["healthy for only 4.0 s of the 5 s required by stable_for"]
    assert message == (
        "unhealthy after 6 attempts in 5.0 s: "
        "healthy for only 4.0 s of the 5 s required by stable_for"
    )


def test_last_sleep_ends_at_the_deadline(server: HealthServer) -> None:
    server.script(Reply(500, ""))
    clock = FakeClock()
    check = HealthCheck(
        params(url=server.url, interval=2, deadline=5), clock=clock, sleep=clock.sleep
    )
    result, _ = check.run()
    assert clock.sleeps == [2, 2, 1]
    assert result["attempts"] == 4
    assert result["elapsed"] == 5


def test_failure_message_shows_the_first_reasons(server: HealthServer) -> None:
    server.script(Reply(500, {}))
    assertions = [f"k{i} exists" for i in range(6)]
    result, message = run(server, assertions=assertions, deadline=0.1)
    assert len(result["reasons"]) == 7
    assert message is not None
    assert message.endswith(
        ": HTTP status 500, expected 200; k0 is missing; k1 is missing (and 4 more)"
    )


# --- the containers --------------------------------------------------------------------------


def test_containers_are_listed_with_their_restart_count(server: HealthServer) -> None:
    docker = FakeDocker(
        ndjson(entry("db", health="healthy"), entry("backend", health="healthy")),
        inspect=inspected(("db", 0, EARLIER), ("backend", 0, LATER)),
    )
    result, message = run(server, docker, project_name=PROJECT, services=["db", "backend"])
    assert message is None
    assert docker.calls == [
        ["docker", "compose", "-p", PROJECT, "ps", "--all", "--format", "json"],
        ["docker", "inspect", "--format", INSPECT_FORMAT, "id-db", "id-backend"],
    ]
    assert result["containers"] == [
        {
            "service": "db",
            "name": "stickforstats-db-1",
            "state": "running",
            "health": "healthy",
            "exit_code": 0,
            "restart_count": 0,
            "started_at": EARLIER,
        },
        {
            "service": "backend",
            "name": "stickforstats-backend-1",
            "state": "running",
            "health": "healthy",
            "exit_code": 0,
            "restart_count": 0,
            "started_at": LATER,
        },
    ]
    assert result["notes"] == []


def test_older_compose_prints_an_array(server: HealthServer) -> None:
    docker = FakeDocker(json.dumps([entry("db"), entry("backend")]))
    result, message = run(server, docker, project_name=PROJECT, services=["db", "backend"])
    assert message is None
    assert [c["service"] for c in result["containers"]] == ["db", "backend"]
    assert [c["restart_count"] for c in result["containers"]] == [None, None]


def test_exited_container_fails_at_once(server: HealthServer) -> None:
    docker = FakeDocker(ndjson(entry("db"), entry("backend", "exited", exit_code=3)))
    started = time.monotonic()
    result, message = run(server, docker, project_name=PROJECT, deadline=30)
    assert time.monotonic() - started < 1
    assert message is not None
    assert re.fullmatch(
        r"container stickforstats-backend-1 \(backend\) exited with code 3 "
        r"after 1 attempt in 0\.\d s",
        message,
    ), message
    assert result["healthy"] is False
    assert result["attempts"] == 1
    assert result["reasons"] == ["container stickforstats-backend-1 (backend) exited with code 3"]
    assert result["last_status"] is None
    assert server.seen == []  # the endpoint is not asked once a container is lost


def test_container_crashing_after_a_while_fails_at_once(server: HealthServer) -> None:
    docker = FakeDocker(
        ndjson(entry("backend", health="starting")),
        ndjson(entry("backend", "restarting", exit_code=1)),
        inspect=[inspected(("backend", 0, LATER)), inspected(("backend", 1, LATER))],
    )
    result, message = run(server, docker, project_name=PROJECT, deadline=30)
    assert result["attempts"] == 2
    assert message is not None
    assert message.startswith(
        "container stickforstats-backend-1 (backend) is restarting "
        "(last exit code 1, restarted 1 times) after 2 attempts in "
    )
    assert result["containers"][0]["restart_count"] == 1


def test_restarted_container_fails(server: HealthServer) -> None:
    docker = FakeDocker(ndjson(entry("backend")), inspect=inspected(("backend", 2, "")))
    result, message = run(server, docker, project_name=PROJECT)
    assert message is not None and message.startswith("container stickforstats-backend-1 ")
    assert result["reasons"] == ["container stickforstats-backend-1 (backend) restarted 2 times"]
    assert result["attempts"] == 1


def test_a_restart_before_the_baseline_is_history(server: HealthServer) -> None:
    """Issue 14: redis killed once long ago, RestartCount 1, blocked every deploy."""
    docker = FakeDocker(
        ndjson(entry("redis", health="healthy"), entry("backend", health="healthy")),
        inspect=inspected(("redis", 1, EARLIER), ("backend", 0, LATER)),
    )
    result, message = run(server, docker, project_name=PROJECT, since=SINCE)
    assert message is None, message
    assert result["healthy"] is True
    assert result["notes"] == [
        "container stickforstats-redis-1 (redis) restarted 1 times before the baseline "
        "2026-12-03T10:00:00Z; running since 2026-12-03T09:00:00Z"
    ]
    assert result["since"] == SINCE
    assert [c["restart_count"] for c in result["containers"]] == [1, 0]


def test_a_restart_during_this_run_fails_at_once(server: HealthServer) -> None:
    docker = FakeDocker(
        ndjson(entry("redis", health="healthy")), inspect=inspected(("redis", 1, LATER))
    )
    result, message = run(server, docker, project_name=PROJECT, since=SINCE, deadline=30)
    assert result["attempts"] == 1
    assert result["reasons"] == [
        "container stickforstats-redis-1 (redis) restarted 1 times, the last at "
        "2026-12-03T10:00:05Z, after the baseline 2026-12-03T10:00:00Z"
    ]
    assert message is not None and message.startswith(result["reasons"][0] + " after 1 attempt")


def test_an_old_container_that_restarts_during_the_check_fails_at_once(
    server: HealthServer,
) -> None:
    docker = FakeDocker(
        ndjson(entry("redis", health="healthy")),
        ndjson(entry("redis", health="healthy")),
        inspect=[inspected(("redis", 1, EARLIER)), inspected(("redis", 2, LATER))],
    )
    result, message = run(
        server, docker, project_name=PROJECT, since=SINCE, stable_for=1, deadline=30
    )
    assert result["attempts"] == 2
    assert message is not None and "restarted 2 times, the last at" in message


def test_without_since_the_baseline_is_the_start_of_the_check(server: HealthServer) -> None:
    """A one-look status: a container running healthy now, whatever it went through."""
    docker = FakeDocker(
        ndjson(entry("redis", health="healthy")), inspect=inspected(("redis", 5, EARLIER))
    )
    before = time.time()
    result, message = run(server, docker, project_name=PROJECT)
    assert message is None, message
    assert before <= result["since"] <= time.time()
    assert (
        len(result["notes"]) == 1 and "restarted 5 times before the baseline" in result["notes"][0]
    )


def test_since_0_judges_the_whole_life(server: HealthServer) -> None:
    docker = FakeDocker(ndjson(entry("redis")), inspect=inspected(("redis", 1, EARLIER)))
    result, message = run(server, docker, project_name=PROJECT, since=0)
    assert message is not None
    assert result["reasons"] == ["container stickforstats-redis-1 (redis) restarted 1 times"]


ONESHOT_CASES = [
    # compose ps entry, inspect line, oneshot_services, reasons
    (entry("init", "exited", exit_code=0), ("init", 0, LATER), ["init"], []),
    (entry("init", "exited", exit_code=0), ("init", 0, LATER, "true"), [], []),
    (
        entry("init", "exited", exit_code=2),
        ("init", 0, LATER),
        ["init"],
        ["container stickforstats-init-1 (init) exited with code 2"],
    ),
    (  # no declaration: an exit is a service down, whatever its code
        entry("init", "exited", exit_code=0),
        ("init", 0, LATER),
        [],
        ["container stickforstats-init-1 (init) exited with code 0"],
    ),
]


@pytest.mark.parametrize(("ps", "inspect", "oneshot", "reasons"), ONESHOT_CASES)
def test_one_shot_services_may_exit_0(
    server: HealthServer,
    ps: dict,
    inspect: tuple[str, int, str],
    oneshot: list[str],
    reasons: list[str],
) -> None:
    docker = FakeDocker(
        ndjson(entry("backend"), ps), inspect=inspected(("backend", 0, LATER), inspect)
    )
    result, message = run(
        server, docker, project_name=PROJECT, since=SINCE, oneshot_services=oneshot
    )
    assert result["reasons"] == reasons
    assert (message is None) == (not reasons)
    if not reasons:
        assert result["notes"] == [
            "container stickforstats-init-1 (init) is one-shot and exited with code 0"
        ]


def test_unhealthy_container_fails(server: HealthServer) -> None:
    docker = FakeDocker(ndjson(entry("backend", health="unhealthy")))
    result, message = run(server, docker, project_name=PROJECT)
    assert message is not None and "is unhealthy after 1 attempt" in message
    assert result["reasons"] == ["container stickforstats-backend-1 (backend) is unhealthy"]
    assert result["attempts"] == 1


def test_missing_service_fails_at_once(server: HealthServer) -> None:
    docker = FakeDocker(ndjson(entry("backend")))
    result, message = run(server, docker, project_name=PROJECT, services=["backend", "worker"])
    assert message is not None
    assert message.startswith("service worker has no container after 1 attempt in ")
    assert result["attempts"] == 1


def test_starting_containers_are_waited_for(server: HealthServer) -> None:
    docker = FakeDocker(
        ndjson(entry("db", "created"), entry("backend", "created")),
        ndjson(entry("db", health="starting"), entry("backend", health="starting")),
        ndjson(entry("db", health="healthy"), entry("backend", health="starting")),
        ndjson(entry("db", health="healthy"), entry("backend", health="healthy")),
    )
    result, message = run(server, docker, project_name=PROJECT, deadline=5)
    assert message is None
    assert result["attempts"] == 4
    # the endpoint is asked while containers start, and must answer healthy at the end
    assert len(server.seen) == 4
    assert [c["health"] for c in result["containers"]] == ["healthy", "healthy"]


def test_container_pending_until_the_deadline(server: HealthServer) -> None:
    docker = FakeDocker(ndjson(entry("backend", health="starting")))
    result, message = run(server, docker, project_name=PROJECT, deadline=0.3)
    assert result["reasons"] == [
        "container stickforstats-backend-1 (backend) is running, its health check is starting"
    ]
    assert message is not None
    assert message.startswith("unhealthy after ")
    assert result["last_status"] == 200


def test_containers_and_endpoint_reasons_together(server: HealthServer) -> None:
    server.script(Reply(502, "Bad Gateway"))
    docker = FakeDocker(ndjson(entry("backend", health="starting")))
    result, _ = run(server, docker, project_name=PROJECT, deadline=0.2)
    assert result["reasons"] == [
        "container stickforstats-backend-1 (backend) is running, its health check is starting",
        "HTTP status 502, expected 200",
    ]


def test_docker_compose_failing_is_fatal(server: HealthServer) -> None:
    docker = FakeDocker(
        (1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n")
    )
    result, message = run(server, docker, project_name=PROJECT, deadline=30)
    assert result["attempts"] == 1
    assert result["reasons"] == [
        "docker compose ps failed with exit code 1: "
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
    ]
    assert message is not None


def test_docker_compose_garbage_is_fatal(server: HealthServer) -> None:
    docker = FakeDocker("NAME IMAGE COMMAND\n")
    result, message = run(server, docker, project_name=PROJECT, deadline=30)
    assert message is not None
    assert result["attempts"] == 1
    assert result["reasons"][0].startswith("docker compose ps printed no container list: ")


def test_container_command_lines_are_never_returned(server: HealthServer) -> None:
    states = [("running", "healthy"), ("exited", ""), ("restarting", ""), ("created", "")]
    for state, health in states:
        docker = FakeDocker(ndjson(entry("backend", state, health)))
        result, message = run(server, docker, project_name=PROJECT, deadline=0.1)
        assert "hunter2" not in json.dumps(result)
        assert "hunter2" not in (message or "")
        assert "Command" not in json.dumps(result["containers"])


# --- options and the module entry point ------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"url": "127.0.0.1/health/"}, "is not an http:// or https:// URL"),
        ({"url": "ftp://127.0.0.1/"}, "is not an http:// or https:// URL"),
        ({"expected_status": []}, "expected_status is empty"),
        ({"expected_status": [200, 99]}, "expected_status 99 is not an HTTP status"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"interval": -1}, "interval must not be negative"),
        ({"deadline": -1}, "deadline must not be negative"),
        ({"stable_for": 10, "deadline": 5}, "stable_for must not exceed deadline"),
        ({"services": ["backend"]}, "services needs project_name"),
        ({"oneshot_services": ["init"]}, "oneshot_services needs project_name"),
        ({"since": -1}, "since must not be negative"),
        ({"assertions": ["status = 'ok'"]}, "invalid assertion \"status = 'ok'\""),
    ],
)
def test_invalid_options(overrides: dict[str, Any], problem: str) -> None:
    values = params(url="http://127.0.0.1/", **{k: v for k, v in overrides.items() if k != "url"})
    if "url" in overrides:
        values["url"] = overrides["url"]
    _, problems = validate(values)
    assert any(problem in p for p in problems), problems
    with pytest.raises(ValueError, match=re.escape(problem)):
        HealthCheck(values)


def run_main(args: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    with patch_module_args(args), pytest.raises(SystemExit) as info:
        health_check.main()
    return info.value.code, json.loads(capsys.readouterr().out)


def test_main_healthy_in_check_mode(
    server: HealthServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run_main(
        {"url": server.url, "assertions": ['status == "ok"'], "_ansible_check_mode": True}, capsys
    )
    assert code == 0
    assert result["changed"] is False
    assert result["healthy"] is True
    assert result["attempts"] == 1
    assert len(server.seen) == 1  # the checks ran in check mode too


def test_main_unhealthy(server: HealthServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script(Reply(503, SICK))
    code, result = run_main(
        {
            "url": server.url,
            "assertions": ['checks.database == "ok"'],
            "deadline": 0.3,
            "interval": 0.1,
        },
        capsys,
    )
    assert code == 1
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["healthy"] is False
    assert re.fullmatch(
        r"unhealthy after \d+ attempts in 0\.\d s: HTTP status 503, expected 200; "
        r'checks\.database is "error: OperationalError", expected "ok"',
        result["msg"],
    ), result["msg"]
    assert result["last_status"] == 503
    assert result["last_json"] == SICK
    assert result["containers"] == []


def test_main_rejects_bad_assertions(capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run_main(
        {"url": "http://127.0.0.1:9/", "assertions": ['status == "ok"', "status == ok"]}, capsys
    )
    assert code == 1
    assert result["msg"].startswith("invalid assertion 'status == ok': ")


# --- leftovers of a release that does not serve (rollout_state) ---------------------------


def labelled(service: str, number: int, config: str, state: str = "running") -> tuple[dict, str]:
    """A compose ps entry and its inspect line, with the config label."""
    ps = {**entry(service, state), "ID": f"id-{service}-{number}"}
    ps["Name"] = f"stickforstats-{service}-{number}"
    line = json.dumps([f"/{ps['Name']}", 0, EARLIER, "", config])
    return ps, line + "\n"


def killed_after_switch(state_file: Any, new_backend: str = "running") -> tuple[FakeDocker, Any]:
    """The old backend stopped (exit 0) but not removed, the new one serving."""
    old, old_line = labelled("backend", 6, "old")
    new, new_line = labelled("backend", 7, "new", new_backend)
    old.update(State="exited", ExitCode=0)
    state_file.write_text(json.dumps({
        "strategy": "rolling", "active": {"backend": ["stickforstats-backend-7"]},
        "configs": {"backend": "new"},
    }))  # fmt: skip
    return FakeDocker(ndjson(old, new), inspect=old_line + new_line), state_file


def test_stopped_containers_of_a_release_that_does_not_serve_are_leftovers(
    server: HealthServer, tmp_path: Any
) -> None:
    docker, state = killed_after_switch(tmp_path / "state.json")
    result, message = run(server, docker, project_name=PROJECT, rollout_state=str(state))
    assert message is None
    assert [c["name"] for c in result["leftovers"]] == ["stickforstats-backend-6"]
    assert [c["name"] for c in result["containers"]] == ["stickforstats-backend-7"]
    assert result["notes"] == [
        "1 stopped container of a release that does not serve (stickforstats-backend-6):"
        " removed by the next deploy or rollback"
    ]


def test_without_rollout_state_a_stopped_old_container_fails(
    server: HealthServer, tmp_path: Any
) -> None:
    """The deploy's health gate passes no state: every exited container fails it."""
    docker, _ = killed_after_switch(tmp_path / "state.json")
    result, message = run(server, docker, project_name=PROJECT)
    assert message is not None and "stickforstats-backend-6 (backend) exited with code 0" in message
    assert result["leftovers"] == []


def test_a_stopped_container_of_the_serving_release_still_fails(
    server: HealthServer, tmp_path: Any
) -> None:
    docker, state = killed_after_switch(tmp_path / "state.json", new_backend="exited")
    _, message = run(server, docker, project_name=PROJECT, rollout_state=str(state))
    assert message is not None and "stickforstats-backend-7 (backend) exited with code 0" in message
