"""A Compose project's containers: a typed record, how Docker lists them, and one verdict.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.

:class:`Container` is what both ``compose_rollout`` (from ``docker inspect``,
:func:`from_inspect`) and ``health_check`` (from ``docker compose ps`` with a
``docker inspect --format``, :func:`from_compose_ps`) know of a container.
:func:`judge` is the one set of rules saying whether a container is ready and
healthy, waiting, or beyond waiting for; its callers differ only in the
parameters they pass (restarts counted since a baseline, or not at all; a
one-shot service; a failing streak that fails early) and in their wording.
"""

from __future__ import annotations

import calendar
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils._data_services import (
    CONFIG_LABEL,
    SETTINGS_LABEL,
)

ONESHOT_LABEL = "stickforstats.deploy.oneshot"
"""Container label (set in the compose file) that declares a service one-shot."""
INSPECT_FORMAT = (
    "[{{json .Name}},{{.RestartCount}},{{json .State.StartedAt}},"
    f'{{{{json (index .Config.Labels "{ONESHOT_LABEL}")}}}},'
    f'{{{{json (index .Config.Labels "{CONFIG_LABEL}")}}}}]'
)
"""``docker inspect --format`` printing what :func:`parse_inspect` reads, one JSON array a line."""
_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
_DOCKER_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)

FATAL, PENDING, GOOD = "fatal", "pending", "good"
"""The three verdicts of :func:`judge`."""


@dataclass(frozen=True)
class Container:
    """One container of a Compose project, as the modules of this collection judge it.

    ``state`` is Docker's status in lower case (``running``, ``exited``...);
    ``health`` its healthcheck status, ``""`` without a healthcheck. Fields a
    listing does not know keep their defaults (``docker compose ps`` knows no
    IP address; ``restarts`` is ``None`` when Docker did not tell).
    """

    name: str = ""
    service: str = ""
    id: str = ""
    state: str = ""
    health: str = ""
    exit_code: Any = 0
    restarts: int | None = 0
    started_at: str = ""
    running: bool = False
    """Running and not restarting."""
    streak: int = 0
    """Failed healthchecks in a row."""
    probe: str = ""
    """The last failed healthcheck's output, one line (:func:`last_probe`)."""
    digest: str = ""
    """The release's ``CONFIG_LABEL`` (a digest of the service's settings)."""
    settings: str = ""
    """A data service's ``SETTINGS_LABEL`` (JSON of per-setting digests)."""
    oneshot_label: str = ""
    compose_hash: str = ""
    command: list[str] | None = None
    healthcheck: list[str] | None = None
    ports: list[str] = field(default_factory=list)
    ip: str = ""
    image: str = ""
    env: list[str] = field(default_factory=list)
    mounts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def started(self) -> float | None:
        """Epoch seconds of the current run's start, ``None`` when unknown."""
        return parse_docker_time(self.started_at)


@dataclass(frozen=True)
class Verdict:
    """What :func:`judge` says of a container.

    ``verdict`` is :data:`FATAL` (waiting will not help), :data:`PENDING` or
    :data:`GOOD`. ``cause`` names the rule that decided, for the caller's
    wording: ``exited``, ``dead``, ``restarting``, ``unhealthy``, ``streak``,
    ``restarted``, ``paused`` (fatal); ``created``, ``not running``,
    ``starting``, ``health`` (pending); ``oneshot done``, ``restarted before``,
    ``healthy``, ``no healthcheck`` (good). ``restarted`` says whether the
    container's restarts were counted against it, whatever the cause.
    """

    verdict: str
    cause: str
    restarted: bool = False


