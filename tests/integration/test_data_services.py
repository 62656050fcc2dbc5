"""A data service's changed settings: refused before anything changes, or applied on request.

The sample app's redis is given another `command` (a setting the rolling
strategy used to ignore): the deploy stops before the migration, naming redis
and the setting, with the previous release serving and redis untouched; with
deploy_data_service_changes=apply it is recreated once the new web containers
serve, and the data written before is still there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from ansible_run import REPO, deploy, http, on_target, serving

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"


def redis_id(target: dict) -> str:
    return on_target(target, "docker ps -q --no-trunc --filter name=stickforstats_redis").strip()


def app_with_redis_command(tmp_path: Path, command: list[str]) -> Path:
    app = tmp_path / "app"
    shutil.copytree(REPO / "tests" / "sample_app", app, symlinks=True)
    compose = app / "docker-compose.prod.yml"
    doc = yaml.safe_load(compose.read_text())
    doc["services"]["redis"]["command"] = command
    compose.write_text(yaml.safe_dump(doc, sort_keys=False))
    return app


def test_a_changed_data_service_is_refused_then_applied_on_request(ssh_target, tmp_path):
    run = deploy(ssh_target, V1)
    assert run.returncode == 0, run.stdout[-5000:]
    row = http(ssh_target, "/api/v1/items/", {"name": "outlives redis's new command"})
    before = redis_id(ssh_target)
    app = app_with_redis_command(
        tmp_path, ["--appendonly", "yes", "--maxmemory-policy", "noeviction"]
    )
    moved = ["-e", f"deploy_app_dir={app}"]
    try:
        refused = deploy(ssh_target, V2, *moved)
        assert refused.returncode != 0
        assert "Data services changed since the release that serves (redis: command)" in (
            refused.stdout
        ), refused.stdout[-5000:]
        assert "deploy_data_service_changes=apply" in refused.stdout
        assert serving(ssh_target) == V1
        assert http(ssh_target, "/api/v1/health/")["version"] == V1
        assert redis_id(ssh_target) == before, "redis was not touched"

        applied = deploy(ssh_target, V2, *moved, "-e", "deploy_data_service_changes=apply")
        assert applied.returncode == 0, applied.stdout[-5000:]
        assert serving(ssh_target) == V2
        assert redis_id(ssh_target) != before, "redis was recreated with its new command"
        args = on_target(ssh_target, "docker inspect -f '{{json .Args}}' stickforstats_redis")
        assert "noeviction" in args
        assert any(item["id"] == row["id"] for item in http(ssh_target, "/api/v1/items/")["items"])
    finally:
        # the other tests' deploys find redis as the sample app has it
        back = deploy(ssh_target, V2, "-e", "deploy_data_service_changes=apply")
        assert back.returncode == 0, back.stdout[-5000:]
