"""Tests of plugins/module_utils/_health.py: stopped containers of a release that does
not serve (a run killed after the switch left them) are leftovers, not failures.

A release's web and worker containers carry the label org.stickforstats.config (a
digest of the service's settings); the rolling strategy's state (proxy/state.json)
names the containers that serve (``active``) and the serving release's digests
(``configs``).
"""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import parse_inspect
from ansible_collections.stickforstats.deploy.plugins.module_utils._health import (
    evaluate_containers,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._leftovers import (
    leftover_note,
    serving_configs,
    split_leftovers,
)

OLD, NEW = "0ld0ld0ld0ld0ld0", "6e76e76e76e76e76"


def web(
    service: str, number: int, config: str, state: str = "running", exit_code: int = 0
) -> dict[str, Any]:
    """A `docker compose ps` entry with what the module adds from `docker inspect`."""
    return {
        "ID": f"{service}{number}0123456789",
        "Name": f"stickforstats-{service}-{number}",
        "Service": service,
        "State": state,
        "Health": "",
        "ExitCode": exit_code,
        "RestartCount": 0,
        "StartedAt": "2026-12-03T09:00:00Z",
        "OneShotLabel": "",
        "ConfigLabel": config,
    }


def names(containers: list[dict[str, Any]]) -> list[str]:
    return [c["Name"] for c in containers]


# What a deploy killed after its switch leaves: the new release serves, the old
# one's web containers stopped (exit 0, drained) but not removed.
KILLED_AFTER_SWITCH = [
    web("backend", 6, OLD, "exited"),
    web("frontend", 6, OLD, "exited"),
    web("backend", 7, NEW),
    web("frontend", 7, NEW),
    web("db", 1, ""),
]
STATE = {
    "strategy": "rolling",
    "active": {"backend": ["stickforstats-backend-7"], "frontend": ["stickforstats-frontend-7"]},
    "configs": {"backend": NEW, "frontend": NEW},
}


def test_stopped_containers_of_a_release_that_does_not_serve_are_leftovers() -> None:
    serving = serving_configs(STATE, KILLED_AFTER_SWITCH)
    judged, leftovers = split_leftovers(KILLED_AFTER_SWITCH, serving)
    assert names(leftovers) == ["stickforstats-backend-6", "stickforstats-frontend-6"]
    assert evaluate_containers(judged, None) == ([], [], [])
    assert leftover_note(leftovers) == (
        "2 stopped containers of a release that does not serve (stickforstats-backend-6,"
        " stickforstats-frontend-6): removed by the next deploy or rollback"
    )


def test_without_the_split_they_fail_the_check() -> None:
    """What status.yml said before: the campaign's failing case."""
    fatal, _, _ = evaluate_containers(KILLED_AFTER_SWITCH, None)
    assert fatal == [
        "container stickforstats-backend-6 (backend) exited with code 0",
        "container stickforstats-frontend-6 (frontend) exited with code 0",
    ]


# containers, state, names of the leftovers
NOT_LEFTOVERS = [
    pytest.param(  # the serving release's own container exited: a failure
        [web("backend", 7, NEW, "exited"), web("backend", 8, NEW)], STATE, [], id="serving-release"
    ),
    pytest.param(  # an exited container without the label: a data service, beat, a one-shot
        [web("db", 1, "", "exited"), web("db", 2, "")], STATE, [], id="no-config-label"
    ),
    pytest.param(  # a warm container of the old release runs: judged as any running one
        [web("backend", 6, OLD), web("backend", 7, NEW)], STATE, [], id="warm"
    ),
    pytest.param(  # nothing else of the service: the service is down, whatever its label
        [web("worker", 3, OLD, "exited")],
        {**STATE, "configs": {**STATE["configs"], "worker": NEW}},
        [],
        id="only-container",
    ),
    pytest.param(  # a service the state names no serving release for
        [web("worker", 3, OLD, "exited"), web("worker", 4, NEW)], STATE, [], id="not-in-state"
    ),
    pytest.param(  # the recreate strategy's state: no rolling release
        [web("backend", 6, OLD, "exited"), web("backend", 7, NEW)],
        {"strategy": "recreate", "release": "/opt/stickforstats/releases/c0ffee2"},
        [],
        id="recreate",
    ),
    pytest.param(  # restarting is not stopped: judged (fatal)
        [web("backend", 6, OLD, "restarting"), web("backend", 7, NEW)],
        STATE,
        [],
        id="restarting",
    ),
    pytest.param(  # an overlapped worker of the old release, stopped by the rollout
        [web("worker", 3, OLD, "exited"), web("worker", 4, NEW)],
        {**STATE, "configs": {**STATE["configs"], "worker": NEW}},
        ["stickforstats-worker-3"],
        id="old-worker",
    ),
    pytest.param(  # never started, and killed: (a run killed at its `up`)
        [web("backend", 8, OLD, "created", 0), web("backend", 7, NEW)],
        STATE,
        ["stickforstats-backend-8"],
        id="created",
    ),
    pytest.param(  # killed after the drain bound: exit 137, still a leftover
        [web("backend", 6, OLD, "exited", 137), web("backend", 7, NEW)],
        STATE,
        ["stickforstats-backend-6"],
        id="exit-137",
    ),
]


@pytest.mark.parametrize(("containers", "state", "leftover"), NOT_LEFTOVERS)
def test_what_is_a_leftover(
    containers: list[dict[str, Any]], state: dict[str, Any], leftover: list[str]
) -> None:
    judged, leftovers = split_leftovers(containers, serving_configs(state, containers))
    assert names(leftovers) == leftover
    assert names(judged) == [n for n in names(containers) if n not in leftover]


def test_serving_configs_from_the_state_and_the_active_containers() -> None:
    """An older state.json has no `configs`: the active containers' labels tell them."""
    old_state = {"strategy": "rolling", "active": STATE["active"], "warm": [], "warm_until": 0}
    assert serving_configs(old_state, KILLED_AFTER_SWITCH) == {
        "backend": {NEW},
        "frontend": {NEW},
    }
    assert serving_configs(STATE, []) == {"backend": {NEW}, "frontend": {NEW}}


@pytest.mark.parametrize(
    "state",
    [{}, {"strategy": "recreate"}, {"strategy": "rolling", "active": "x", "configs": [1]}, None],
)
def test_serving_configs_of_no_rolling_state_are_none(state: Any) -> None:
    assert serving_configs(state, KILLED_AFTER_SWITCH) == {}


def test_leftover_note_of_none_is_empty() -> None:
    assert leftover_note([]) == ""
    one = leftover_note([web("backend", 6, OLD, "exited")])
    assert one.startswith("1 stopped container of a release that does not serve (")


def test_parse_inspect_reads_the_config_label() -> None:
    text = (
        f'["/stickforstats-backend-6",0,"2026-12-03T09:00:00Z","","{OLD}"]\n'
        '["/stickforstats-db-1",0,"2026-12-03T09:00:00Z","",null]\n'
    )
    found = parse_inspect(text)
    assert found["stickforstats-backend-6"]["ConfigLabel"] == OLD
    assert found["stickforstats-db-1"]["ConfigLabel"] == ""
