"""Check mode with diff shows what would change and changes nothing on the host."""

from __future__ import annotations

import re

import pytest
from ansible_run import ROOT, deploy, on_target, playbook, target_files_digest

CONVERGE = "molecule/compose_images/converge.yml"
RELEASE = "/opt/sfs-compose-test/release"

pytestmark = pytest.mark.docker


def changed_count(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def test_compose_version_change_in_check_mode_shows_image_diff_and_writes_nothing(ssh_target):
    inv = ssh_target["inventory"]
    first = playbook(inv, CONVERGE, "-e", "test_version=c0ffee2")
    assert first.returncode == 0, first.stdout[-4000:]
    before = target_files_digest(ssh_target["container"], RELEASE)

    check = playbook(inv, CONVERGE, "-e", "test_version=c0ffee3", "--check", "--diff")
    assert check.returncode == 0, check.stdout[-4000:]
    assert "-    image: registry:5000/stickforstats/backend:c0ffee2" in check.stdout
    assert "+    image: registry:5000/stickforstats/backend:c0ffee3" in check.stdout
    assert changed_count(check.stdout) >= 1
    assert target_files_digest(ssh_target["container"], RELEASE) == before

    again = playbook(inv, CONVERGE, "-e", "test_version=c0ffee2")
    assert again.returncode == 0 and changed_count(again.stdout) == 0, again.stdout[-4000:]


def test_secret_change_in_check_mode_is_reported_without_value_and_writes_nothing(ssh_target):
    inv = ssh_target["inventory"]
    first = playbook(inv, CONVERGE, "-e", "test_version=c0ffee2")
    assert first.returncode == 0, first.stdout[-4000:]
    before = target_files_digest(ssh_target["container"], RELEASE)
    new_secret = "SFSsecretROTATED-check-mode-only"
    check = playbook(
        inv, CONVERGE, "-e", "test_version=c0ffee2", "-e", f"vault_django_secret_key={new_secret}",
        "--check", "--diff", "-vvv",
    )  # fmt: skip
    assert check.returncode == 0, check.stdout[-4000:]
    assert changed_count(check.stdout) >= 1
    assert new_secret not in check.stdout + check.stderr
    assert target_files_digest(ssh_target["container"], RELEASE) == before


def host_state(target: dict) -> tuple[str, str, str]:
    """Files under the deploy root, containers (id, image, state) and images on the host."""
    containers = on_target(
        target, "docker ps -a --no-trunc --format '{{.ID}} {{.Image}} {{.State}}' | sort"
    )
    images = on_target(target, "docker images --no-trunc -q | sort")
    return target_files_digest(target["container"], ROOT), containers, images


def test_deploy_in_check_mode_lists_images_and_env_key_names_and_changes_nothing(ssh_target):
    first = deploy(ssh_target, "c0ffee1")
    assert first.returncode == 0, first.stdout[-5000:]
    before = host_state(ssh_target)
    rotated = "SFSsecretROTATED-deploy-check"
    check = deploy(
        ssh_target,
        "c0ffee2",
        "-e",
        f"vault_django_secret_key={rotated}",
        "--check",
        "--diff",
        "-vvv",
    )
    assert check.returncode == 0, check.stdout[-5000:]
    out = check.stdout + check.stderr
    assert "release: c0ffee1 -> c0ffee2" in out
    assert re.search(
        r"backend: registry:5000/stickforstats/backend:c0ffee1 \(sha256:[0-9a-f]{64}\)"
        r"\s+-> registry:5000/stickforstats/backend:c0ffee2",
        out,
    ), out[-5000:]
    assert ".env.prod: changed SECRET_KEY" in out
    assert ".env: unchanged" in out
    assert "+    image: registry:5000/stickforstats/backend:c0ffee2" in out  # the compose diff
    assert rotated not in out
    assert host_state(ssh_target) == before
