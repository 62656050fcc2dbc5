"""Stopped containers of a release that does not serve: leftovers, not failures.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice. It does no I/O.

A run killed after its switch leaves the old release's web containers stopped,
not removed, and the next deploy or rollback removes them. What serves comes
from the rolling strategy's state (``proxy/state.json``, read by
``_proxy_routes.read_state``); a release's web and worker containers are told
apart by their ``CONFIG_LABEL`` (a digest of the service's settings).
Containers are ``docker compose ps`` entries with ``Name``, ``Service``,
``State`` and ``ConfigLabel``, as ``health_check`` lists them.
"""

from __future__ import annotations

from typing import Any


def serving_configs(state: Any, containers: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Service to the ``CONFIG_LABEL`` values of the release that serves.

    From the rolling strategy's state (``_proxy_routes.read_state``): its ``configs``
    (the serving release's digest of each web and worker service), and the
    labels of the containers its ``active`` names (the ones the proxy sends the
    traffic to; a state written before ``configs`` existed has only these).
    ``containers`` are ``docker compose ps`` entries with ``Name`` and
    ``ConfigLabel``. Empty without a rolling state.
    """
    if not isinstance(state, dict) or state.get("strategy") != "rolling":
        return {}
    found: dict[str, set[str]] = {}
    configs = state.get("configs")
    for service, config in (configs if isinstance(configs, dict) else {}).items():
        if isinstance(config, str) and config:
            found.setdefault(service, set()).add(config)
    active = state.get("active")
    labels = {c.get("Name"): c.get("ConfigLabel") for c in containers}
    for service, names in (active if isinstance(active, dict) else {}).items():
        for name in names if isinstance(names, list) else []:
            if labels.get(name):
                found.setdefault(service, set()).add(labels[name])
    return found


LEFTOVER_STATES = ("exited", "dead", "created")
"""States of a container that has no process: stopped, or never started."""


def split_leftovers(
    containers: list[dict[str, Any]], serving: dict[str, set[str]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(to judge, leftovers)``: the containers, and those left over by a release that
    does not serve.

    A leftover has no process (:data:`LEFTOVER_STATES`), carries a
    ``ConfigLabel`` that is not one of ``serving`` for its service (of
    :func:`serving_configs`), and its service has another container that is
    not a leftover. A container of the serving release, one without the label
    (data services, beat, one-shot jobs, the proxy), one of a service the state
    names no release for, and the last container of a service are judged.
    """

    def stale(container: dict[str, Any]) -> bool:
        config = container.get("ConfigLabel")
        service = container.get("Service")
        state = str(container.get("State") or "").lower()
        return (
            bool(config)
            and service in serving
            and config not in serving[service]
            and state in LEFTOVER_STATES
        )

    judged = [c for c in containers if not stale(c)]
    kept = {c.get("Service") for c in judged}
    leftovers = [c for c in containers if stale(c) and c.get("Service") in kept]
    return [c for c in containers if c not in leftovers], leftovers


def leftover_note(leftovers: list[dict[str, Any]]) -> str:
    """One line naming the leftovers (``""`` for none)."""
    if not leftovers:
        return ""
    count = len(leftovers)
    names = ", ".join(str(c.get("Name") or c.get("ID") or "?") for c in leftovers)
    return (
        f"{count} stopped container{'s' if count != 1 else ''} of a release that does not serve"
        f" ({names}): removed by the next deploy or rollback"
    )
