"""Bad input: each case ends with a clear one-line reason and a non-zero exit,
and the release that served before still serves, with its data.

Cases caught on the controller (before any host is touched) also leave every
file under the deploy root byte-identical.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_run import (
    REPO,
    ROOT,
    VAULT_PASSWORD_FILE,
    deploy,
    http,
    on_target,
    playbook,
    playbook_with,
    serving,
    target_files_digest,
)

pytestmark = pytest.mark.docker
BASELINE = "c0ffee1"
SAMPLE_APP = REPO / "tests" / "sample_app"


@pytest.fixture(scope="module")
def baseline(ssh_target) -> dict:
    """BASELINE serving on the target, with a row written under it."""
    if serving_or_none(ssh_target) != BASELINE:
        run = deploy(ssh_target, BASELINE)
        assert run.returncode == 0, run.stdout[-5000:]
    return http(ssh_target, "/api/v1/items/", {"name": "survives bad input"})


def serving_or_none(target: dict) -> str | None:
    try:
        return serving(target)
    except subprocess.CalledProcessError:
        return None


# ---- inventories and app directories that carry one fault each -------------


def inventory_copy(target: dict, tmp: Path, **host_vars: str) -> Path:
    """The target's inventory with HOST_VARS changed; group_vars copied (real files)."""
    src = Path(target["inventory"])
    hosts = json.loads((src / "hosts.yml").read_text())
    for host in hosts["stickforstats_servers"]["hosts"].values():
        host.update(host_vars)
    inv = tmp / "inventory"
    inv.mkdir()
    (inv / "hosts.yml").write_text(json.dumps(hosts))
    shutil.copytree(src / "group_vars", inv / "group_vars", symlinks=False)
    return inv


def vault_lib() -> VaultLib:
    return VaultLib([("default", VaultSecret(VAULT_PASSWORD_FILE.read_bytes().strip()))])


def without_secret(target: dict, tmp: Path, name: str) -> Path:
    inv = inventory_copy(target, tmp)
    path = inv / "group_vars" / "all" / "vault.yml"
    values = yaml.safe_load(vault_lib().decrypt(path.read_bytes()))
    del values[name]
    path.write_bytes(vault_lib().encrypt(yaml.safe_dump(values)))
    path.chmod(0o600)
    return inv


def wrong_host_key(target: dict, tmp: Path) -> Path:
    """The target's inventory with a known_hosts that pins another key for its address."""
    key = tmp / "impostor"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    hosts = json.loads((Path(target["inventory"]) / "hosts.yml").read_text())
    port = hosts["stickforstats_servers"]["hosts"]["test-1"]["ansible_port"]
    kind, blob = (tmp / "impostor.pub").read_text().split()[:2]
    known = tmp / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {kind} {blob}\n")
    return inventory_copy(
        target,
        tmp,
        ansible_ssh_common_args=f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes",
        # a connection of its own: a master still open from an earlier run would be
        # reused without checking the host key again
        ansible_control_path_dir=str(tmp / "cp"),
    )


def app_copy(tmp: Path, edit) -> Path:
    app = tmp / "app"
    shutil.copytree(SAMPLE_APP, app, ignore=shutil.ignore_patterns("backend", "frontend"))
    compose = app / "docker-compose.prod.yml"
    compose.write_text(edit(compose.read_text()))
    return app


def broken_yaml(text: str) -> str:
    return text.replace("services:\n", "services:\n  db: [unclosed\n", 1)


def unmapped_service(text: str) -> str:
    return text.replace(
        "services:\n", "services:\n  reports:\n    build: ./backend\n    command: [worker]\n", 1
    )


def named_web_service(text: str) -> str:
    """container_name on the backend: Docker allows one container of that name."""
    return text.replace(
        '    command: ["web"]\n',
        '    command: ["web"]\n    container_name: stickforstats_backend\n',
        1,
    )


def while_the_lock_is_held(target: dict, tmp: Path):
    """A deploy while another operator's run holds the host's deploy lock."""
    lock = {"holder": "another-operator", "purpose": "deploy c0ffee3", "since": "2026-01-01T00:00:00Z",
            "since_epoch": time.time(), "token": "someone-else", "controller": "ops-laptop",
            "pid": 4242, "lease": 600}  # fmt: skip
    on_target(target, f"echo '{json.dumps(lock)}' > {ROOT}/lock")
    try:
        return deploy(target, "c0ffee2")
    finally:
        on_target(target, f"rm -f {ROOT}/lock")


def next_deploy(inventory: str, *extra: str):
    """deploy.yml of c0ffee2 (the version each refused deploy would have brought)."""
    return playbook(inventory, "deploy.yml", "-e", "app_version=c0ffee2", *extra)


# ---- the cases ---------------------------------------------------------------

