"""Decide whether a deployed application is healthy, from what the checks saw.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice. It does no I/O: the ``health_check``
module fetches the health endpoint and lists the Compose containers, and the
functions here judge the results.

An assertion on the health endpoint's JSON body reads::

    assertion := path ( "==" | "!=" ) json-literal
               | path "exists"
    path      := key ( "." key )*
    key       := one or more of letters, digits, "_", "-", "@", "$"

A key made of digits indexes a list (``items.0.name``) and names a key of an
object. The literal is a JSON string (double quotes), number, ``true``,
``false`` or ``null``. Every assertion needs its path to exist: ``x != "error"``
does not hold when ``x`` is missing.

Containers are judged against a baseline, ``since`` (epoch seconds on the
host's clock, such as when the run took its deploy lock): a container whose
current run started before it, and that runs (healthy where it has a
healthcheck) now, restarted before the baseline; those restarts are history,
reported as notes. One that started at or after the baseline and has restarts
was restarted during the run: fatal. A container of a one-shot service (listed,
or labelled :data:`ONESHOT_LABEL`) that exited 0 has done its job.

The rules for a container are ``_containers.judge``'s (shared with
``compose_rollout``); this module words them. A stopped container of a release
that does not serve is a leftover, not a failure (``_leftovers``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import (
    Container,
    Verdict,
    from_compose_ps,
    judge,
    restart_count,
)

__all__ = [
    "Attempt",
    "FieldAssertion",
    "HealthSpecError",
    "container_summary",
    "evaluate_containers",
    "evaluate_http",
    "parse_assertion",
]

VALUE_SHOWN_MAX = 120
"""Longest rendering of a value in a reason; longer ones are cut with an ellipsis."""

_PATH_RE = re.compile(r"[\w@$-]+(?:\.[\w@$-]+)*")
_INDEX_RE = re.compile(r"[0-9]+", re.ASCII)
_OPERATORS = ("==", "!=")
_EXISTS = "exists"
_MISSING = object()
_TRUE = ("true", "yes", "1")


class HealthSpecError(ValueError):
    """An assertion is not valid; the message quotes it."""

    def __init__(self, text: object, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid assertion {text!r}: {reason}")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _show(value: Any) -> str:
    """One-line JSON rendering of a value, cut to :data:`VALUE_SHOWN_MAX` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    if len(text) > VALUE_SHOWN_MAX:
        text = text[: VALUE_SHOWN_MAX - 1] + "…"
    return text


