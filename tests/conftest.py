"""Session fixtures for tests that need Docker: engine, images, registry, targets.

Tests marked `docker` get a Docker engine (started if none answers), every
harness image (cached), the network and the local registry with the sample
app pushed, and, through `ssh_target`, a target host reached over real SSH
with a pinned host key. What the session created is removed at its end,
volumes included.

Under CI (CI=true) a Docker engine that cannot be had is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# ansible_collections.stickforstats.deploy importable in plain pytest runs
if str(REPO / "collections") not in sys.path:
    sys.path.insert(0, str(REPO / "collections"))
HARNESS = REPO / "tests" / "harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))
from targets import SESSIONS  # noqa: E402  (the harness is not a package)

# Which harness session the targets belong to: `test`, or `dev-a`/`dev-b`/`dev-c` for a
# second run beside it (its own containers, ports and keys).
SESSION_NAME = os.environ.get("SFS_TEST_SESSION", "test")
SESSION = SESSIONS[SESSION_NAME]
PY = sys.executable
IN_CI = os.environ.get("CI", "").lower() == "true"


def _run(*args: str, timeout: int = 1800) -> None:
    proc = subprocess.run(
        args, cwd=REPO, text=True, capture_output=True, timeout=timeout, check=False
    )
    sys.stderr.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def _volumes() -> set[str]:
    out = subprocess.run(
        ["docker", "volume", "ls", "-q"], capture_output=True, text=True, check=False
    ).stdout
    return set(out.split())


@pytest.fixture(scope="session")
def docker_engine() -> None:
    proc = subprocess.run(
        ["bash", str(HARNESS / "engine.sh")], capture_output=True, text=True, check=False
    )
    sys.stderr.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        reason = f"no Docker engine could be started:\n{proc.stderr[-2000:]}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def harness(docker_engine) -> None:
    """Images built, network and registry up, sample app pushed; torn down at the end."""
    before = _volumes()
    try:
        _run(PY, str(HARNESS / "images.py"), "build")
        _run(PY, str(HARNESS / "targets.py"), "up", "--session", SESSION_NAME)
        _run(PY, str(HARNESS / "images.py"), "push")
        yield
    finally:
        _run(PY, str(HARNESS / "targets.py"), "down", "--session", SESSION_NAME)
        leftover = _volumes() - before
        dangling = set(
            subprocess.run(
                ["docker", "volume", "ls", "-q", "--filter", "dangling=true"],
                capture_output=True, text=True, check=False,
            ).stdout.split()
        )  # fmt: skip
        for volume in sorted(leftover & dangling):
            subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=False)


def _inventory(directory: Path, count: int, batches: bool) -> Path:
    """An inventory of COUNT test targets over SSH, with the sandbox's group_vars."""
    keys = REPO / ".state" / SESSION["keys"]
    hosts = {}
    for i in range(1, count + 1):
        # host vars: they win over the sandbox's group_vars/all
        hosts[f"test-{i}"] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": SESSION["ssh"] + i,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys / "id_ed25519"),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={keys / 'known_hosts'}"
            " -o StrictHostKeyChecking=yes",
            "deploy_app_dir": str(REPO / "tests" / "sample_app"),
        }
    groups = {"stickforstats_servers": {"hosts": hosts}}
    if batches:
        groups["deploy_in_batches"] = {"hosts": {name: {} for name in hosts}}
    (directory / "hosts.yml").write_text(json.dumps(groups))
    (directory / "group_vars").symlink_to(REPO / "inventories" / "sandbox" / "group_vars")
    return directory


@pytest.fixture(scope="session")
def ssh_target(harness, tmp_path_factory) -> dict:
    """One target host over SSH (sfs-test-1 in the `test` session)."""
    _run(PY, str(HARNESS / "targets.py"), "up", "--session", SESSION_NAME, "--targets", "1")
    inv = _inventory(tmp_path_factory.mktemp("inventory"), 1, batches=False)
    return {
        "inventory": str(inv),
        "container": f"{SESSION['prefix']}1",
        "http": SESSION["http"] + 1,
    }


@pytest.fixture(scope="session")
def two_targets(harness, tmp_path_factory) -> dict:
    """Two target hosts over SSH, deployed one batch at a time (deploy_in_batches)."""
    _run(PY, str(HARNESS / "targets.py"), "up", "--session", SESSION_NAME, "--targets", "2")
    inv = _inventory(tmp_path_factory.mktemp("inventory"), 2, batches=True)
    hosts = [{"container": f"{SESSION['prefix']}{i}", "http": SESSION["http"] + i} for i in (1, 2)]
    return {"inventory": str(inv), "hosts": hosts}
