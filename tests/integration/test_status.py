"""status.yml on a target over SSH: what serves, since when, health, rollback
targets and the lock, as a table; and it changes nothing on the host."""

from __future__ import annotations

import json
import time

import pytest
from ansible_run import ROOT, changed, deploy, on_target, playbook, serving, target_files_digest

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"


@pytest.fixture(scope="module")
def two_releases(ssh_target) -> None:
    """V1 then V2 deployed: V2 serves, V1 is a rollback target."""
    for version in (V1, V2):
        run = deploy(ssh_target, version)
        assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V2


def table_line(output: str, host: str) -> list[str]:
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(host + " ")]
    assert lines, output[-3000:]
    return lines[0].split()


def test_status_names_what_serves_its_health_and_the_rollback_targets(ssh_target, two_releases):
    before = target_files_digest(ssh_target["container"], ROOT)
    run = playbook(ssh_target["inventory"], "status.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    host, version, since, health, *rest = table_line(run.stdout, "test-1")
    assert (host, version, health) == ("test-1", V2, "ok")
    assert since.startswith("20") and since.endswith("Z")
    assert V1 in " ".join(rest) and rest[-1] == "free"
    assert f"deploy {V2} success" in run.stdout  # the last history events
    assert changed(run.stdout) == 0
    assert target_files_digest(ssh_target["container"], ROOT) == before


def test_status_shows_who_holds_the_lock(ssh_target, two_releases):
    lock = {"holder": "another-operator", "purpose": "deploy c0ffee3",
            "since": "2026-01-01T00:00:00Z", "since_epoch": time.time(), "token": "theirs"}  # fmt: skip
    on_target(ssh_target, f"echo '{json.dumps(lock)}' > {ROOT}/lock")
    try:
        run = playbook(ssh_target["inventory"], "status.yml")
    finally:
        on_target(ssh_target, f"rm -f {ROOT}/lock")
    assert run.returncode == 0, run.stdout[-5000:]
    assert "another-operator for deploy c0ffee3 since 2026-01-01T00:00:00Z" in run.stdout
