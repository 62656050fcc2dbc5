"""Tests of plugins/module_utils/_health.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import (
    parse_compose_ps,
    parse_docker_time,
    parse_inspect,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._health import (
    Attempt,
    FieldAssertion,
    HealthSpecError,
    container_summary,
    evaluate_containers,
    evaluate_http,
    parse_assertion,
)
from hypothesis import given
from hypothesis import strategies as st

# text, path, operator, expected
VALID = [
    ('status == "ok"', ("status",), "==", "ok"),
    ('checks.database == "ok"', ("checks", "database"), "==", "ok"),
    ('checks.cache != "error"', ("checks", "cache"), "!=", "error"),
    ('version == "c0ffee2"', ("version",), "==", "c0ffee2"),
    ("uptime_s exists", ("uptime_s",), "exists", None),
    ('items.0.name == "x"', ("items", "0", "name"), "==", "x"),
    ("count == 3", ("count",), "==", 3),
    ("ratio == 0.5", ("ratio",), "==", 0.5),
    ("delta == -1e3", ("delta",), "==", -1000.0),
    ("flag == true", ("flag",), "==", True),
    ("flag != false", ("flag",), "!=", False),
    ("nothing == null", ("nothing",), "==", None),
    ('status=="ok"', ("status",), "==", "ok"),
    ('  a.b   !=   "x y"  ', ("a", "b"), "!=", "x y"),
    (r'a == "say \"hi\""', ("a",), "==", 'say "hi"'),
    ('a == "é\\u00e9"', ("a",), "==", "éé"),
    ('x-request.@id == "1"', ("x-request", "@id"), "==", "1"),
    ('a == "=="', ("a",), "==", "=="),
    ('a == ""', ("a",), "==", ""),
]

# text, part of the reason
INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("status", "expected '==', '!=' or 'exists'"),
    ('status = "ok"', "expected '==', '!=' or 'exists'"),
    ("status >= 1", "expected '==', '!=' or 'exists'"),
    ('status is "ok"', "expected '==', '!=' or 'exists'"),
    ("status exists please", "expected '==', '!=' or 'exists'"),
    ('a b == "ok"', "expected '==', '!=' or 'exists'"),
    ("status == ok", "not a JSON literal"),
    ("status == 'ok'", "not a JSON literal"),
    ('status == "ok', "not a JSON literal"),
    ("status == NaN", "not a JSON literal"),
    ("status == Infinity", "not a JSON literal"),
    ("status == True", "not a JSON literal"),
    ("status ==", "no value after '=='"),
    ("status !=   ", "no value after '!='"),
    ('status == "ok" "ko"', "unexpected text after the value"),
    ("status == 1 2", "unexpected text after the value"),
    ('status == {"a": 1}', "must be a string, number, true, false or null"),
    ("status == [1]", "must be a string, number, true, false or null"),
    ('a..b == "ok"', "field path 'a..b' is not valid"),
    ('.a == "ok"', "field path '.a' is not valid"),
    ('a. == "ok"', "field path 'a.' is not valid"),
    ('a/b == "ok"', "field path 'a/b' is not valid"),
    ('== "ok"', "must start with a field path"),
]


@pytest.mark.parametrize(("text", "path", "operator", "expected"), VALID)
def test_parse_assertion_valid(
    text: str, path: tuple[str, ...], operator: str, expected: Any
) -> None:
    assertion = parse_assertion(text)
    assert assertion == FieldAssertion(text=text, path=path, operator=operator, expected=expected)
    assert type(assertion.expected) is type(expected)
    assert str(assertion) == text
    assert assertion.dotted_path == ".".join(path)


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_parse_assertion_invalid(text: str, reason: str) -> None:
    with pytest.raises(HealthSpecError) as info:
        parse_assertion(text)
    assert isinstance(info.value, ValueError)
    assert reason in str(info.value)
    assert repr(text) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", [None, 3, ["status == 1"], b'status == "ok"'])
def test_parse_assertion_needs_a_string(value: Any) -> None:
    with pytest.raises(HealthSpecError, match="expected a string"):
        parse_assertion(value)


DOCUMENT = {
    "status": "ok",
    "version": "c0ffee2",
    "checks": {"database": "error: OperationalError", "cache": "ok"},
    "uptime_s": 12.5,
    "items": [{"name": "x"}, {"name": "y"}],
    "codes": {"200": "ok"},
    "flag": True,
    "count": 1,
    "nothing": None,
    "multiline": "line one\nline two",
}

# assertion, reason (None: it holds)
CHECKS = [
    ('status == "ok"', None),
    ('version == "c0ffee2"', None),
    (
        'checks.database == "ok"',
        'checks.database is "error: OperationalError", expected "ok"',
    ),
    ('checks.missing == "ok"', "checks.missing is missing"),
    ('checks.cache != "error"', None),
    (
        'checks.database != "error: OperationalError"',
        'checks.database is "error: OperationalError", expected anything but '
        '"error: OperationalError"',
    ),
    ('checks.absent != "error"', "checks.absent is missing"),
    ("uptime_s exists", None),
    ("nope exists", "nope is missing"),
    ("nothing exists", None),
    ("nothing == null", None),
    ("status == null", 'status is "ok", expected null'),
    ('items.0.name == "x"', None),
    ('items.1.name == "x"', 'items.1.name is "y", expected "x"'),
    ('items.2.name == "x"', "items.2.name is missing"),
    ('items.name == "x"', "items.name is missing"),
    ("status.length == 2", "status.length is missing"),
    ("uptime_s.0 == 1", "uptime_s.0 is missing"),
    ('codes.200 == "ok"', None),
    ("flag == true", None),
    ("flag == 1", "flag is true, expected 1"),
    ("count == true", "count is 1, expected true"),
    ("count == 1.0", None),
    ("count != 1.0", "count is 1, expected anything but 1.0"),
    ('uptime_s == "12.5"', 'uptime_s is 12.5, expected "12.5"'),
    ("uptime_s == 12.5", None),
    ('count == "1"', 'count is 1, expected "1"'),
    (
        'checks == "ok"',
        'checks is {"cache": "ok", "database": "error: OperationalError"}, expected "ok"',
    ),
    ('multiline == "x"', 'multiline is "line one\\nline two", expected "x"'),
]


@pytest.mark.parametrize(("text", "reason"), CHECKS)
def test_check(text: str, reason: str | None) -> None:
    assert parse_assertion(text).check(DOCUMENT) == reason


@pytest.mark.parametrize(
    ("document", "text", "reason"),
    [
        ([1, 2], "1 == 2", None),
        ([1, 2], "2 == 2", "2 is missing"),
        ("ok", "status exists", "status is missing"),
        (None, "status exists", "status is missing"),
        ({"a": {"b": []}}, "a.b exists", None),
    ],
)
def test_check_other_documents(document: Any, text: str, reason: str | None) -> None:
    assert parse_assertion(text).check(document) == reason


def test_check_cuts_long_values_to_one_line() -> None:
    reason = parse_assertion('big == "y"').check({"big": "x\n" * 500})
    assert reason is not None
    assert reason.startswith('big is "x\\nx\\n')
    assert reason.endswith('…, expected "y"')
    assert "\n" not in reason
    assert len(reason) < 200


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)


@given(JSON_SCALARS)
def test_any_json_scalar_equals_itself(value: Any) -> None:
    text = f"a.b == {json.dumps(value)}"
    assert parse_assertion(text).check({"a": {"b": value}}) is None


@given(JSON_SCALARS)
def test_any_json_scalar_is_not_different_from_itself(value: Any) -> None:
    reason = parse_assertion(f"a.b != {json.dumps(value)}").check({"a": {"b": value}})
    assert reason is not None
    assert reason.startswith("a.b is ")
    assert "\n" not in reason


@given(JSON_SCALARS, JSON_SCALARS)
def test_reasons_are_one_line(actual: Any, expected: Any) -> None:
    reason = parse_assertion(f"a == {json.dumps(expected)}").check({"a": actual})
    assert reason is None or "\n" not in reason


STATUS_OK = parse_assertion('status == "ok"')
DATABASE_OK = parse_assertion('checks.database == "ok"')
HEALTHY_BODY = '{"status": "ok", "checks": {"database": "ok"}}'
SICK_BODY = '{"status": "error", "checks": {"database": "error"}}'

# status, body, expected_status, assertions, error, reasons
HTTP = [
    (200, HEALTHY_BODY, [200], [STATUS_OK, DATABASE_OK], None, []),
    (200, HEALTHY_BODY, [200], [], None, []),
    (200, "not JSON at all", [200], [], None, []),
    (204, "", [200, 204], [], None, []),
    (503, HEALTHY_BODY, [200], [], None, ["HTTP status 503, expected 200"]),
    (
        503,
        SICK_BODY,
        [200],
        [STATUS_OK, DATABASE_OK],
        None,
        [
            "HTTP status 503, expected 200",
            'status is "error", expected "ok"',
            'checks.database is "error", expected "ok"',
        ],
    ),
    (200, SICK_BODY, [200], [DATABASE_OK], None, ['checks.database is "error", expected "ok"']),
    (301, "", [200, 204], [], None, ["HTTP status 301, expected one of 200, 204"]),
    (
        200,
        "<html>Bad Gateway</html>",
        [200],
        [STATUS_OK],
        None,
        ['body is not JSON: "<html>Bad Gateway</html>"'],
    ),
    (200, "  ", [200], [STATUS_OK], None, ["body is not JSON: empty"]),
    (
        502,
        "",
        [200],
        [STATUS_OK],
        None,
        ["HTTP status 502, expected 200", "body is not JSON: empty"],
    ),
    (200, '{"status": "ok"}', [200], [DATABASE_OK], None, ["checks.database is missing"]),
    (None, "", [200], [STATUS_OK], "timeout after 3 s", ["request failed: timeout after 3 s"]),
    (
        None,
        "",
        [200],
        [],
        "cannot connect: [Errno 111] Connection refused",
        ["request failed: cannot connect: [Errno 111] Connection refused"],
    ),
    (None, "", [200], [], None, ["request failed: no response"]),
]


@pytest.mark.parametrize(
    ("status", "body", "expected_status", "assertions", "error", "reasons"), HTTP
)
def test_evaluate_http(
    status: int | None,
    body: str,
    expected_status: list[int],
    assertions: list[FieldAssertion],
    error: str | None,
    reasons: list[str],
) -> None:
    assert evaluate_http(status, body, expected_status, assertions, error) == reasons


def container(
    service: str,
    state: str = "running",
    health: str = "",
    exit_code: int = 0,
    restarts: int | None = None,
    started: str | None = None,
    oneshot_label: str | None = None,
) -> dict[str, Any]:
    """One entry of `docker compose ps --all --format json`, as Compose 2.26 prints it,
    with what the module adds from `docker inspect` when given (restarts, start, label)."""
    entry: dict[str, Any] = {
        "Command": '"/entrypoint.sh web --password=hunter2"',
        "ID": f"{service}0123456789",
        "Name": f"stickforstats-{service}-1",
        "Project": "stickforstats",
        "Service": service,
        "State": state,
        "Health": health,
        "ExitCode": exit_code,
        "Status": "Up 3 seconds",
    }
    if restarts is not None:
        entry["RestartCount"] = restarts
    if started is not None:
        entry["StartedAt"] = started
    if oneshot_label is not None:
        entry["OneShotLabel"] = oneshot_label
    return entry


# containers, expected services, fatal, pending
CONTAINERS = [
    ([], None, [], []),
    ([], [], [], []),
    ([container("backend"), container("db", health="healthy")], ["backend", "db"], [], []),
    ([container("backend", restarts=0)], None, [], []),
    (
        [container("backend", "exited", exit_code=3)],
        None,
        ["container stickforstats-backend-1 (backend) exited with code 3"],
        [],
    ),
    (
        [container("migrate", "exited", exit_code=0)],
        None,
        ["container stickforstats-migrate-1 (migrate) exited with code 0"],
        [],
    ),
    (
        [container("backend", "exited", exit_code=137, restarts=4)],
        None,
        ["container stickforstats-backend-1 (backend) exited with code 137, restarted 4 times"],
        [],
    ),
    (
        [container("backend", "dead", exit_code=1)],
        None,
        ["container stickforstats-backend-1 (backend) is dead (exit code 1)"],
        [],
    ),
    (
        [container("backend", "restarting", exit_code=3, restarts=2)],
        None,
        [
            "container stickforstats-backend-1 (backend) is restarting "
            "(last exit code 3, restarted 2 times)"
        ],
        [],
    ),
    (
        [container("backend", restarts=2)],
        None,
        ["container stickforstats-backend-1 (backend) restarted 2 times"],
        [],
    ),
    (
        [container("backend", health="unhealthy")],
        None,
        ["container stickforstats-backend-1 (backend) is unhealthy"],
        [],
    ),
    (
        [container("backend", "paused")],
        None,
        ["container stickforstats-backend-1 (backend) is paused"],
        [],
    ),
    (
        [container("backend", "created")],
        None,
        [],
        ["container stickforstats-backend-1 (backend) is created but not started"],
    ),
    (
        [container("backend", health="starting")],
        None,
        [],
        ["container stickforstats-backend-1 (backend) is running, its health check is starting"],
    ),
    (
        [container("backend", "removing")],
        None,
        [],
        ["container stickforstats-backend-1 (backend) is removing"],
    ),
    (
        [container("backend")],
        ["backend", "worker"],
        ["service worker has no container"],
        [],
    ),
    (
        [container("backend", "exited", exit_code=1)],
        ["backend"],
        ["container stickforstats-backend-1 (backend) exited with code 1"],
        [],
    ),
    (
        [
            container("db", health="healthy"),
            container("backend", health="starting"),
            container("worker", "exited", exit_code=2),
            container("nginx", "created"),
        ],
        ["db", "backend", "worker", "nginx", "beat"],
        [
            "container stickforstats-worker-1 (worker) exited with code 2",
            "service beat has no container",
        ],
        [
            "container stickforstats-backend-1 (backend) is running, its health check is starting",
            "container stickforstats-nginx-1 (nginx) is created but not started",
        ],
    ),
]


@pytest.mark.parametrize(("containers", "services", "fatal", "pending"), CONTAINERS)
def test_evaluate_containers(
    containers: list[dict[str, Any]],
    services: list[str] | None,
    fatal: list[str],
    pending: list[str],
) -> None:
    assert evaluate_containers(containers, services) == (fatal, pending, [])


def test_evaluate_containers_never_shows_command_lines() -> None:
    containers = [container("backend", state) for state in ("exited", "restarting", "created")]
    fatal, pending, notes = evaluate_containers(containers, ["backend", "x"])
    assert notes == []
    assert "hunter2" not in json.dumps([fatal, pending])


# The baseline: restarts before SINCE are history (issue 14, item 1).
SINCE = 1796292000.0  # 2026-12-03T10:00:00Z, when the run took its lock
BEFORE = "2026-12-03T09:00:00.123456789Z"
AFTER = "2026-12-03T10:00:05.5Z"
AT = "2026-12-03T10:00:00Z"
REDIS = "container stickforstats-redis-1 (redis)"
MIGRATE = "container stickforstats-migrate-1 (migrate)"

# containers, since, fatal, pending, notes
BASELINE = [
    (  # killed once long ago, brought back by its restart policy: history
        [container("redis", health="healthy", restarts=1, started=BEFORE)],
        SINCE,
        [],
        [],
        [
            f"{REDIS} restarted 1 times before the baseline 2026-12-03T10:00:00Z;"
            " running since 2026-12-03T09:00:00Z"
        ],
    ),
    (  # the same without a healthcheck
        [container("redis", restarts=3, started=BEFORE)],
        SINCE,
        [],
        [],
        [
            f"{REDIS} restarted 3 times before the baseline 2026-12-03T10:00:00Z;"
            " running since 2026-12-03T09:00:00Z"
        ],
    ),
    (  # restarted during this run
        [container("redis", health="healthy", restarts=1, started=AFTER)],
        SINCE,
        [
            f"{REDIS} restarted 1 times, the last at 2026-12-03T10:00:05Z,"
            " after the baseline 2026-12-03T10:00:00Z"
        ],
        [],
        [],
    ),
    (  # at the baseline is during this run
        [container("redis", restarts=2, started=AT)],
        SINCE,
        [
            f"{REDIS} restarted 2 times, the last at 2026-12-03T10:00:00Z,"
            " after the baseline 2026-12-03T10:00:00Z"
        ],
        [],
        [],
    ),
    (  # a past restart excuses nothing that is wrong now
        [container("redis", "restarting", exit_code=1, restarts=1, started=BEFORE)],
        SINCE,
        [f"{REDIS} is restarting (last exit code 1, restarted 1 times)"],
        [],
        [],
    ),
    (
        [container("redis", health="unhealthy", restarts=1, started=BEFORE)],
        SINCE,
        [f"{REDIS} is unhealthy, restarted 1 times"],
        [],
        [],
    ),
    (
        [container("redis", "exited", exit_code=137, restarts=1, started=BEFORE)],
        SINCE,
        [f"{REDIS} exited with code 137, restarted 1 times"],
        [],
        [],
    ),
    (  # history only once it is healthy again: waited for meanwhile
        [container("redis", health="starting", restarts=1, started=BEFORE)],
        SINCE,
        [],
        [f"{REDIS} is running, its health check is starting"],
        [],
    ),
    (  # start unknown: judged over its whole life
        [container("redis", restarts=1)],
        SINCE,
        [f"{REDIS} restarted 1 times"],
        [],
        [],
    ),
    (
        [container("redis", restarts=1, started="0001-01-01T00:00:00Z")],
        SINCE,
        [f"{REDIS} restarted 1 times"],
        [],
        [],
    ),
    (  # no baseline: the whole life counts
        [container("redis", restarts=1, started=BEFORE)],
        None,
        [f"{REDIS} restarted 1 times"],
        [],
        [],
    ),
    (  # never restarted: nothing to say
        [container("redis", health="healthy", restarts=0, started=BEFORE)],
        SINCE,
        [],
        [],
        [],
    ),
]


@pytest.mark.parametrize(("containers", "since", "fatal", "pending", "notes"), BASELINE)
def test_evaluate_containers_since_a_baseline(
    containers: list[dict[str, Any]],
    since: float | None,
    fatal: list[str],
    pending: list[str],
    notes: list[str],
) -> None:
    assert evaluate_containers(containers, None, since=since) == (fatal, pending, notes)


# containers, one-shot services, fatal, notes
ONESHOT = [
    (  # a declared one-shot service that ran to completion
        [container("migrate", "exited", exit_code=0)],
        ["migrate"],
        [],
        [f"{MIGRATE} is one-shot and exited with code 0"],
    ),
    (  # declared by its label in the compose file
        [container("migrate", "exited", exit_code=0, oneshot_label="true")],
        [],
        [],
        [f"{MIGRATE} is one-shot and exited with code 0"],
    ),
    (
        [container("migrate", "exited", exit_code=0, oneshot_label="True")],
        [],
        [],
        [f"{MIGRATE} is one-shot and exited with code 0"],
    ),
    (  # a one-shot service that failed
        [container("migrate", "exited", exit_code=1)],
        ["migrate"],
        [f"{MIGRATE} exited with code 1"],
        [],
    ),
    (  # not declared: a service that stops is down, whatever its exit code
        [container("migrate", "exited", exit_code=0)],
        ["backend"],
        [f"{MIGRATE} exited with code 0"],
        [],
    ),
    (
        [container("migrate", "exited", exit_code=0, oneshot_label="false")],
        [],
        [f"{MIGRATE} exited with code 0"],
        [],
    ),
    (
        [container("migrate", "exited", exit_code=0, oneshot_label="")],
        [],
        [f"{MIGRATE} exited with code 0"],
        [],
    ),
    (  # it succeeded, but only after its restart policy brought it back during this run
        [container("migrate", "exited", exit_code=0, restarts=2, started=AFTER)],
        ["migrate"],
        [f"{MIGRATE} exited with code 0, restarted 2 times"],
        [],
    ),
    (  # restarts before the baseline are history
        [container("migrate", "exited", exit_code=0, restarts=2, started=BEFORE)],
        ["migrate"],
        [],
        [f"{MIGRATE} is one-shot and exited with code 0"],
    ),
    (  # still at work
        [container("migrate")],
        ["migrate"],
        [],
        [],
    ),
    (
        [container("migrate", "dead", exit_code=0)],
        ["migrate"],
        [f"{MIGRATE} is dead (exit code 0)"],
        [],
    ),
    (  # a declared service must still have its container
        [container("backend")],
        ["migrate"],
        [],
        [],
    ),
]


@pytest.mark.parametrize(("containers", "oneshot", "fatal", "notes"), ONESHOT)
def test_evaluate_containers_one_shot_services(
    containers: list[dict[str, Any]], oneshot: list[str], fatal: list[str], notes: list[str]
) -> None:
    assert evaluate_containers(containers, None, since=SINCE, oneshot_services=oneshot) == (
        fatal,
        [],
        notes,
    )


def test_a_one_shot_service_listed_in_services_must_have_a_container() -> None:
    assert evaluate_containers([], ["migrate"], since=SINCE, oneshot_services=["migrate"]) == (
        ["service migrate has no container"],
        [],
        [],
    )


def test_container_summary() -> None:
    summary = container_summary(container("backend", "exited", exit_code=3, restarts=1))
    assert summary == {
        "service": "backend",
        "name": "stickforstats-backend-1",
        "state": "exited",
        "health": "",
        "exit_code": 3,
        "restart_count": 1,
        "started_at": None,
    }
    unknown = container_summary({"Service": "x", "Name": "x-1", "State": "running"})
    assert unknown["restart_count"] is None
    assert unknown["exit_code"] is None
    assert container_summary(container("redis", restarts=1, started=BEFORE))["started_at"] == (
        BEFORE
    )


@pytest.mark.parametrize(
    ("text", "services"),
    [
        ("", []),
        ("\n  \n", []),
        ("[]", []),
        (json.dumps(container("a")), ["a"]),
        ("\n".join(json.dumps(container(s)) for s in "ab") + "\n", ["a", "b"]),
        (json.dumps([container("a"), container("b")]), ["a", "b"]),
        (json.dumps([container("a"), container("b")], indent=2), ["a", "b"]),
    ],
    ids=["empty", "blank", "empty-array", "one-object", "ndjson", "array", "indented-array"],
)
def test_parse_compose_ps(text: str, services: list[str]) -> None:
    assert [c["Service"] for c in parse_compose_ps(text)] == services


@pytest.mark.parametrize(
    "text", ["no such project", '["a"]', '"a"', "1", '{"a": 1}\n[1]', '{"a": 1}\nnope']
)
def test_parse_compose_ps_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_compose_ps(text)


def test_parse_inspect() -> None:
    text = (
        '["/stickforstats-backend-1",0,"2026-12-03T09:00:00.123456789Z",""]\n'
        '["/stickforstats_redis",1,"2026-12-03T09:30:00Z","true"]\n'
        "Error: No such object: 0123abc\n"
        "\n"
        "garbage\n"
        '["/no-count","x","2026-12-03T09:00:00Z",""]\n'
        '["/too-short",1]\n'
        '{"not": "a list"}\n'
    )
    assert parse_inspect(text) == {
        "stickforstats-backend-1": {
            "RestartCount": 0,
            "StartedAt": "2026-12-03T09:00:00.123456789Z",
            "OneShotLabel": "",
            "ConfigLabel": "",
        },
        "stickforstats_redis": {
            "RestartCount": 1,
            "StartedAt": "2026-12-03T09:30:00Z",
            "OneShotLabel": "true",
            "ConfigLabel": "",
        },
    }


# Docker's timestamps (RFC 3339, nanoseconds), and the epoch seconds they stand for
DOCKER_TIMES = [
    ("2026-12-03T10:00:00Z", SINCE),
    ("2026-12-03T10:00:00.5Z", SINCE + 0.5),
    ("2026-12-03T10:00:05.123456789Z", SINCE + 5.123456),
    ("2026-12-03T11:00:00+01:00", SINCE),
    ("2026-12-03T09:30:00-00:30", SINCE),
    ("0001-01-01T00:00:00Z", None),  # never started
    ("", None),
    ("yesterday", None),
    (None, None),
    (1796292000, None),
]


@pytest.mark.parametrize(("text", "epoch"), DOCKER_TIMES)
def test_parse_docker_time(text: Any, epoch: float | None) -> None:
    parsed = parse_docker_time(text)
    if epoch is None:
        assert parsed is None
    else:
        assert parsed == pytest.approx(epoch, abs=1e-6)


def test_attempt() -> None:
    assert Attempt(status=200).healthy
    assert Attempt().reasons == []
    attempt = Attempt(http_reasons=("http",), fatal=("fatal",), pending=("pending",))
    assert not attempt.healthy
    assert attempt.reasons == ["fatal", "pending", "http"]
    assert not Attempt(pending=("p",)).healthy
