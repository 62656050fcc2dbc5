"""rollback.yml brought c0ffee1 back, healthy, and recorded it."""

from __future__ import annotations

import json
import re

ROOT = "/opt/stickforstats"


def test_c0ffee1_serves_again(host):
    body = json.loads(
        host.check_output("curl -fsS -H 'Host: localhost' http://127.0.0.1/api/v1/health/")
    )
    assert body["version"] == "c0ffee1" and body["status"] == "ok"
    assert host.file(f"{ROOT}/current").linked_to == f"{ROOT}/releases/c0ffee1"


def test_every_app_service_runs_the_c0ffee1_images(host):
    out = host.check_output("docker compose -p stickforstats ps --format json")
    images = {json.loads(line)["Service"]: json.loads(line)["Image"] for line in out.splitlines()}
    # pinned to the digest the deploy of c0ffee1 pulled and recorded
    pins = json.loads(host.file(f"{ROOT}/releases/c0ffee1/release.json").content_string)["pins"]
    for service, repo in (("backend", "backend"), ("frontend", "frontend")):
        assert re.fullmatch(
            rf"registry:5000/stickforstats/{repo}:c0ffee1@sha256:[0-9a-f]{{64}}", images[service]
        ), images[service]
        assert images[service] == pins[service]


def test_the_rollback_is_recorded_once(host):
    events = [
        json.loads(line) for line in host.file(f"{ROOT}/history.jsonl").content_string.splitlines()
    ]
    rollbacks = [e for e in events if e["event"] == "rollback"]
    assert len(rollbacks) == 1
    assert (rollbacks[0]["version"], rollbacks[0]["previous"], rollbacks[0]["outcome"]) == (
        "c0ffee1", "c0ffee2", "success",
    )  # fmt: skip