def _json_equal(actual: Any, expected: str | int | float | bool | None) -> bool:
    """Equality as JSON sees it: ``1 == 1.0``, but ``true`` is not ``1``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and actual == expected
    if expected is None:
        return actual is None
    return isinstance(actual, str) and actual == expected


@dataclass(frozen=True)
class FieldAssertion:
    """A check on one field of a JSON document, such as ``checks.database == "ok"``."""

    text: str
    """The assertion as written."""
    path: tuple[str, ...]
    operator: str
    """``==``, ``!=`` or ``exists``."""
    expected: str | int | float | bool | None = None
    """The literal compared with (``None`` for ``exists``)."""

    @property
    def dotted_path(self) -> str:
        return ".".join(self.path)

    def resolve(self, document: Any) -> Any:
        """The value at :attr:`path` in ``document``, or a private sentinel when missing."""
        current = document
        for key in self.path:
            if isinstance(current, dict):
                if key not in current:
                    return _MISSING
                current = current[key]
            elif isinstance(current, list) and _INDEX_RE.fullmatch(key):
                index = int(key)
                if index >= len(current):
                    return _MISSING
                current = current[index]
            else:
                return _MISSING
        return current

    def check(self, document: Any) -> str | None:
        """``None`` when the assertion holds for ``document``, else a one-line reason."""
        actual = self.resolve(document)
        where = self.dotted_path
        if actual is _MISSING:
            return f"{where} is missing"
        if self.operator == _EXISTS:
            return None
        equal = _json_equal(actual, self.expected)
        if self.operator == "==" and not equal:
            return f"{where} is {_show(actual)}, expected {_show(self.expected)}"
        if self.operator == "!=" and equal:
            return f"{where} is {_show(actual)}, expected anything but {_show(self.expected)}"
        return None

    def __str__(self) -> str:
        return self.text


def parse_assertion(text: str) -> FieldAssertion:
    """Parse ``path == literal``, ``path != literal`` or ``path exists``.

    Raises :class:`HealthSpecError` (a :class:`ValueError`) quoting ``text``.
    """
    if not isinstance(text, str):
        raise HealthSpecError(text, f"expected a string, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise HealthSpecError(text, "assertion is empty")
    match = re.match(r"[^\s=!]+", stripped)
    if match is None:
        raise HealthSpecError(text, "assertion must start with a field path")
    path_text = match.group(0)
    if not _PATH_RE.fullmatch(path_text):
        raise HealthSpecError(
            text,
            f"field path {path_text!r} is not valid (keys of letters, digits, '_', '-', "
            "'@' or '$' joined by '.')",
        )
    path = tuple(path_text.split("."))
    rest = stripped[match.end() :].lstrip()
    if rest == _EXISTS:
        return FieldAssertion(text=text, path=path, operator=_EXISTS)
    operator = rest[:2]
    if operator not in _OPERATORS:
        raise HealthSpecError(text, "expected '==', '!=' or 'exists' after the field path")
    literal = rest[2:].strip()
    if not literal:
        raise HealthSpecError(text, f"no value after {operator!r}")
    decoder = json.JSONDecoder(parse_constant=_reject_constant)
    try:
        expected, end = decoder.raw_decode(literal)
    except ValueError as exc:
        raise HealthSpecError(
            text,
            f"{literal!r} is not a JSON literal (strings take double quotes; "
            f"numbers, true, false and null take none): {exc}",
        ) from None
    if literal[end:].strip():
        raise HealthSpecError(text, f"unexpected text after the value: {literal[end:]!r}")
    if isinstance(expected, (dict, list)):
        raise HealthSpecError(text, "the value must be a string, number, true, false or null")
    return FieldAssertion(text=text, path=path, operator=operator, expected=expected)


def evaluate_http(
    status: int | None,
    body: str,
    expected_status: list[int],
    assertions: list[FieldAssertion],
    error: str | None,
) -> list[str]:
    """Reasons a health endpoint's response is not healthy; empty when it is.

    ``error`` is a transport error (timeout, connection refused): there is no
    response to judge then. The status and every assertion are checked, so
    a ``503`` with ``checks.database == "error"`` gives both reasons.
    """
    if error is not None:
        return [f"request failed: {error}"]
    if status is None:
        return ["request failed: no response"]
    reasons: list[str] = []
    if status not in expected_status:
        wanted = ", ".join(str(code) for code in expected_status)
        several = len(expected_status) > 1
        reasons.append(f"HTTP status {status}, expected {'one of ' if several else ''}{wanted}")
    if assertions:
        try:
            document = json.loads(body)
        except ValueError:
            snippet = _show(body[:VALUE_SHOWN_MAX]) if body.strip() else "empty"
            reasons.append(f"body is not JSON: {snippet}")
            return reasons
        for assertion in assertions:
            reason = assertion.check(document)
            if reason is not None:
                reasons.append(reason)
    return reasons


def _label(container: dict[str, Any]) -> str:
    name = container.get("Name") or container.get("ID") or "?"
    service = container.get("Service")
    return f"container {name} ({service})" if service else f"container {name}"


def _utc(epoch: float) -> str:
    """Epoch seconds as ``2026-12-03T10:00:05Z`` (the fraction dropped)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _is_oneshot(container: dict[str, Any], oneshot_services: Collection[str]) -> bool:
    if container.get("Service") in oneshot_services:
        return True
    return str(container.get("OneShotLabel") or "").strip().lower() in _TRUE


def _judge(container: dict[str, Any], since: float | None, oneshot: bool) -> tuple[str, str | None]:
    """``("fatal" | "pending" | "good", reason)`` for one ``docker compose ps`` entry.

    The rules are :func:`judge`'s (restarts counted since the baseline); this
    says why. A good container's reason is a note (a restart before the
    baseline, a one-shot service done), or ``None``.
    """
    record = from_compose_ps(container)
    verdict = judge(record, since=since, oneshot=oneshot)
    return verdict.verdict, _reason(_label(container), record, verdict, since)


