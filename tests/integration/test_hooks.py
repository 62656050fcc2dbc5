"""Hooks (release_hooks) on a target reached over SSH.

The tests run in order and build on each other: c0ffee1 serves; a deploy of
c0ffee2 whose pre_switch hook fails switches nothing; one whose post_deploy
hook fails brings c0ffee1 back (and runs the post_rollback hook); with
deploy_post_deploy_hook_failure=fail c0ffee2 stays; rollback.yml runs
the post_rollback hook. The hooks are tests/hooks/*.yml: record.yml writes
what it was told and saw to a marker file on the host, fail.yml fails.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from ansible_run import REPO, ROOT, deploy, history, http, on_target, playbook, serving

pytestmark = pytest.mark.docker
V1, V2 = "c0ffee1", "c0ffee2"
RECORD = str(REPO / "tests" / "hooks" / "record.yml")
FAIL = str(REPO / "tests" / "hooks" / "fail.yml")
MARKERS = "/var/tmp/sfs-hooks.jsonl"  # written by RECORD on the host


def hooks(**stages: list[str]) -> list[str]:
    return ["-e", json.dumps({"release_hooks": stages})]


def markers(target: dict) -> list[dict]:
    out = on_target(target, f"cat {MARKERS} 2>/dev/null || true")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def images_running(target: dict) -> str:
    return on_target(target, "docker ps --format '{{.Image}}'")


def serving_or_none(target: dict) -> str | None:
    try:
        return serving(target)
    except subprocess.CalledProcessError:
        return None


@pytest.fixture(scope="module")
def v1(ssh_target) -> None:
    """c0ffee1 serving, deployed without hooks; no marker file."""
    if serving_or_none(ssh_target) != V1:
        run = deploy(ssh_target, V1)
        assert run.returncode == 0, run.stdout[-5000:]


@pytest.fixture
def no_markers(ssh_target) -> None:
    on_target(ssh_target, f"rm -f {MARKERS}")


def assert_release_facts(seen: dict, version: str, previous: str) -> None:
    assert seen["version"] == version and seen["previous"] == previous, seen
    assert seen["release_dir"] == f"{ROOT}/releases/{version}"
    assert seen["root"] == ROOT and seen["project_name"] == "stickforstats"
    assert seen["environment"] == "sandbox"
    # as the release's compose file names them (repo:tag@sha256:... once pinned at the pull)
    tags = [image.split("@")[0] for image in seen["images"]]
    assert f"registry:5000/stickforstats/backend:{version}" in tags, seen["images"]
    assert f"registry:5000/stickforstats/frontend:{version}" in tags
    assert "registry:5000/mirror/postgres:15" in seen["images"]


def test_a_failing_pre_switch_hook_switches_nothing(ssh_target, v1, no_markers):
    run = deploy(ssh_target, V2, *hooks(pre_deploy=[RECORD], pre_switch=[RECORD, FAIL]))
    assert run.returncode != 0, run.stdout[-5000:]
    assert f"pre_switch hook {FAIL} failed" in run.stdout, run.stdout[-5000:]
    assert f"test hook refused pre_switch of {V2}" in run.stdout
    assert f"Nothing was switched: {V1} is serving." in run.stdout
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    assert f":{V2}" not in images_running(ssh_target)
    last = history(ssh_target)[-1]
    assert (last["event"], last["version"], last["outcome"]) == ("deploy", V2, "failed")
    assert FAIL in last["reason"] and "pre_switch" in last["reason"], last
    seen = markers(ssh_target)
    assert [m["stage"] for m in seen] == ["pre_deploy", "pre_switch"], seen
    for m in seen:
        assert_release_facts(m, V2, V1)
        assert m["env_file"] is True  # the release is staged with its env files
        assert m["current"] == f"releases/{V1}"  # nothing switched yet


def test_a_failing_post_deploy_hook_brings_the_previous_release_back(ssh_target, v1, no_markers):
    run = deploy(ssh_target, V2, *hooks(post_deploy=[RECORD, FAIL], post_rollback=[RECORD]))
    assert run.returncode != 0, run.stdout[-5000:]
    assert f"post_deploy hook {FAIL} failed" in run.stdout, run.stdout[-5000:]
    assert f"Rolled back: {V1} is serving and healthy." in run.stdout
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    events = history(ssh_target)[-2:]
    assert [(e["event"], e["version"], e["outcome"]) for e in events] == [
        ("deploy", V2, "failed"),
        ("rollback", V1, "success"),
    ]
    assert FAIL in events[0]["reason"], events
    seen = markers(ssh_target)
    assert [m["stage"] for m in seen] == ["post_deploy", "post_rollback"], seen
    assert_release_facts(seen[0], V2, V1)
    assert seen[0]["current"] == f"releases/{V1}"  # serving, not yet recorded
    # the post_rollback hook: told about the release that serves again
    assert_release_facts(seen[1], V1, V2)
    assert seen[1]["reason"] == f"deploy of {V2} failed"
    assert seen[1]["current"] == f"releases/{V1}"


def test_with_fail_a_failing_post_deploy_hook_keeps_the_release(ssh_target, v1, no_markers):
    run = deploy(
        ssh_target,
        V2,
        *hooks(post_deploy=[FAIL], post_rollback=[RECORD]),
        "-e",
        "deploy_post_deploy_hook_failure=fail",
    )
    assert run.returncode != 0, run.stdout[-5000:]
    assert f"post_deploy hook {FAIL} failed" in run.stdout, run.stdout[-5000:]
    assert f"{V2} is deployed and serving: not rolled back" in run.stdout
    assert serving(ssh_target) == V2
    assert http(ssh_target, "/api/v1/health/")["version"] == V2
    hook, deployed = history(ssh_target)[-2:]
    assert (hook["event"], hook["stage"], hook["hook"], hook["version"], hook["outcome"]) == (
        "hook",
        "post_deploy",
        FAIL,
        V2,
        "failed",
    )
    assert (deployed["event"], deployed["version"], deployed["outcome"]) == (
        "deploy",
        V2,
        "success",
    )
    assert markers(ssh_target) == []  # no rollback, so no post_rollback hook


def test_rollback_runs_the_post_rollback_hooks(ssh_target, v1, no_markers):
    assert serving(ssh_target) == V2  # from the test before
    run = playbook(ssh_target["inventory"], "rollback.yml", *hooks(post_rollback=[RECORD]))
    assert run.returncode == 0, run.stdout[-5000:]
    assert serving(ssh_target) == V1
    assert http(ssh_target, "/api/v1/health/")["version"] == V1
    seen = markers(ssh_target)
    assert [m["stage"] for m in seen] == ["post_rollback"], seen
    assert_release_facts(seen[0], V1, V2)
    assert seen[0]["reason"] == "requested by an operator"
    assert seen[0]["current"] == f"releases/{V1}"
