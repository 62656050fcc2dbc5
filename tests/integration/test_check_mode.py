"""Check mode with diff shows what would change and changes nothing on the host."""

from __future__ import annotations

import re

import pytest
from ansible_run import playbook, target_files_digest

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