def _reason(label: str, c: Container, verdict: Verdict, since: float | None) -> str | None:
    """The wording of a :class:`Verdict` for ``health_check``."""
    restarts, started, exit_code = c.restarts, c.started, c.exit_code
    restarted = f", restarted {restarts} times" if restarts else ""
    if verdict.cause == "restarted":
        if not since or started is None:  # no baseline, or 0: the whole life
            return f"{label} restarted {restarts} times"
        return (
            f"{label} restarted {restarts} times, the last at {_utc(started)},"
            f" after the baseline {_utc(since)}"
        )
    if verdict.cause == "restarted before" and since is not None and started is not None:
        return (
            f"{label} restarted {restarts} times before the baseline {_utc(since)};"
            f" running since {_utc(started)}"
        )
    return {
        "oneshot done": f"{label} is one-shot and exited with code 0",
        "exited": f"{label} exited with code {exit_code}{restarted}",
        "dead": f"{label} is dead (exit code {exit_code}){restarted}",
        "restarting": f"{label} is restarting (last exit code {exit_code}{restarted})",
        "unhealthy": f"{label} is unhealthy{restarted}",
        "paused": f"{label} is paused",
        "created": f"{label} is created but not started",
        "not running": f"{label} is {c.state or 'in an unknown state'}",
        "starting": f"{label} is running, its health check is starting",
        "health": f"{label} has health {c.health!r}",
    }.get(verdict.cause)


def evaluate_containers(
    containers: list[dict[str, Any]],
    expected_services: list[str] | None,
    since: float | None = None,
    oneshot_services: Collection[str] = (),
) -> tuple[list[str], list[str], list[str]]:
    """Judge the containers of a Compose project: ``(fatal, pending, notes)``.

    ``containers`` are the entries of ``docker compose ps --all --format json``
    (``Service``, ``Name``, ``State``, ``Health``, ``ExitCode``...), optionally
    with what :func:`parse_inspect` read (``RestartCount``, ``StartedAt``,
    ``OneShotLabel``). Fatal problems will not go away by waiting: a container
    exited (but a one-shot one with code 0), dead, restarting, unhealthy, or
    restarted at or after ``since`` (``None``: ever), or an expected service
    without a container. Pending ones may: a container created but not
    started, or whose health check is starting. Fatal and pending empty means
    every container runs, healthy or without a health check, or is a one-shot
    service done. Notes say what was forgiven: restarts before ``since``, and
    one-shot services that exited 0.
    """
    fatal: list[str] = []
    pending: list[str] = []
    notes: list[str] = []
    for container in containers:
        oneshot = _is_oneshot(container, oneshot_services)
        verdict, reason = _judge(container, since, oneshot)
        if reason is None:
            continue
        {"fatal": fatal, "pending": pending, "good": notes}[verdict].append(reason)
    present = {container.get("Service") for container in containers}
    for service in expected_services or []:
        if service not in present:
            fatal.append(f"service {service} has no container")
    return fatal, pending, notes


def container_summary(container: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``docker compose ps`` entry worth returning.

    Never the command line, which can hold secrets.
    """
    exit_code = container.get("ExitCode")
    return {
        "service": container.get("Service"),
        "name": container.get("Name"),
        "state": container.get("State"),
        "health": container.get("Health") or "",
        "exit_code": exit_code if isinstance(exit_code, int) else None,
        "restart_count": restart_count(container.get("RestartCount")),
        "started_at": container.get("StartedAt") or None,
    }


@dataclass(frozen=True)
class Attempt:
    """What one round of checks saw, and why it was not healthy."""

    status: int | None = None
    body: str = ""
    error: str | None = None
    http_reasons: tuple[str, ...] = ()
    fatal: tuple[str, ...] = ()
    """Container problems that waiting will not fix."""
    pending: tuple[str, ...] = ()
    containers: tuple[dict[str, Any], ...] = ()
    """:func:`container_summary` of every container seen."""
    notes: tuple[str, ...] = ()
    """What was forgiven: restarts before the baseline, one-shot services done, leftovers."""
    leftovers: tuple[dict[str, Any], ...] = ()
    """:func:`container_summary` of the stopped containers of a release that does not serve."""

    @property
    def healthy(self) -> bool:
        return not (self.http_reasons or self.fatal or self.pending)

    @property
    def reasons(self) -> list[str]:
        """Every reason, the fatal ones first."""
        return [*self.fatal, *self.pending, *self.http_reasons]
