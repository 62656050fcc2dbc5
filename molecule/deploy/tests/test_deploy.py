"""After c0ffee1 then c0ffee2: c0ffee2 serves, the data and the stateful services stayed."""

from __future__ import annotations

import json

ROOT = "/opt/stickforstats"


def health(host) -> dict:
    return json.loads(
        host.check_output("curl -fsS -H 'Host: localhost' http://127.0.0.1/api/v1/health/")
    )


def test_c0ffee2_serves_healthy(host):
    body = health(host)
    assert body["version"] == "c0ffee2"
    assert body["checks"] == {"database": "ok", "cache": "ok"}
    assert host.file(f"{ROOT}/current").linked_to == f"{ROOT}/releases/c0ffee2"


def test_row_written_by_c0ffee1_is_still_there(host):
    items = json.loads(
        host.check_output("curl -fsS -H 'Host: localhost' http://127.0.0.1/api/v1/items/")
    )
    assert {"name": "written-by-c0ffee1", "version": "c0ffee1"} in [
        {k: i[k] for k in ("name", "version")} for i in items["items"]
    ]


def test_db_and_redis_were_not_recreated_by_the_app_deploy(host):
    started = {}
    for name in ("stickforstats_db", "stickforstats_redis", "stickforstats-backend-1"):
        started[name] = host.check_output(f"docker inspect -f '{{{{.Created}}}}' {name}")
    assert started["stickforstats_db"] < started["stickforstats-backend-1"]
    assert started["stickforstats_redis"] < started["stickforstats-backend-1"]


def test_manifest_and_history_record_both_deploys(host):
    manifest = json.loads(host.file(f"{ROOT}/releases/c0ffee2/release.json").content_string)
    assert manifest["version"] == "c0ffee2" and manifest["previous"] == "c0ffee1"
    assert manifest["outcome"] == "success"
    assert set(manifest["files"]) == {"docker-compose.yml", ".env", ".env.prod"}
    events = [
        json.loads(line) for line in host.file(f"{ROOT}/history.jsonl").content_string.splitlines()
    ]
    assert [(e["event"], e["version"], e["outcome"]) for e in events] == [
        ("deploy", "c0ffee1", "success"),
        ("deploy", "c0ffee2", "success"),
    ]
    assert not host.file(f"{ROOT}/lock").exists
