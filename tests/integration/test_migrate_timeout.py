"""The migration's time limit (deploy_migrate_timeout) on a target reached over SSH.

c0ffee1 is deployed; c0ffee2's migration hangs (the sample backend's `web` role
serves forever, where `migrate` would exit): past the limit the run fails saying
so, with the command's last lines, its one-off container is stopped and removed,
nothing is switched and c0ffee1 keeps serving.
"""

from __future__ import annotations

import json
import time

import pytest
from ansible_run import deploy, history, http, on_target, serving

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"
HANGS = json.dumps({"deploy_migrate_command": ["web"], "deploy_migrate_timeout": 5})


def test_a_hung_migration_is_stopped_at_its_limit_and_nothing_is_switched(ssh_target):
    run = deploy(ssh_target, V1)
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V1

    started = time.monotonic()
    run = deploy(ssh_target, V2, "-e", HANGS)
    took = time.monotonic() - started
    assert run.returncode != 0, run.stdout[-5000:]
    assert (
        f"Migration of release {V2} exceeded 5 s (deploy_migrate_timeout), nothing was switched:"
        " the command was stopped after 5 s and its container removed;"
        f" last output: sample app {V2} (web) starting"
    ) in " ".join(run.stdout.split()), run.stdout[-5000:]
    assert f"Nothing was switched: {V1} is serving." in run.stdout
    assert took < 90, f"the failed deploy took {took:.0f} s"

    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    one_offs = on_target(
        ssh_target,
        "docker ps --all --filter label=com.docker.compose.oneoff=True --format '{{.Names}}'",
    )
    assert one_offs.strip() == "", one_offs
    assert f":{V2}" not in on_target(ssh_target, "docker ps --format '{{.Image}}'")
    last = history(ssh_target)[-1]
    assert (last["event"], last["version"], last["outcome"]) == ("deploy", V2, "failed")
    assert "exceeded 5 s" in last["reason"], last
