"""Runs ansible-playbook from the repo root, as the deploy jobs do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VAULT_PASSWORD_FILE = REPO / "tests" / "vault" / "test-only-password.txt"


def playbook(
    inventory: str, path: str, *args: str, timeout: int = 900
) -> subprocess.CompletedProcess:
    """ansible-playbook PATH against INVENTORY with the test vault; output captured
    (and appended to the file $SFS_PLAYBOOK_LOG when set, to debug a failing test)."""
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", inventory, "--vault-password-file",
         str(VAULT_PASSWORD_FILE), path, *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if os.environ.get("SFS_PLAYBOOK_LOG"):
        with open(os.environ["SFS_PLAYBOOK_LOG"], "a", encoding="utf-8") as log:
            log.write(
                f"=== {path} {' '.join(args)} -> {proc.returncode}\n{proc.stdout}{proc.stderr}\n"
            )
    return proc


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
