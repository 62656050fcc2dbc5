"""Pure parts of the compose_rollout module (plugins/modules/compose_rollout.py).

The whole module runs on real targets in tests/integration/test_zero_downtime.py
(rolling deploys, refusals and rollbacks under 50 requests/s) and every deploy test."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._compose import (
    LABEL,
    RolloutError,
    config_digest,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import (
    Container,
    last_probe,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._data_services import (
    SETTINGS_LABEL,
    changed_settings,
    digest,
    readable_changes,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import RETIRE
from ansible_collections.stickforstats.deploy.plugins.module_utils._rollout import Rollout

SERVICE = {
    "image": "registry:5000/stickforstats/backend:c0ffee1",
    "environment": {"SECRET_KEY": "a$$b"},
    "depends_on": {"db": {"condition": "service_healthy"}},
    "labels": {"app": "x"},
}


def test_config_digest_ignores_order_scale_and_its_own_label() -> None:
    base = config_digest(SERVICE)
    same = dict(SERVICE, depends_on={}, scale=3, labels={"app": "x", LABEL: "old"})
    assert config_digest(same) == base
    assert config_digest({**SERVICE, "deploy": {"replicas": 2}}) == config_digest(
        {**SERVICE, "deploy": {"replicas": 1}}
    )


@pytest.mark.parametrize(
    "change",
    [
        {"image": "registry:5000/stickforstats/backend:c0ffee2"},
        {"environment": {"SECRET_KEY": "rotated"}},
        {"labels": {"app": "y"}},
        {"command": ["asgi"]},
    ],
)
def test_config_digest_changes_with_what_the_container_runs(change: dict) -> None:
    assert config_digest({**SERVICE, **change}) != config_digest(SERVICE)


def test_last_probe_is_the_last_failed_check_on_one_line() -> None:
    health = {
        "Log": [
            {"ExitCode": 1, "Output": "curl: (7) Failed to connect\n"},
            {"ExitCode": 22, "Output": "\ncurl: (22) The requested URL returned error: 500\n"},
            {"ExitCode": 0, "Output": "ok"},
        ]
    }
    assert last_probe(health) == "curl: (22) The requested URL returned error: 500"
    assert last_probe({"Log": [{"ExitCode": -1, "Output": ""}]}) == "exit code -1"
    assert last_probe({}) == ""
    assert len(last_probe({"Log": [{"ExitCode": 1, "Output": "x" * 500}]})) == 200


def test_digest_of_files_and_directories(tmp_path: Path) -> None:
    conf = tmp_path / "a" / "nginx.conf"
    conf.parent.mkdir()
    conf.write_text("worker_processes 1;\n")
    other = tmp_path / "b" / "nginx.conf"
    other.parent.mkdir()
    other.write_text("worker_processes 1;\n")
    assert digest(str(conf)) == digest(str(other))  # content, not path
    assert digest(str(conf.parent)) == digest(str(other.parent))
    other.write_text("worker_processes 2;\n")
    assert digest(str(conf)) != digest(str(other))
    assert digest(str(conf.parent)) != digest(str(other.parent))
    assert digest(str(tmp_path / "missing")) == "missing"


def rollout(tmp_path: Path, **params) -> Rollout:
    module = SimpleNamespace(
        warnings=[],
        params={
            "project_src": str(tmp_path / "releases" / "c0ffee1"),
            "project_name": "stickforstats",
            "files": ["docker-compose.yml"],
            "pull": "never",
            "proxy_service": "nginx",
            "proxy_dir": str(tmp_path / "proxy"),
            "proxy_mount": "/etc/nginx/sfs",
            "rolling": {"backend": 8000, "frontend": 80},
            "keep": ["db", "redis"],
            "data_changes": "refuse",
            **params,
        },
    )
    module.warn = module.warnings.append
    (tmp_path / "proxy").mkdir(exist_ok=True)
    return Rollout(module)  # type: ignore[arg-type]


def test_routes_name_the_containers_and_change_only_when_they_do(tmp_path: Path) -> None:
    r = rollout(tmp_path)
    targets = {"backend": ["stickforstats-backend-3"], "frontend": ["stickforstats-frontend-2"]}
    assert r.routes(targets) is True
    upstreams = (tmp_path / "proxy" / "upstreams.conf").read_text()
    assert "upstream sfs_backend {\n  server stickforstats-backend-3:8000;\n}" in upstreams
    assert "upstream sfs_frontend {\n  server stickforstats-frontend-2:80;\n}" in upstreams
    assert (tmp_path / "proxy" / "backend.map").read_text().endswith("http http://sfs_backend;\n")
    assert oct((tmp_path / "proxy" / "upstreams.conf").stat().st_mode & 0o777) == "0o640"
    assert r.routes(targets) is False  # same containers: no reload needed
    assert r.routes({**targets, "backend": ["stickforstats-backend-4"]}) is True


def test_routes_go_back_to_dns_without_targets(tmp_path: Path) -> None:
    r = rollout(tmp_path)
    r.routes({"backend": ["stickforstats-backend-3"]})
    assert r.routes({}) is True
    assert sorted(p.name for p in (tmp_path / "proxy").iterdir()) == []
    assert r.routes({}) is False


def test_override_mounts_the_proxy_dir_and_labels_the_rolled_services(tmp_path: Path) -> None:
    r = rollout(tmp_path)
    r.write_override({"backend": "0123456789abcdef"})
    text = (tmp_path / "proxy" / "compose.override.yml").read_text()
    doc = json.loads(text.split("\n", 1)[1])  # after the comment line; JSON is YAML
    assert doc["services"]["nginx"]["volumes"] == [
        {
            "type": "bind",
            "source": str(tmp_path / "proxy"),
            "target": "/etc/nginx/sfs",
            "read_only": True,
        }
    ]
    assert doc["services"]["backend"]["labels"] == {LABEL: "0123456789abcdef"}


def retire(tmp_path: Path, upstreams: str, lock: bool) -> tuple[str, str]:
    """retire.sh run with a `docker` that only logs its arguments: (log, docker calls)."""
    (tmp_path / "bin").mkdir()
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "docker"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    (tmp_path / "upstreams.conf").write_text(upstreams)
    lock_path = tmp_path / "lock"
    if lock:
        lock_path.write_text("{}")
    script = tmp_path / "retire.sh"
    script.write_text(RETIRE)
    out = subprocess.run(
        ["sh", str(script), str(tmp_path), "30", str(lock_path), "id1=app-backend-1", "id2=app-backend-2"],
        env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out, calls.read_text() if calls.exists() else ""


def test_retire_stops_what_no_longer_serves_and_keeps_what_serves_again(tmp_path: Path) -> None:
    log, calls = retire(
        tmp_path, "upstream sfs_backend {\n  server app-backend-2:8000;\n}\n", False
    )
    assert "app-backend-2 serves again: kept" in log and "app-backend-1 retired" in log
    assert calls == "stop --time 30 id1\nrm id1\n"  # by id: a later container may reuse the name


def test_retire_leaves_the_containers_to_a_running_deploy(tmp_path: Path) -> None:
    log, calls = retire(tmp_path, "", True)
    assert "a deploy or rollback runs" in log and calls == ""


REDIS = {
    "image": "registry:5000/stickforstats/redis:7",
    "command": ["redis-server", "--appendonly", "yes"],
    "environment": {"REDIS_PASSWORD": "s3cret"},
    "ports": [{"target": 6379}],
    "labels": {"app": "x"},
}


def running(r: Rollout, spec: dict, **labels: str) -> dict[str, list[dict]]:
    """A running redis container created from SPEC (its settings label as a release writes it)."""
    settings = json.dumps(r.settings(spec), sort_keys=True) if spec else ""
    container = Container(service="redis", running=True, settings=labels.get("settings", settings),
                          image=spec.get("image", ""), env=[], mounts=[])  # fmt: skip
    return {"redis": [container]}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"command": ["redis-server", "--appendonly", "no"]}, ["command"]),
        ({"ports": [{"target": 6380}]}, ["ports"]),
        ({"healthcheck": {"test": ["CMD", "redis-cli", "ping"]}}, ["healthcheck"]),
        ({"volumes": [{"type": "volume", "source": "r", "target": "/data"}]}, ["volumes"]),
        ({"environment": {"REDIS_PASSWORD": "other"}}, ["environment"]),
        ({"image": "registry:5000/stickforstats/redis:8", "ports": []}, ["image", "ports"]),
        ({"labels": {"app": "x", LABEL: "a", SETTINGS_LABEL: "b"}}, []),  # its own labels
    ],
)
def test_a_data_service_change_is_named_by_setting(tmp_path: Path, change: dict, named) -> None:
    r = rollout(tmp_path, data_changes="leave")
    found = r.data_changes({"redis": {**REDIS, **change}}, running(r, REDIS))
    assert found == ({"redis": named} if named else {})


def test_a_data_service_change_is_refused_saying_what_and_how(tmp_path: Path) -> None:
    r = rollout(tmp_path)
    with pytest.raises(RolloutError) as refused:
        r.data_changes({"redis": {**REDIS, "command": ["redis-server"]}}, running(r, REDIS))
    said = str(refused.value)
    assert "redis: command" in said and "deploy_data_service_changes=apply" in said
    assert "s3cret" not in said
    assert r.data_changes({"redis": REDIS}, running(r, REDIS)) == {}  # unchanged: nothing said


def test_a_rollback_leaves_a_changed_data_service_as_it_runs_and_says_so(tmp_path: Path) -> None:
    r = rollout(tmp_path, data_changes="leave")
    found = r.data_changes({"redis": {**REDIS, "command": ["x"]}}, running(r, REDIS))
    assert found == {"redis": ["command"]}
    assert r.m.warnings == ["redis: command differ from this release: left as it runs"]


def test_files_a_data_service_mounts_are_its_settings_too(tmp_path: Path) -> None:
    conf = tmp_path / "redis.conf"
    conf.write_text("maxmemory 1mb\n")
    spec = {
        **REDIS,
        "volumes": [{"type": "bind", "source": str(conf), "target": "/etc/redis.conf"}],
    }
    r = rollout(tmp_path, data_changes="leave")
    before = running(r, spec)
    conf.write_text("maxmemory 2mb\n")
    assert r.data_changes({"redis": spec}, before) == {"redis": ["files at /etc/redis.conf"]}


def test_changed_settings_counts_added_and_removed_ones() -> None:
    assert changed_settings({"a": "1", "b": "2"}, {"a": "1", "c": "3"}) == ["b", "c"]


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (
            {
                "command": ["--appendonly", "yes"],
                "healthcheck": {"test": ["CMD", "redis-cli", "ping"]},
            },
            [],
        ),
        ({"command": ["--appendonly", "no"]}, ["command"]),
        ({"healthcheck": {"test": ["CMD", "true"]}}, ["healthcheck"]),
        ({"ports": [{"target": 6379, "published": "6380"}]}, ["ports"]),
        ({}, []),  # nothing said: the image's own command, no ports
    ],
)
def test_a_data_service_without_the_label_is_compared_by_what_docker_reads_back(
    spec, named
) -> None:
    container = {"command": ["--appendonly", "yes"], "healthcheck": ["CMD", "redis-cli", "ping"],
                 "ports": []}  # fmt: skip
    assert readable_changes(spec, container) == named


@pytest.mark.parametrize(
    ("redis_now", "kept"),
    [
        ({}, True),  # as the release has it: kept as it runs
        ({"command": ["redis-server"]}, False),  # changed: recreated, as Compose does it
    ],
)
def test_the_recreate_strategy_keeps_an_unchanged_data_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_now: dict, kept: bool
) -> None:
    """Compose recreates a service for any difference in its own hash (a label, an image
    pulled again under its tag): a redis whose settings did not change stays as it runs."""
    r = rollout(tmp_path, strategy="recreate", overlap=[], plan_only=False, keep=["redis"])
    services = {
        "redis": REDIS,
        "backend": SERVICE,
        "frontend": {"image": "f"},
        "nginx": {"image": "n"},
    }
    container = running(r, {**REDIS, **redis_now})["redis"][0]
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(r, "config", lambda: (services, {s: "d" for s in services}))
    monkeypatch.setattr(
        r, "containers", lambda: [dataclasses.replace(container, id="r1", compose_hash="h")]
    )
    monkeypatch.setattr(r, "compose", lambda *args: calls.append(args) or "")
    monkeypatch.setattr(r, "routes", lambda targets: False)
    monkeypatch.setattr(r, "write_override", lambda labels, settings=None: None)
    r.apply()
    (up,) = calls
    if kept:
        assert "--no-deps" in up and "redis" not in up
        assert {"backend", "nginx"} <= set(up)
    else:
        assert "--no-deps" not in up and "redis" not in up  # all services, as Compose does it


# `docker` that fails every call, its error quoting a secret url-encoded (as a DATABASE_URL).
FAILING_DOCKER = """#!/bin/sh
echo "error: cannot reach postgres://app:p%40ss%20w%23rd-value@db/app" >&2
exit 1
"""


REPO = Path(__file__).resolve().parents[4]


def run_failing_rollout(tmp_path: Path, **args: object) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAILING_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    spec = tmp_path / "args.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "project_src": str(tmp_path), "project_name": "stickforstats",
        "proxy_dir": str(tmp_path / "proxy"), **args,
    }}))  # fmt: skip
    module = REPO / "collections/ansible_collections/stickforstats/deploy/plugins/modules"
    proc = subprocess.run(
        [sys.executable, str(module / "compose_rollout.py"), str(spec)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "collections"),
             "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_a_failure_message_has_the_given_secrets_masked(tmp_path: Path) -> None:
    """ansible-core 2.19 prints a failed no_log task's msg: the module masks the secrets it is
    given (option redact) in the forms Ansible's own no_log masking leaves (url-encoded)."""
    result = run_failing_rollout(tmp_path, redact=["p@ss w#rd-value"])
    assert result["failed"] and "cannot reach postgres://app:********@db/app" in result["msg"]
    assert "w%23rd" not in json.dumps(result), result


def test_control_without_redact_the_failure_message_holds_the_secret(tmp_path: Path) -> None:
    assert "p%40ss%20w%23rd-value" in run_failing_rollout(tmp_path)["msg"]
