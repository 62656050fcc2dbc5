"""Batched deploys: when a later batch fails or cannot be reached, hosts that already switched come back.

Two targets over SSH in the group `deploy_in_batches` (one host per batch,
no failure allowed, as production is set up). The second host's deploy is
made to fail (its lock is held), after the first host has switched.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from ansible_run import REPO, http, playbook
from test_deploy_rollback import on_target, serving

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"
ROOT = "/opt/stickforstats"


def test_a_failure_in_a_later_batch_brings_earlier_batches_back(two_targets):
    inv, first, second = two_targets["inventory"], two_targets["hosts"][0], two_targets["hosts"][1]
    run = playbook(inv, "deploy.yml", "-e", f"app_version={V1}")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(first) == V1 and serving(second) == V1

    lock = {
        "holder": "someone",
        "purpose": "maintenance",
        "since": "now",
        "since_epoch": 4e9,
        "token": "x",
    }
    on_target(second, f"echo '{json.dumps(lock)}' > {ROOT}/lock")
    try:
        run = playbook(inv, "deploy.yml", "-e", f"app_version={V2}")
    finally:
        on_target(second, f"rm -f {ROOT}/lock")
    assert run.returncode != 0
    assert "held by someone for maintenance" in run.stdout
    assert serving(first) == V1, run.stdout[-5000:]
    assert serving(second) == V1
    health = subprocess.run(
        ["docker", "exec", first["container"], "curl", "-fsS", "-H", "Host: localhost",
         "http://127.0.0.1/api/v1/health/"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert json.loads(health)["version"] == V1
    events = [json.loads(x) for x in on_target(first, f"cat {ROOT}/history.jsonl").splitlines()]
    assert [(e["event"], e["version"], e["outcome"]) for e in events[-2:]] == [
        ("deploy", V2, "success"),
        ("rollback", V1, "success"),
    ]


def test_a_later_batch_that_cannot_be_reached_brings_earlier_batches_back(two_targets):
    """The second host's SSH port stops answering in its pre_deploy hook (after the
    first host switched): its own rescue cannot run; the first host goes back."""
    inv, first, second = two_targets["inventory"], two_targets["hosts"][0], two_targets["hosts"][1]
    run = playbook(inv, "deploy.yml", "-e", f"app_version={V1}")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(first) == V1 and serving(second) == V1

    cut = {
        "release_hooks": {"pre_deploy": [str(REPO / "tests" / "hooks" / "cut_ssh.yml")]},
        "sfs_test_cut_host": "test-2",
        "sfs_test_cut_container": second["container"],
    }
    try:
        run = playbook(inv, "deploy.yml", "-e", f"app_version={V2}", "-e", json.dumps(cut))
    finally:
        subprocess.run(
            ["docker", "exec", second["container"], "iptables", "-D", "INPUT", "-p", "tcp",
             "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset"],
            capture_output=True, check=False,
        )  # fmt: skip
    assert run.returncode != 0, run.stdout[-5000:]
    assert "fatal: [test-2]: UNREACHABLE!" in run.stdout, run.stdout[-5000:]
    assert "test-2 could not be reached" in run.stdout, run.stdout[-5000:]
    assert serving(first) == V1, run.stdout[-5000:]
    assert serving(second) == V1
    assert http(first, "/api/v1/health/")["version"] == V1  # through its front door
    events = [json.loads(x) for x in on_target(first, f"cat {ROOT}/history.jsonl").splitlines()]
    assert [(e["event"], e["version"], e["outcome"]) for e in events[-2:]] == [
        ("deploy", V2, "success"),
        ("rollback", V1, "success"),
    ]
