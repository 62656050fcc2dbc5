"""deploy.yml and rollback.yml end to end on a target reached over SSH.

The tests run in order and build on each other, as an operator's day would:
deploy v1, write a row, deploy v2, redeploy v2, deploy a broken version
(automatic rollback), a crashing one, roll back, roll forward, a deploy
killed halfway, and pruning. Data written at the start must survive all of it.
Refusals of bad input (a held lock, a release not kept ...) are in
test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from ansible_run import (
    BIN,
    REPO,
    ROOT,
    VAULT_PASSWORD_FILE,
    changed,
    deploy,
    history,
    http,
    on_target,
    playbook,
    serving,
)

pytestmark = pytest.mark.docker
V1, V2, V3, UNHEALTHY, CRASH = "c0ffee1", "c0ffee2", "c0ffee3", "badbad1", "dead001"


@pytest.fixture(scope="module")
def row(ssh_target) -> dict:
    run = deploy(ssh_target, V1)
    assert run.returncode == 0, run.stdout[-5000:]
    return http(ssh_target, "/api/v1/items/", {"name": "survives every deploy"})


def assert_row_there(target: dict, row: dict) -> None:
    items = http(target, "/api/v1/items/")["items"]
    assert {"id": row["id"], "name": row["name"], "version": V1} in items


def test_deploy_v2_keeps_the_data(ssh_target, row):
    run = deploy(ssh_target, V2)
    assert run.returncode == 0, run.stdout[-5000:]
    health = http(ssh_target, "/api/v1/health/")
    assert health["version"] == V2 and health["checks"] == {"database": "ok", "cache": "ok"}
    assert serving(ssh_target) == V2
    assert_row_there(ssh_target, row)
    manifest = json.loads(on_target(ssh_target, f"cat {ROOT}/releases/{V2}/release.json"))
    assert manifest["version"] == V2 and manifest["outcome"] == "success"
    assert any("@sha256:" in d for d in manifest["images"].values()), manifest["images"]
    assert on_target(ssh_target, f"stat -c %a {ROOT}/releases/{V2}/.env.prod").strip() == "600"


def test_second_deploy_of_the_same_version_changes_nothing(ssh_target, row):
    before = len(history(ssh_target))
    run = deploy(ssh_target, V2)
    assert run.returncode == 0, run.stdout[-5000:]
    assert changed(run.stdout) == 0, run.stdout[-5000:]
    assert len(history(ssh_target)) == before


def test_unhealthy_version_is_rolled_back(ssh_target, row):
    run = deploy(ssh_target, UNHEALTHY)
    assert run.returncode != 0
    assert f"Rolled back: {V2} is serving" in run.stdout, run.stdout[-5000:]
    assert serving(ssh_target) == V2
    assert http(ssh_target, "/api/v1/health/")["version"] == V2
    assert_row_there(ssh_target, row)
    events = [(e["event"], e["version"], e["outcome"]) for e in history(ssh_target)[-2:]]
    assert events == [("deploy", UNHEALTHY, "failed"), ("rollback", V2, "success")]


def test_crashing_version_is_found_in_seconds(ssh_target, row):
    started = time.monotonic()
    run = deploy(ssh_target, CRASH)
    elapsed = time.monotonic() - started
    assert run.returncode != 0
    assert elapsed < 90, f"took {elapsed:.0f} s"
    assert serving(ssh_target) == V2
    assert http(ssh_target, "/api/v1/health/")["version"] == V2
    assert_row_there(ssh_target, row)
    assert history(ssh_target)[-1]["version"] in (CRASH, V2)


def test_rollback_goes_to_the_previous_successful_release(ssh_target, row):
    run = playbook(ssh_target["inventory"], "rollback.yml")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    assert_row_there(ssh_target, row)
    assert history(ssh_target)[-1]["event"] == "rollback"


def test_rollback_to_a_named_kept_release(ssh_target, row):
    run = playbook(ssh_target["inventory"], "rollback.yml", "-e", f"rollback_to={V2}")
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V2
    assert http(ssh_target, "/api/v1/health/")["version"] == V2


def test_a_deploy_killed_halfway_leaves_the_old_release_serving_and_the_next_takes_over_its_lock(
    ssh_target, row
):
    args = ["-i", ssh_target["inventory"], "--vault-password-file", str(VAULT_PASSWORD_FILE)]
    # the kill waits for V3's env file: none may be there from an earlier test
    assert serving(ssh_target) != V3
    on_target(ssh_target, f"rm -rf {ROOT}/releases/{V3}")
    proc = subprocess.Popen(
        [str(BIN / "ansible-playbook"), *args, "deploy.yml", "-e", f"app_version={V3}"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        staged = f"test -e {ROOT}/releases/{V3}/.env.prod && echo yes || echo no"
        while time.monotonic() < deadline and on_target(ssh_target, staged).strip() != "yes":
            assert proc.poll() is None, "the deploy ended before it could be killed"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the controller dies mid-play
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert serving(ssh_target) == V2
    assert http(ssh_target, "/api/v1/health/")["version"] == V2
    lock = json.loads(on_target(ssh_target, f"cat {ROOT}/lock"))
    assert lock["purpose"] == f"deploy {V3}" and lock["pid"] == proc.pid, lock

    # No flag: the dead run's lock is taken over (its pid is gone on this controller).
    run = deploy(ssh_target, V3)
    assert run.returncode == 0, run.stdout[-5000:]
    said = run.stdout + run.stderr
    assert "Took over the deploy lock" in said, said[-5000:]
    assert f"ansible-playbook pid {proc.pid} on" in said and "is gone" in said
    assert serving(ssh_target) == V3
    assert (
        json.loads(on_target(ssh_target, f"cat {ROOT}/releases/{V3}/release.json"))["version"] == V3
    )
    assert history(ssh_target)[-1]["previous"] == V2
    assert_row_there(ssh_target, row)


def test_releases_beyond_the_kept_ones_are_pruned_with_their_images(ssh_target, row):
    releases = f"ls {ROOT}/releases"
    before = set(on_target(ssh_target, releases).split())
    assert {V1, V2, V3} <= before
    run = deploy(ssh_target, V1, "-e", "deploy_keep_releases=2")
    assert run.returncode == 0, run.stdout[-5000:]
    after = set(on_target(ssh_target, releases).split())
    assert {V1, V3} <= after, after  # the serving one and the previous one always stay
    assert len(after) <= 4 and after < before, (before, after)
    kept_images = " ".join(
        on_target(ssh_target, f"cat {ROOT}/releases/{v}/release.json") for v in after
    )
    for gone in sorted(before - after):
        image = f"registry:5000/stickforstats/backend:{gone}"
        present = on_target(
            ssh_target, f"docker image inspect {image} >/dev/null 2>&1 && echo yes || echo no"
        )
        if image not in kept_images:
            assert present.strip() == "no", f"{image} should have been removed"
    assert_row_there(ssh_target, row)