def judge(
    container: Container,
    *,
    since: float | None = None,
    count_restarts: bool = True,
    oneshot: bool = False,
    unhealthy_streak: int | None = None,
) -> Verdict:
    """Is CONTAINER ready and healthy, still coming up, or failed for good?

    - Exited (but a one-shot service's exit 0 without counted restarts), dead,
      restarting, unhealthy, paused, or with counted restarts: fatal.
    - Restarts count when ``count_restarts`` and the current run did not start
      before ``since`` (``None``: every restart in the container's life; a run
      whose start is unknown counts them all). ``health_check`` passes its
      baseline; ``compose_rollout`` passes ``since=None`` for a container it just
      created and ``count_restarts=False`` for an older one (warm, or serving
      already: it only has to run and be healthy now).
    - ``unhealthy_streak``: that many failed healthchecks in a row fail the
      container before Docker calls it unhealthy (``compose_rollout``;
      ``None``: not judged, as ``docker compose ps`` does not tell the streak).
    - Created or otherwise not running, or a healthcheck still starting: pending.
    - Running, healthy or without a healthcheck: good. Without one, whether it
      serves its port is the caller's to find out.
    """
    state, health = container.state, container.health
    restarts = container.restarts or 0
    started = container.started
    before = since is not None and started is not None and started < since
    counted = count_restarts and restarts > 0 and not before
    if state == "exited":
        if oneshot and container.exit_code == 0 and not counted:
            return Verdict(GOOD, "oneshot done")
        return Verdict(FATAL, "exited", counted)
    if state in ("dead", "restarting"):
        return Verdict(FATAL, state, counted)
    if health == "unhealthy":
        return Verdict(FATAL, "unhealthy", counted)
    if unhealthy_streak is not None and container.streak >= unhealthy_streak:
        return Verdict(FATAL, "streak", counted)
    if counted:
        return Verdict(FATAL, "restarted", True)
    if state == "paused":
        return Verdict(FATAL, "paused")
    if state == "created":
        return Verdict(PENDING, "created")
    if state != "running":
        return Verdict(PENDING, "not running")
    if health == "starting":
        return Verdict(PENDING, "starting")
    if health not in ("", "healthy"):
        return Verdict(PENDING, "health")
    if count_restarts and restarts and before:
        return Verdict(GOOD, "restarted before")
    return Verdict(GOOD, "healthy" if health else "no healthcheck")


def accepts(ip: str, port: int) -> bool:
    """Whether IP:PORT accepts a TCP connection within a second."""
    if not ip:
        return False
    try:
        with socket.create_connection((ip, port), timeout=1):
            return True
    except OSError:
        return False


# -- docker inspect (compose_rollout) -------------------------------------------------------


