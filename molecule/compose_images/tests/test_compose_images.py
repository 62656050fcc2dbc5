"""The rewritten compose file is accepted by Compose on the target, on registry images."""

from __future__ import annotations

import json

import yaml

DIR = "/opt/sfs-compose-test/release"
BUILT = {
    "backend": "backend",
    "asgi": "backend",
    "worker": "backend",
    "beat": "backend",
    "frontend": "frontend",
}


def config(host) -> dict:
    return json.loads(
        host.check_output(
            f"docker compose -p stickforstats --project-directory {DIR} -f {DIR}/docker-compose.yml "
            "config --format json --no-interpolate"
        )
    )


def test_every_built_service_runs_the_registry_image_at_the_version(host):
    services = config(host)["services"]
    for service, repo in BUILT.items():
        assert services[service]["image"] == f"registry:5000/stickforstats/{repo}:c0ffee2"
        assert "build" not in services[service]


def test_services_from_elsewhere_keep_their_images(host):
    services = config(host)["services"]
    assert services["db"]["image"] == "registry:5000/mirror/postgres:15"
    assert services["nginx"]["image"] == "registry:5000/mirror/nginx:1.22"


def test_everything_else_is_kept(host):
    raw = yaml.safe_load(host.file(f"{DIR}/docker-compose.yml").content_string)
    assert raw["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == "${DB_PASSWORD}"
    assert raw["services"]["db"]["container_name"] == "stickforstats_db"
    assert raw["services"]["backend"]["env_file"] == ".env.prod"
    assert (
        "./docker/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in raw["services"]["nginx"]["volumes"]
    )
    assert list(raw["services"]) == [
        "db",
        "redis",
        "backend",
        "asgi",
        "worker",
        "beat",
        "frontend",
        "nginx",
    ]
    assert set(raw["volumes"]) == {"postgres_data", "redis_data"}


def test_referenced_files_are_shipped(host):
    conf = host.file(f"{DIR}/docker/nginx/nginx.conf")
    assert conf.exists and conf.mode == 0o644
    assert "proxy_pass $to_backend;" in conf.content_string