# id -> (how to run it, the reason expected in the output, caught before any host change)
CASES = {
    "missing-secret": (
        lambda t, tmp: next_deploy(str(without_secret(t, tmp, "vault_db_password"))),
        "Secrets missing from the vault: vault_db_password",
        True,
    ),
    "empty-secret": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            '{"vault_django_secret_key": ""}',
        ),
        "Secrets empty in the vault: vault_django_secret_key",
        True,
    ),
    "malformed-version": (
        lambda t, tmp: playbook(t["inventory"], "deploy.yml", "-e", "app_version=C0FFEE2;ls"),
        "app_version must be the git sha of a green commit",
        True,
    ),
    "version-not-in-registry": (
        lambda t, tmp: playbook(t["inventory"], "deploy.yml", "-e", "app_version=0123abc"),
        "Not in the registry: registry:5000/stickforstats/",
        False,
    ),
    "invalid-compose-yaml": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            f"deploy_app_dir={app_copy(tmp, broken_yaml)}",
        ),
        "cannot be deployed: invalid YAML at line",
        True,
    ),
    "built-service-without-image": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            f"deploy_app_dir={app_copy(tmp, unmapped_service)}",
        ),
        "service 'reports' has build: but no image mapping",
        True,
    ),
    "container-name-on-a-rolling-service": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            f"deploy_app_dir={app_copy(tmp, named_web_service)}",
        ),
        "container_name forbids a second container of backend",
        True,
    ),
    "unreachable-host": (
        lambda t, tmp: next_deploy(str(inventory_copy(t, tmp, ansible_port=2399))),
        "Connection refused",
        True,
    ),
    "wrong-host-key": (
        lambda t, tmp: next_deploy(str(wrong_host_key(t, tmp))),
        # plain ssh says the first, Mitogen (the default strategy) the second
        ("Host key verification failed", "SSH reported an unrecognized or mismatching host key"),
        True,
    ),
    "health-answers-500": (
        lambda t, tmp: playbook(
            t["inventory"],
            "deploy.yml",
            "-e",
            "app_version=bad5000",
            "-e",
            "health_deadline=20",
        ),
        "The requested URL returned error: 500",
        False,
    ),
    "health-never-answers": (
        lambda t, tmp: playbook(
            t["inventory"],
            "deploy.yml",
            "-e",
            "app_version=facade0",
            "-e",
            "health_deadline=20",
        ),
        "fails its healthcheck",
        False,
    ),
    "container-exits": (
        lambda t, tmp: playbook(t["inventory"], "deploy.yml", "-e", "app_version=dead001"),
        "exited with code 3",
        False,
    ),
    "not-enough-disk": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            "deploy_min_free_disk_mb=999999999",
        ),
        "Not enough free disk to pull the images of c0ffee2",
        False,
    ),
    "lock-already-held": (
        while_the_lock_is_held,
        "Deploy lock /opt/stickforstats/lock is held by another-operator (ansible-playbook pid 4242"
        " on ops-laptop) for deploy c0ffee3",
        True,
    ),
    "rollback-to-a-release-not-kept": (
        lambda t, tmp: playbook(t["inventory"], "rollback.yml", "-e", "rollback_to=abcdef9"),
        "Release abcdef9 is not kept on this host",
        False,
    ),
    "wrong-vault-password": (
        lambda t, tmp: playbook_with(
            ["-i", t["inventory"], "--vault-password-file", str(wrong_password(tmp))],
            "deploy.yml",
            "-e",
            "app_version=c0ffee2",
        ),
        "Decryption failed",
        True,
    ),
    "no-vault-password": (
        lambda t, tmp: playbook_with(
            ["-i", t["inventory"]], "deploy.yml", "-e", "app_version=c0ffee2"
        ),
        "no vault secrets",
        True,
    ),
    "hook-file-missing": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            json.dumps({"release_hooks": {"pre_switch": [str(tmp / "absent.yml")]}}),
        ),
        "Hook files not found on the controller (release_hooks takes absolute paths of task files)",
        True,
    ),
    "post-rollback-hook-file-missing": (
        lambda t, tmp: playbook(
            t["inventory"],
            "rollback.yml",
            "-e",
            json.dumps({"release_hooks": {"post_rollback": ["hooks/relative.yml"]}}),
        ),
        "Hook files not found on the controller (release_hooks takes absolute paths of task files):"
        " hooks/relative.yml",
        True,
    ),
    "scan-command-without-image": (
        lambda t, tmp: next_deploy(
            t["inventory"],
            "-e",
            json.dumps({"deploy_scan_command": ["trivy", "image", "--exit-code", "1"]}),
        ),
        "deploy_scan_command must have {image} in an argument",
        True,
    ),
}


def wrong_password(tmp: Path) -> Path:
    path = tmp / "wrong-password"
    path.write_text("not-the-password\n")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_and_the_previous_release_keeps_serving(
    ssh_target, baseline, tmp_path, case
):
    run_it, reason, before_any_change = CASES[case]
    before = target_files_digest(ssh_target["container"], ROOT)
    run = run_it(ssh_target, tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-3000:]
    reasons = (reason,) if isinstance(reason, str) else reason
    assert any(r in output for r in reasons), output[-5000:]
    assert serving(ssh_target) == BASELINE
    assert http(ssh_target, "/api/v1/health/")["version"] == BASELINE
    assert baseline in http(ssh_target, "/api/v1/items/")["items"]
    if before_any_change:
        assert target_files_digest(ssh_target["container"], ROOT) == before