def last_probe(health: dict) -> str:
    """The last failed healthcheck's output, one short line."""
    log = [entry for entry in health.get("Log") or [] if entry.get("ExitCode") != 0]
    if not log:
        return ""
    lines = [line.strip() for line in str(log[-1].get("Output") or "").splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit code {log[-1].get('ExitCode')}")[:200]


def from_inspect(c: dict[str, Any]) -> Container:
    """A container from ``docker inspect``'s JSON of it."""
    config = c.get("Config") or {}
    labels = config.get("Labels") or {}
    state = c.get("State") or {}
    health = state.get("Health") or {}
    nets = (c.get("NetworkSettings") or {}).get("Networks") or {}
    bindings = (c.get("HostConfig") or {}).get("PortBindings") or {}
    return Container(
        id=c["Id"],
        name=c["Name"].lstrip("/"),
        service=labels.get("com.docker.compose.service", ""),
        state=str(state.get("Status", "")),
        health=health.get("Status") or "",
        exit_code=state.get("ExitCode", 0),
        restarts=c.get("RestartCount", 0),
        started_at=state.get("StartedAt") or "",
        running=bool(state.get("Running")) and not state.get("Restarting"),
        streak=health.get("FailingStreak", 0),
        probe=last_probe(health),
        digest=labels.get(CONFIG_LABEL, ""),
        settings=labels.get(SETTINGS_LABEL, ""),
        oneshot_label=labels.get(ONESHOT_LABEL) or "",
        compose_hash=labels.get("com.docker.compose.config-hash", ""),
        command=config.get("Cmd"),
        healthcheck=(config.get("Healthcheck") or {}).get("Test"),
        ports=sorted(
            f"{port.split('/')[0]}:{b.get('HostPort', '')}"
            for port, binds in bindings.items()
            for b in binds or [{}]
        ),
        ip=next((n.get("IPAddress") for n in nets.values() if n.get("IPAddress")), ""),
        image=config.get("Image", ""),
        env=sorted(config.get("Env") or []),
        mounts=[(m.get("Source", ""), m.get("Destination", "")) for m in c.get("Mounts") or []],
    )


def list_project(run: Callable[[list[str]], str], project: str) -> list[Container]:
    """The containers of Compose project PROJECT, one-off ones (``compose run``) left out.

    ``run`` runs a command and returns its output (raising on failure).
    """
    ids = run(
        ["docker", "ps", "--all", "--quiet", "--no-trunc",
         "--filter", f"label=com.docker.compose.project={project}"]
    ).split()  # fmt: skip
    if not ids:
        return []
    return [
        from_inspect(c)
        for c in json.loads(run(["docker", "inspect", *ids]))
        if (c["Config"].get("Labels") or {}).get("com.docker.compose.oneoff") != "True"
    ]


# -- docker compose ps (health_check) -------------------------------------------------------


def restart_count(value: Any) -> int | None:
    """A restart count as Docker printed it, ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def from_compose_ps(entry: dict[str, Any]) -> Container:
    """A container from a ``docker compose ps`` entry with what :func:`parse_inspect` added."""
    return Container(
        name=str(entry.get("Name") or entry.get("ID") or "?"),
        service=entry.get("Service") or "",
        id=str(entry.get("ID") or ""),
        state=str(entry.get("State") or "").lower(),
        health=str(entry.get("Health") or "").lower(),
        exit_code=entry.get("ExitCode"),
        restarts=restart_count(entry.get("RestartCount")),
        started_at=entry.get("StartedAt") if isinstance(entry.get("StartedAt"), str) else "",
        running=str(entry.get("State") or "").lower() == "running",
        digest=str(entry.get("ConfigLabel") or ""),
        oneshot_label=str(entry.get("OneShotLabel") or ""),
    )


def parse_docker_time(text: Any) -> float | None:
    """Epoch seconds of a Docker timestamp (RFC 3339, up to nanoseconds).

    ``None`` for anything else, and for Docker's zero time (``0001-01-01``, a
    container never started).
    """
    if not isinstance(text, str):
        return None
    match = _DOCKER_TIME_RE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if year < 1970:
        return None
    try:
        epoch = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    fraction = match.group(7)
    zone = match.group(8)
    if zone != "Z":
        offset = int(zone[1:3]) * 3600 + int(zone[4:6]) * 60
        epoch -= offset if zone[0] == "+" else -offset
    return epoch + (int(fraction[:6].ljust(6, "0")) / 1e6 if fraction else 0.0)


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


def parse_inspect(text: str) -> dict[str, dict[str, Any]]:
    """Container name to ``RestartCount``, ``StartedAt``, ``OneShotLabel`` and ``ConfigLabel``.

    Reads ``docker inspect --format INSPECT_FORMAT``: one JSON array a line,
    ``[name, restart count, start time, one-shot label, config label]`` (the
    config label may be missing). Docker prints names with a leading ``/``,
    which is dropped. Lines that do not fit (errors about containers gone in
    between) are skipped.
    """
    found: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            fields = json.loads(line)
        except ValueError:
            continue
        if not (isinstance(fields, list) and len(fields) in (4, 5)):
            continue
        name, restarts, started, label, *config = fields
        if not isinstance(name, str) or isinstance(restarts, bool) or not isinstance(restarts, int):
            continue
        found[name.lstrip("/")] = {
            "RestartCount": restarts,
            "StartedAt": started if isinstance(started, str) else "",
            "OneShotLabel": label if isinstance(label, str) else "",
            "ConfigLabel": config[0] if config and isinstance(config[0], str) else "",
        }
    return found
