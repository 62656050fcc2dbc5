"""roles/deploy/tasks/scan.yml, run for real on the controller (no host) at -vvv: a
vault value in deploy_scan_command, printed back by the scanner, shows nowhere.

Two guards, each with its own case: the set_fact building the scan jobs is no_log
(it would print the command at -v), and the scanner's output in the rejection
message is redacted (a scanner may echo its arguments, or its registry's errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# $NOPE: the command module expands $VAR in arguments (expand_argument_vars); unset, it stays
TOKEN = "-t0ken \"dq\" 'sq' $NOPE #h back\\slash ünï"
MARK = "t0ken"
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: deploy
        tasks_from: scan
"""
# Echoes its arguments (the token among them) in the forms a scanner's log may hold, fails.
SCANNER = """#!/bin/sh
printf 'login with %s\\n' "$2"
printf '{"token": "%s"}\\n' "$(printf '%s' "$2" | sed 's/\\\\/\\\\\\\\/g; s/"/\\\\"/g')"
echo "REJECTED $3"
exit 1
"""


def run_scan(tmp_path: Path, command: list[str], vault: bool = True) -> str:
    scanner = tmp_path / "scanner.sh"
    scanner.write_text(SCANNER)
    scanner.chmod(0o755)
    (tmp_path / "play.yml").write_text(PLAY)
    extra = {
        **({"vault_registry_token": TOKEN} if vault else {}),
        "deploy_version": "c0ffee2",
        "deploy_scan_command": [str(scanner) if c == "SCANNER" else c for c in command],
        "deploy_scan_timeout": 30,
        "__deploy_release_images": ["registry:5000/stickforstats/backend:c0ffee2"],
    }
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(tmp_path / "play.yml"), "-e", f"@{tmp_path / 'vars.json'}", "-vvv"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return run.stdout + run.stderr


def sections(output: str) -> dict[str, str]:
    """The output of each task, by task name (the part after "TASK [role : ")."""
    found: dict[str, str] = {}
    for part in output.split("TASK [")[1:]:
        name = part.split("]", 1)[0].split(" : ", 1)[-1]
        found[name] = found.get(name, "") + part
    return found


@pytest.fixture(scope="module")
def hidden_run(tmp_path_factory) -> dict[str, str]:
    """A scan at -vvv whose command holds a vault value, which the scanner prints back."""
    output = run_scan(
        tmp_path_factory.mktemp("scan"),
        ["SCANNER", "--token", "{{ vault_registry_token }}", "{image}"],
    )
    assert "REJECTED registry:5000/stickforstats/backend:c0ffee2" in output, output[-3000:]
    return sections(output)


def test_the_scan_jobs_are_built_without_showing_the_command(hidden_run):
    """Guard: the set_fact that builds the scan jobs is no_log."""
    jobs = hidden_run["The scans this host's release needs are known"]
    assert MARK not in jobs, jobs


def test_the_scanners_output_is_shown_redacted(hidden_run):
    """Guard: the rejection message redacts the scanner's output."""
    message = hidden_run["Every image of the release passed the scan"]
    assert "Image scan rejected release c0ffee2" in message, message
    assert "login with ********" in message, message
    assert MARK not in message, message


def test_nothing_else_shows_the_value(hidden_run):
    assert [name for name, text in hidden_run.items() if MARK in text] == []


def test_control_the_token_would_show_were_it_not_a_vault_value(tmp_path):
    """The same run with the token given as is and no vault: the search sees it in the
    message (nothing to mask it with)."""
    found = sections(run_scan(tmp_path, ["SCANNER", "--token", TOKEN, "{image}"], vault=False))
    assert f"login with {TOKEN}" in found["Every image of the release passed the scan"]
