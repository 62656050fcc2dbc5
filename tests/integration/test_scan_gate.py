"""The image-scan gate (deploy_scan_command) on a
target reached over SSH, with the tests' own scanner, tests/scanner/scan.sh:
it rejects an image listed in the file $SFS_SCAN_MARKED and logs every image
it is asked about to $SFS_SCAN_LOG.

In order: c0ffee1 deployed through a passing scan; c0ffee2 with its backend
image marked is stopped before the switch with the scanner's summary; a
scanner that hangs is stopped at deploy_scan_timeout.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from ansible_run import REPO, deploy, history, http, on_target, serving
from common import PUSH_REGISTRY
from images import registry_digest

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"
SCANNER = str(REPO / "tests" / "scanner" / "scan.sh")
SCAN = ["-e", json.dumps({"deploy_scan_command": [SCANNER, "{image}"]})]


def pinned(service: str, version: str) -> str:
    """The built service's image as the scan gets it: pinned to the digest pulled."""
    digest = registry_digest(f"{PUSH_REGISTRY}/stickforstats/{service}:{version}")
    return f"registry:5000/stickforstats/{service}:{version}@{digest}"


def release_images(version: str) -> set[str]:
    return {
        pinned("backend", version),
        pinned("frontend", version),
        "registry:5000/mirror/postgres:15",
        "registry:5000/mirror/redis:7",
        "registry:5000/mirror/nginx:1.22",
    }


@pytest.fixture
def scanner(monkeypatch, tmp_path) -> dict[str, Path]:
    """The scanner's marked list (empty) and log, through its environment."""
    paths = {"marked": tmp_path / "marked", "log": tmp_path / "scanned"}
    paths["marked"].write_text("")
    monkeypatch.setenv("SFS_SCAN_MARKED", str(paths["marked"]))
    monkeypatch.setenv("SFS_SCAN_LOG", str(paths["log"]))
    return paths


def scanned(paths: dict[str, Path]) -> list[str]:
    return paths["log"].read_text().split() if paths["log"].exists() else []


def test_a_passing_scan_lets_the_deploy_through(ssh_target, scanner):
    run = deploy(ssh_target, V1, *SCAN)
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    # every image of the release, each once (the backend image runs four services)
    assert sorted(scanned(scanner)) == sorted(release_images(V1)), scanned(scanner)


def test_a_rejected_image_blocks_the_switch(ssh_target, scanner):
    marked = pinned("backend", V2)
    scanner["marked"].write_text(marked + "\n")
    run = deploy(ssh_target, V2, *SCAN)
    assert run.returncode != 0, run.stdout[-5000:]
    assert f"Image scan rejected release {V2} (nothing was switched): {marked} (exit 1)" in (
        run.stdout
    ), run.stdout[-5000:]
    # the scanner's own summary
    assert f"{marked}: 1 CRITICAL (TEST-0001, marked by the tests), 0 HIGH | REJECTED {marked}" in (
        run.stdout
    )
    assert f"Nothing was switched: {V1} is serving." in run.stdout
    assert set(scanned(scanner)) == release_images(V2)
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    assert f":{V2}" not in on_target(ssh_target, "docker ps --format '{{.Image}}'")
    last = history(ssh_target)[-1]
    assert (last["event"], last["version"], last["outcome"]) == ("deploy", V2, "failed")
    # the reason is cut at 500 characters: the pinned reference and the scanner's verdict
    assert f"{marked}: 1 CRITICAL (TEST-0001" in last["reason"], last


def test_a_scanner_that_hangs_is_stopped_at_the_timeout(ssh_target, scanner, monkeypatch):
    monkeypatch.setenv("SFS_SCAN_SLEEP", "300")
    started = time.monotonic()
    run = deploy(ssh_target, V2, *SCAN, "-e", "deploy_scan_timeout=2")
    elapsed = time.monotonic() - started
    assert run.returncode != 0, run.stdout[-5000:]
    assert "(timed out after 2 s)" in run.stdout, run.stdout[-5000:]
    assert elapsed < 120, f"took {elapsed:.0f} s"
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
