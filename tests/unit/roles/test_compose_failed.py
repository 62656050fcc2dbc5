"""roles/release/tasks/compose_failed.yml, run for real on the controller (no host):
Compose's error becomes one line, with the exit code, and every vault value masked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: release
        tasks_from: compose_failed
"""


def failure_message(tmp_path: Path, extra: dict) -> str:
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
         "-c", "local", str(play), "-e", f"@{tmp_path / 'vars.json'}"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    return run.stdout + run.stderr


def test_exit_code_and_output_in_one_line_with_every_vault_value_masked(tmp_path: Path) -> None:
    output = failure_message(
        tmp_path,
        {
            "vault_db_password": "first-SFSsecret-value",
            "vault_redis_password": "second-SFSsecret-value",
            "release_failed_action": "Migration of release dead001 failed",
            "release_failed_result": {
                "rc": 3,
                "msg": "Task failed: Action failed: Unknown error.",
                "stderr": " Container stickforstats_db  Running\n"
                "boom: first-SFSsecret-value and second-SFSsecret-value\n",
            },
        },
    )
    assert "SFSsecret" not in output
    assert (
        "Migration of release dead001 failed: the command exited with code 3;"
        " boom: ******** and ********"
    ) in output.replace("\n        ", " ")
    assert "Unknown error" not in output and "Container stickforstats_db" not in output
