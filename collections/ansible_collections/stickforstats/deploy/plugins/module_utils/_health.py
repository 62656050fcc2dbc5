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
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Attempt",
    "FieldAssertion",
    "HealthSpecError",
    "container_summary",
    "evaluate_containers",
    "evaluate_http",
    "parse_assertion",
    "parse_compose_ps",
    "parse_restart_counts",
]

VALUE_SHOWN_MAX = 120
"""Longest rendering of a value in a reason; longer ones are cut with an ellipsis."""

_PATH_RE = re.compile(r"[\w@$-]+(?:\.[\w@$-]+)*")
_INDEX_RE = re.compile(r"[0-9]+", re.ASCII)
_OPERATORS = ("==", "!=")
_EXISTS = "exists"
_MISSING = object()


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


def _restart_count(container: dict[str, Any]) -> int | None:
    value = container.get("RestartCount")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INDEX_RE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _judge(container: dict[str, Any]) -> tuple[str, str | None]:
    """``("fatal" | "pending" | "good", reason)`` for one ``docker compose ps`` entry."""
    label = _label(container)
    state = str(container.get("State") or "").lower()
    health = str(container.get("Health") or "").lower()
    exit_code = container.get("ExitCode")
    restarts = _restart_count(container)
    restarted = f", restarted {restarts} times" if restarts else ""
    if state == "exited":
        return "fatal", f"{label} exited with code {exit_code}{restarted}"
    if state == "dead":
        return "fatal", f"{label} is dead (exit code {exit_code}){restarted}"
    if state == "restarting":
        return "fatal", f"{label} is restarting (last exit code {exit_code}{restarted})"
    if health == "unhealthy":
        return "fatal", f"{label} is unhealthy{restarted}"
    if restarts:
        return "fatal", f"{label} restarted {restarts} times"
    if state == "paused":
        return "fatal", f"{label} is paused"
    if state == "created":
        return "pending", f"{label} is created but not started"
    if state != "running":
        return "pending", f"{label} is {state or 'in an unknown state'}"
    if health == "starting":
        return "pending", f"{label} is running, its health check is starting"
    if health in ("", "healthy"):
        return "good", None
    return "pending", f"{label} has health {health!r}"


def evaluate_containers(
    containers: list[dict[str, Any]], expected_services: list[str] | None
) -> tuple[list[str], list[str]]:
    """Judge the containers of a Compose project: ``(fatal, pending)`` reasons.

    ``containers`` are the entries of ``docker compose ps --all --format json``
    (``Service``, ``Name``, ``State``, ``Health``, ``ExitCode``...), optionally
    with ``RestartCount`` from ``docker inspect``. Fatal problems will not go
    away by waiting: a container exited, dead, restarting, restarted or
    unhealthy, or an expected service without a container. Pending ones may:
    a container created but not started, or whose health check is starting.
    Both lists empty means every container runs, healthy or without a health
    check.
    """
    fatal: list[str] = []
    pending: list[str] = []
    for container in containers:
        verdict, reason = _judge(container)
        if verdict == "fatal" and reason is not None:
            fatal.append(reason)
        elif verdict == "pending" and reason is not None:
            pending.append(reason)
    present = {container.get("Service") for container in containers}
    for service in expected_services or []:
        if service not in present:
            fatal.append(f"service {service} has no container")
    return fatal, pending


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
        "restart_count": _restart_count(container),
    }


def parse_compose_ps(text: str) -> list[dict[str, Any]]:
    """Containers from ``docker compose ps --format json``.

    Compose up to 2.20 and from 2.21 on print respectively a JSON array or one
    JSON object per line; both are read, and empty output means no containers.
    Raises :class:`ValueError` on anything else.
    """
    stripped = text.strip()
    if not stripped:
        return []
    try:
        parsed = json.loads(stripped)
    except ValueError:
        parsed = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
        raise ValueError("expected JSON objects, one per container")
    return parsed


def parse_restart_counts(text: str) -> dict[str, int]:
    """Container name to restart count, from ``docker inspect --format '{{.Name}} {{.RestartCount}}'``.

    Docker prints names with a leading ``/``, which is dropped. Lines that do not
    fit (errors about containers gone in between) are skipped.
    """
    counts: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and _INDEX_RE.fullmatch(parts[1]):
            counts[parts[0].lstrip("/")] = int(parts[1])
    return counts


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

    @property
    def healthy(self) -> bool:
        return not (self.http_reasons or self.fatal or self.pending)

    @property
    def reasons(self) -> list[str]:
        """Every reason, the fatal ones first."""
        return [*self.fatal, *self.pending, *self.http_reasons]
