"""No vaulted secret reaches the most verbose output of a run.

Every sandbox secret starts with the marker `SFSsecret`, so one search finds
any leak of any of them, whole or in part, quoted, escaped or url-encoded.
The last test turns no_log off to show that the search does find a leak.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_run import REPO, VAULT_PASSWORD_FILE, playbook

pytestmark = pytest.mark.docker
MARKER = "SFSsecret"


def vault_values() -> dict[str, str]:
    lib = VaultLib([("default", VaultSecret(VAULT_PASSWORD_FILE.read_bytes().strip()))])
    path = REPO / "inventories" / "sandbox" / "group_vars" / "all" / "vault.yml"
    return yaml.safe_load(lib.decrypt(path.read_bytes()))


def leaks(text: str) -> list[str]:
    found = []
    for name, value in vault_values().items():
        assert value.startswith(MARKER), f"{name} must carry the marker"
        forms = {value, quote(value, safe=""), value.encode("unicode_escape").decode()}
        if any(form in text for form in forms):
            found.append(name)
    if MARKER in text and not found:
        found.append(f"a fragment carrying {MARKER}")
    return found


@pytest.mark.parametrize(
    "path,args",
    [
        ("molecule/env_file/converge.yml", []),
        ("deploy.yml", ["-e", "app_version=c0ffee1"]),
    ],
    ids=["env_file-converge", "deploy"],
)
def test_no_secret_in_most_verbose_output(ssh_target, path, args):
    run = playbook(ssh_target["inventory"], path, *args, "-vvvv", "--diff")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert leaks(output) == []


def test_search_finds_a_leak_when_no_log_is_off(ssh_target):
    run = playbook(
        ssh_target["inventory"], "molecule/env_file/converge.yml",
        "-e", "env_file_no_log=false", "-e", "env_file_test_dir=/opt/sfs-leak-demo", "-vvv",
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "vault_django_secret_key" in leaks(run.stdout + run.stderr)
