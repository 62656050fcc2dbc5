"""The checks of one run of ``health_check``: the endpoint, the containers, the loop.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice. The module
(``plugins/modules/health_check.py``) documents the options and what they do;
:class:`HealthCheck` does it with the judging of ``_health`` and ``_containers``.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import (
    INSPECT_FORMAT,
    parse_compose_ps,
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
from ansible_collections.stickforstats.deploy.plugins.module_utils._leftovers import (
    leftover_note,
    serving_configs,
    split_leftovers,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import read_state

LAST_BODY_MAX = 2000
"""Characters of the last body returned."""
BODY_READ_MAX = 1024 * 1024
"""Bytes of a body read; the rest is ignored."""
ERROR_TEXT_MAX = 300
"""Characters of a command's error output kept in a reason."""
MESSAGE_REASONS_MAX = 3
"""Reasons spelled out in the failure message; all of them are in ``reasons``."""
USER_AGENT = "stickforstats.deploy.health_check"

CommandRunner = Callable[[list[str]], tuple[int, str, str]]
"""Runs a command (no shell) and returns its exit code, stdout and stderr."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Makes a redirect an answer of its own (an HTTPError with its status)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _one_line(text: str, limit: int = ERROR_TEXT_MAX) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _summary(reasons: list[str]) -> str:
    shown = "; ".join(reasons[:MESSAGE_REASONS_MAX])
    more = len(reasons) - MESSAGE_REASONS_MAX
    return f"{shown} (and {more} more)" if more > 0 else shown


def _parse_json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _read(response: Any) -> str:
    return response.read(BODY_READ_MAX).decode("utf-8", errors="replace")


def validate(params: dict[str, Any]) -> tuple[list[FieldAssertion], list[str]]:
    """The parsed assertions, and every problem found in the options."""
    problems: list[str] = []
    url = urllib.parse.urlsplit(params["url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        problems.append(f"url {params['url']!r} is not an http:// or https:// URL")
    statuses = params["expected_status"] or []
    if not statuses:
        problems.append("expected_status is empty")
    problems.extend(
        f"expected_status {code} is not an HTTP status"
        for code in statuses
        if not 100 <= code <= 599
    )
    if params["timeout"] <= 0:
        problems.append("timeout must be positive")
    for name in ("interval", "deadline", "stable_for"):
        if params[name] < 0:
            problems.append(f"{name} must not be negative")
    if params["stable_for"] > params["deadline"]:
        problems.append("stable_for must not exceed deadline")
    for name in ("services", "oneshot_services", "rollout_state"):
        if params.get(name) and not params.get("project_name"):
            problems.append(f"{name} needs project_name")
    if params.get("since") is not None and params["since"] < 0:
        problems.append("since must not be negative")
    assertions: list[FieldAssertion] = []
    for text in params["assertions"] or []:
        try:
            assertions.append(parse_assertion(text))
        except HealthSpecError as exc:
            problems.append(str(exc))
    return assertions, problems


class HealthCheck:
    """The checks of one module run; :meth:`run` loops until healthy or the deadline.

    ``run_command`` is the seam to Docker: the module passes
    ``AnsibleModule.run_command``, tests a fake. ``clock`` and ``sleep`` default
    to :func:`time.monotonic` and :func:`time.sleep`; ``wall_clock``, which gives
    the baseline when ``since`` is not set, to :func:`time.time`.
    """

    def __init__(
        self,
        params: dict[str, Any],
        run_command: CommandRunner | None = None,
        docker: str = "docker",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        assertions, problems = validate(params)
        if problems:
            raise ValueError("; ".join(problems))
        self.params = params
        self.assertions = assertions
        self._run_command = run_command
        self.docker = docker
        self.clock = clock
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.since: float = params["since"] if params.get("since") is not None else wall_clock()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def run_command(self, args: list[str]) -> tuple[int, str, str]:
        if self._run_command is None:
            raise RuntimeError("container checks need a command runner")
        return self._run_command(args)

    def fetch(self) -> tuple[int | None, str, str | None]:
        """``(status, body, transport error)`` of one request to the health endpoint."""
        timeout = self.params["timeout"]
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.params.get("host_header"):
            headers["Host"] = self.params["host_header"]
        request = urllib.request.Request(self.params["url"], headers=headers, method="GET")
        timed_out = f"timeout after {timeout:g} s"
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return response.status, _read(response), None
        except urllib.error.HTTPError as exc:
            try:
                body = _read(exc)
            except TimeoutError:
                return exc.code, "", f"timeout after {timeout:g} s reading the body"
            except (OSError, http.client.HTTPException):
                body = ""
            finally:
                exc.close()
            return exc.code, body, None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return None, "", timed_out
            return None, "", f"cannot connect: {exc.reason}"
        except TimeoutError:
            return None, "", timed_out
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return None, "", _one_line(f"{type(exc).__name__}: {exc}")

    def list_containers(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The project's containers with what ``docker inspect`` adds (restart count, start
        time, one-shot label), and fatal errors listing them."""
        project = self.params["project_name"]
        rc, out, err = self.run_command(
            [self.docker, "compose", "-p", project, "ps", "--all", "--format", "json"]
        )
        if rc != 0:
            return [], [f"docker compose ps failed with exit code {rc}: {_one_line(err)}"]
        try:
            containers = parse_compose_ps(out)
        except ValueError as exc:
            return [], [f"docker compose ps printed no container list: {_one_line(str(exc))}"]
        ids = [
            str(c.get("ID") or c.get("Name")) for c in containers if c.get("ID") or c.get("Name")
        ]
        if not ids:
            return containers, []
        # Containers gone since `ps` make inspect fail; the others are still printed.
        _, out, _ = self.run_command([self.docker, "inspect", "--format", INSPECT_FORMAT, *ids])
        inspected = parse_inspect(out)
        return [{**c, **inspected.get(c.get("Name") or "", {})} for c in containers], []

    def rollout_state(self) -> dict[str, Any]:
        """The rolling strategy's state (``rollout_state``), ``{}`` when not given or not
        readable."""
        path = self.params.get("rollout_state")
        return read_state(path) if path else {}

    def attempt(self) -> Attempt:
        """One round: the containers (if a project is given), then the endpoint.

        The endpoint is not requested when a container problem is fatal.
        """
        fatal: list[str] = []
        pending: list[str] = []
        notes: list[str] = []
        summaries: tuple[dict[str, Any], ...] = ()
        leftovers: list[dict[str, Any]] = []
        if self.params.get("project_name"):
            containers, errors = self.list_containers()
            serving = serving_configs(self.rollout_state(), containers)
            containers, leftovers = split_leftovers(containers, serving)
            fatal, pending, notes = evaluate_containers(
                containers,
                self.params.get("services"),
                since=self.since,
                oneshot_services=self.params.get("oneshot_services") or (),
            )
            fatal = errors + fatal
            notes += [leftover_note(leftovers)] if leftovers else []
            summaries = tuple(container_summary(c) for c in containers)
            if fatal:
                return Attempt(
                    fatal=tuple(fatal),
                    pending=tuple(pending),
                    containers=summaries,
                    notes=tuple(notes),
                    leftovers=tuple(container_summary(c) for c in leftovers),
                )
        status, body, error = self.fetch()
        reasons = evaluate_http(
            status, body, self.params["expected_status"], self.assertions, error
        )
        return Attempt(
            status=status,
            body=body,
            error=error,
            http_reasons=tuple(reasons),
            pending=tuple(pending),
            containers=summaries,
            notes=tuple(notes),
            leftovers=tuple(container_summary(c) for c in leftovers),
        )

    def run(self) -> tuple[dict[str, Any], str | None]:
        """The module's result, and the failure message (``None`` when healthy)."""
        deadline = self.params["deadline"]
        stable_for = self.params["stable_for"]
        interval = self.params["interval"]
        start = self.clock()
        attempts = 0
        healthy_since: float | None = None
        while True:
            attempts += 1
            attempt = self.attempt()
            now = self.clock()
            elapsed = now - start
            done = f"{attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f} s"
            if attempt.fatal:
                message = f"{_summary(list(attempt.fatal))} after {done}"
                return self._result(attempt, attempts, elapsed, attempt.reasons), message
            if attempt.healthy:
                if healthy_since is None:
                    healthy_since = now
                if now - healthy_since >= stable_for:
                    return self._result(attempt, attempts, elapsed, []), None
            else:
                healthy_since = None
            if elapsed >= deadline:
                reasons = attempt.reasons
                if healthy_since is not None:
                    reasons = [
                        f"healthy for only {now - healthy_since:.1f} s of the "
                        f"{stable_for:g} s required by stable_for"
                    ]
                message = f"unhealthy after {done}: {_summary(reasons)}"
                return self._result(attempt, attempts, elapsed, reasons), message
            self.sleep(max(0.0, min(interval, deadline - elapsed)))

    def _result(
        self, attempt: Attempt, attempts: int, elapsed: float, reasons: list[str]
    ) -> dict[str, Any]:
        return {
            "changed": False,
            "healthy": not reasons,
            "attempts": attempts,
            "elapsed": round(elapsed, 3),
            "last_status": attempt.status,
            "last_body": attempt.body[:LAST_BODY_MAX],
            "last_json": _parse_json(attempt.body),
            "reasons": list(reasons),
            "containers": [dict(c) for c in attempt.containers],
            "notes": list(attempt.notes),
            "leftovers": [dict(c) for c in attempt.leftovers],
            "since": self.since,
        }
