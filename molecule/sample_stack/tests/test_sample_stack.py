"""The sample stack runs on the target from registry images and is healthy."""

from __future__ import annotations

import json
import re

PROJECT = "stickforstats"
# The built services run the image the deploy pulled, pinned to its digest.
PINNED = r"registry:5000/stickforstats/{repo}:c0ffee1@sha256:[0-9a-f]{{64}}"


def compose_ps(host) -> list[dict]:
    out = host.check_output(f"docker compose -p {PROJECT} ps --all --format json")
    out = out.strip()
    # compose 2.26 prints one JSON object per line
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_every_service_runs_an_image_pulled_from_the_registry(host):
    services = {c["Service"]: c for c in compose_ps(host)}
    assert set(services) == {
        "db",
        "redis",
        "backend",
        "asgi",
        "worker",
        "beat",
        "frontend",
        "nginx",
    }
    for name, container in services.items():
        assert container["State"] == "running", (
            f"{name}: {container['State']} {container['Status']}"
        )
        assert container["Image"].startswith("registry:5000/"), f"{name}: {container['Image']}"
    for name in ("backend", "asgi", "worker", "beat"):
        assert re.fullmatch(PINNED.format(repo="backend"), services[name]["Image"]), name
    assert re.fullmatch(PINNED.format(repo="frontend"), services["frontend"]["Image"])


def test_health_endpoint_reports_database_and_cache_ok(host):
    body = json.loads(host.check_output("curl -fsS http://127.0.0.1/api/v1/health/"))
    assert body["status"] == "ok"
    assert body["version"] == "c0ffee1"
    assert body["checks"] == {"database": "ok", "cache": "ok"}


def test_a_row_written_through_the_front_door_reads_back(host):
    created = json.loads(
        host.check_output(
            "curl -fsS -X POST -H 'Content-Type: application/json'"
            ' -d \'{"name": "molecule-probe"}\' http://127.0.0.1/api/v1/items/'
        )
    )
    items = json.loads(host.check_output("curl -fsS http://127.0.0.1/api/v1/items/"))["items"]
    assert {"id": created["id"], "name": "molecule-probe", "version": "c0ffee1"} in items


def test_release_env_files_are_private(host):
    for name in (".env", ".env.prod"):
        f = host.file(f"/opt/stickforstats/releases/c0ffee1/{name}")
        assert f.exists and f.mode == 0o600 and f.user == "root"
