"""Runs ansible-playbook from the repo root, as the deploy jobs do, and looks at targets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VAULT_PASSWORD_FILE = REPO / "tests" / "vault" / "test-only-password.txt"
ROOT = "/opt/stickforstats"  # deploy root on the targets


def playbook(
    inventory: str, path: str, *args: str, timeout: int = 900
) -> subprocess.CompletedProcess:
    """ansible-playbook PATH against INVENTORY with the test vault; output captured
    (and appended to the file $SFS_PLAYBOOK_LOG when set, to debug a failing test)."""
    options = ["-i", inventory, "--vault-password-file", str(VAULT_PASSWORD_FILE)]
    return playbook_with(options, path, *args, timeout=timeout)


def playbook_with(
    options: list[str], path: str, *args: str, timeout: int = 900
) -> subprocess.CompletedProcess:
    """ansible-playbook OPTIONS PATH ARGS, nothing added (no vault password unless given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), *options, path, *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False, env=env,
    )  # fmt: skip
    if os.environ.get("SFS_PLAYBOOK_LOG"):
        with open(os.environ["SFS_PLAYBOOK_LOG"], "a", encoding="utf-8") as log:
            log.write(
                f"=== {path} {' '.join(args)} -> {proc.returncode}\n{proc.stdout}{proc.stderr}\n"
            )
    return proc


def deploy(target: dict, version: str, *args: str) -> subprocess.CompletedProcess:
    return playbook(target["inventory"], "deploy.yml", "-e", f"app_version={version}", *args)


def target_files_digest(container: str, directory: str) -> str:
    """sha256 of every file under DIRECTORY in the target, with modes and owners."""
    script = (
        f"cd {directory} && find . -print0 | sort -z | "
        "xargs -0 stat -c '%n %a %U %G %s' && find . -type f -print0 | sort -z | xargs -0 sha256sum"
    )
    return subprocess.run(
        ["docker", "exec", container, "sh", "-c", script],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def http(target: dict, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{target['http']}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Host": "localhost"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def on_target(target: dict, command: str) -> str:
    return subprocess.run(
        ["docker", "exec", target["container"], "sh", "-c", command],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def serving(target: dict) -> str:
    return on_target(target, f"readlink {ROOT}/current").strip().rsplit("/", 1)[-1]


def history(target: dict) -> list[dict]:
    return [
        json.loads(line) for line in on_target(target, f"cat {ROOT}/history.jsonl").splitlines()
    ]


def changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))
