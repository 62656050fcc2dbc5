"""Outside the sandbox and the test inventories, a deploy or a rollback whose vault opens
with the committed test-only password, or holds a placeholder value, is refused before
any host is touched, in one line naming the keys (never the values).

Runs ansible-playbook for real against inventories/staging, whose hosts do not resolve:
the refusal must come before any connection is tried (no Docker needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEST_PASSWORD = REPO / "tests" / "vault" / "test-only-password.txt"
STAGING_KEYS = (
    "vault_db_password, vault_django_secret_key, vault_email_host_password,"
    " vault_email_host_user, vault_redis_password"
)


def run(playbook: str, *args: str, inventory: str = "inventories/staging",
        password: Path = TEST_PASSWORD) -> str:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    env["ANSIBLE_STRATEGY"] = "linear"
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", inventory, "--vault-password-file",
         str(password), playbook, "-vvv", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    return output


def assert_no_connection_tried(output: str) -> None:
    for sign in ("ESTABLISH SSH CONNECTION", "SSH: EXEC", "UNREACHABLE", "<staging-1"):
        assert sign not in output, f"{sign!r} in the output: a host was touched"


@pytest.mark.parametrize(
    "playbook,args",
    [("deploy.yml", ["-e", "app_version=c0ffee1"]), ("rollback.yml", [])],
    ids=["deploy", "rollback"],
)
def test_the_test_only_vault_is_refused_outside_the_sandbox(playbook, args):
    output = run(playbook, *args)
    lines = [line for line in output.splitlines() if "test-only password" in line]
    assert lines, output[-3000:]
    assert "inventories/staging" in lines[0] and STAGING_KEYS in lines[0], lines[0]
    assert "placeholder-" not in output  # the keys are named, never the values
    assert_no_connection_tried(output)


def test_placeholders_are_refused_under_any_password(tmp_path):
    """Staging's inventory with its vault re-keyed to another password: the placeholders
    are still refused, by name."""
    password = tmp_path / "password"
    password.write_text("not-the-test-only-password\n")
    inventory = tmp_path / "staging"
    shutil.copytree(REPO / "inventories" / "staging", inventory)
    vault = inventory / "group_vars" / "all" / "vault.yml"
    old = VaultLib([("default", VaultSecret(TEST_PASSWORD.read_bytes().strip()))])
    new = VaultLib([("default", VaultSecret(password.read_bytes().strip()))])
    vault.write_bytes(new.encrypt(old.decrypt(vault.read_bytes())))
    output = run(
        "deploy.yml", "-e", "app_version=c0ffee1", inventory=str(inventory), password=password
    )
    line = next(line for line in output.splitlines() if "Refusing to deploy" in line)
    assert f"placeholder values: {STAGING_KEYS}." in line, line
    assert "test-only password" not in line, line
    assert "placeholder-" not in output
    assert_no_connection_tried(output)


def test_control_the_same_run_allowed_the_test_vault_goes_on_to_the_host():
    """With secrets_guard_allow_test_vault (as the sandbox sets it), the guard lets the run
    go on; it then stops at the first thing staging lacks here (a host or the app's files),
    which shows that the refusal above is the guard's."""
    output = run(
        "deploy.yml", "-e", "app_version=c0ffee1", "-e", "secrets_guard_allow_test_vault=true"
    )
    assert "test-only password" not in output, output[-3000:]
