"""Tests of plugins/module_utils/_proxy_routes.py: the rollout's state file as others read it
(health_check's rollout_state), and the one-exec reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import (
    RELOAD,
    ProxyDir,
    read_state,
    recreate_state,
    reload,
    rolling_state,
)


def test_read_state_reads_what_the_rollout_writes(tmp_path: Path) -> None:
    proxy = ProxyDir(str(tmp_path))
    proxy.write("state.json", rolling_state(
        "/opt/app/releases/c0ffee2", {"backend": ["app-backend-3", "app-backend-2"]},
        ["app-backend-1"], 1796292600.0, {"backend": "0123456789abcdef"},
    ))  # fmt: skip
    assert read_state(str(tmp_path / "state.json")) == {
        "strategy": "rolling",
        "release": "/opt/app/releases/c0ffee2",
        "active": {"backend": ["app-backend-2", "app-backend-3"]},
        "warm": ["app-backend-1"],
        "warm_until": 1796292600.0,
        "configs": {"backend": "0123456789abcdef"},
    }
    assert proxy.read_state() == read_state(str(tmp_path / "state.json"))
    proxy.write("state.json", recreate_state("/opt/app/releases/c0ffee3"))
    assert proxy.read_state() == {"strategy": "recreate", "release": "/opt/app/releases/c0ffee3"}


@pytest.mark.parametrize(
    "text",
    [None, "", "{not json", "[1, 2]", '"rolling"', "null"],
    ids=["missing", "empty", "broken", "a list", "a string", "null"],
)
def test_read_state_is_empty_when_there_is_no_state(tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "state.json"
    if text is not None:
        path.write_text(text)
    assert read_state(str(path)) == {}


def test_read_state_of_a_directory_is_empty(tmp_path: Path) -> None:
    assert read_state(str(tmp_path)) == {}


def test_state_is_written_atomically_and_private(tmp_path: Path) -> None:
    proxy = ProxyDir(str(tmp_path))
    assert proxy.write("state.json", json.dumps({"strategy": "recreate"})) is True
    assert proxy.write("state.json", json.dumps({"strategy": "recreate"})) is False  # unchanged
    assert oct((tmp_path / "state.json").stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no temporary left


def test_reload_tests_the_configuration_and_reloads_in_one_exec() -> None:
    calls: list[list[str]] = []
    reload(lambda argv, check=True: calls.append(argv) or "", "f00")
    assert calls == [["docker", "exec", "f00", "sh", "-c", "nginx -t -q && nginx -s reload"]]
    assert RELOAD.index("nginx -t") < RELOAD.index("&&") < RELOAD.index("nginx -s reload")


def test_put_back_restores_the_route_files(tmp_path: Path) -> None:
    proxy = ProxyDir(str(tmp_path))
    proxy.routes({"backend": ["app-backend-1"]}, {"backend": 8000})
    before = proxy.route_files()
    proxy.routes(
        {"backend": ["app-backend-2"], "asgi": ["app-asgi-2"]}, {"backend": 8000, "asgi": 8001}
    )
    proxy.put_back(before)
    assert proxy.route_files() == before
    assert sorted(before) == ["backend.map", "upstreams.conf"]
