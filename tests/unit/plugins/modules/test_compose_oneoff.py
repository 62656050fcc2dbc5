"""The compose_oneoff module (plugins/modules/compose_oneoff.py): a one-off command with a
time limit, its container stopped and removed when the limit passes.

The module runs here as Ansible runs it on a host (a process given its arguments as
JSON), against a fake `docker` on PATH that logs its calls; the real one runs in
tests/integration/test_migrate_timeout.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.modules.compose_oneoff import (
    compose_run_argv,
    last_lines,
    run_limited,
)

REPO = Path(__file__).resolve().parents[4]
MODULE = (
    REPO / "collections/ansible_collections/stickforstats/deploy/plugins/modules/compose_oneoff.py"
)

# `docker compose ... run ...` prints, then does what $FAKE_RUN says (hang: sleeps, leaving
# its pid in $FAKE_DIR/run.pid, until `docker stop` ends it; exit3: exits 3); every call is
# logged to $FAKE_DIR/calls; `docker ps` lists the container until `docker rm` removed it.
FAKE_DOCKER = r"""#!/bin/sh
echo "$*" >> "$FAKE_DIR/calls"
case "$1" in
  compose)
    echo " Container stickforstats-db-1  Running"
    echo "migrating with DATABASE_URL=postgres://app:s3cret@db/app"
    touch "$FAKE_DIR/exists"
    case "$FAKE_RUN" in
      hang) echo $$ > "$FAKE_DIR/run.pid"; exec sleep 300 ;;
      exit3) echo "relation missing" >&2; exit 3 ;;
      leak) echo "auth failed for p%40ss%20w%23rd-value and \"p@ss w#rd-val\"" >&2; exit 1 ;;
      *) rm -f "$FAKE_DIR/exists"; exit 0 ;;
    esac ;;
  stop) [ -f "$FAKE_DIR/run.pid" ] && kill "$(cat "$FAKE_DIR/run.pid")" 2>/dev/null; exit 0 ;;
  rm) rm -f "$FAKE_DIR/exists"; exit 0 ;;
  ps) [ -f "$FAKE_DIR/exists" ] && echo 0123456789ab; exit 0 ;;
esac
"""


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    return tmp_path


def run_module(fake: Path, mode: str, **args: object) -> tuple[dict, float]:
    spec = fake / "args.json"
    spec.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "project_src": "/opt/stickforstats/releases/c0ffee2", "project_name": "stickforstats",
        "service": "backend", "argv": ["python", "manage.py", "migrate"], "timeout": 2, **args,
    }}))  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "collections"),
        "PATH": f"{fake / 'bin'}:{os.environ['PATH']}",
        "FAKE_DIR": str(fake),
        "FAKE_RUN": mode,
    }
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(MODULE), str(spec)],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    return json.loads(proc.stdout), time.monotonic() - started


def calls(fake: Path) -> list[str]:
    return (fake / "calls").read_text().splitlines()


def test_a_hung_command_is_stopped_at_the_limit_and_its_container_removed(fake: Path) -> None:
    result, took = run_module(fake, "hang", timeout=2, stop_grace=3)
    assert result["failed"] and result["timed_out"], result
    assert took < 30, took
    assert result["rc"] is None
    name = result["container"]
    assert name.startswith("stickforstats-backend-oneoff-")
    assert f"stop --time 3 {name}" in calls(fake)
    assert f"rm --force {name}" in calls(fake)
    assert result["removed"] is True
    assert result["msg"].startswith("the command was stopped after 2 s and its container removed; ")
    assert "last output: migrating with" in result["msg"]
    assert "Container stickforstats-db-1" not in result["msg"]  # Compose's progress left out
    assert not running(int((fake / "run.pid").read_text()))  # the client is gone too


def test_the_command_line_names_the_container_and_holds_no_secret(fake: Path) -> None:
    result, _ = run_module(fake, "ok", timeout=30)
    assert not result.get("failed"), result
    assert result["rc"] == 0 and result["timed_out"] is False and result["removed"] is True
    run = [c for c in calls(fake) if c.startswith("compose ")]
    assert run == [
        "compose -p stickforstats --project-directory /opt/stickforstats/releases/c0ffee2"
        " -f /opt/stickforstats/releases/c0ffee2/docker-compose.yml"
        f" run --rm -T --name {result['container']} backend python manage.py migrate"
    ]
    assert not any(c.startswith(("stop", "rm")) for c in calls(fake))


def test_a_failing_command_reports_its_code_and_last_lines(fake: Path) -> None:
    result, _ = run_module(fake, "exit3", timeout=30)
    assert result["failed"] and result["rc"] == 3 and result["timed_out"] is False
    assert result["msg"] == (
        "last output: migrating with DATABASE_URL=postgres://app:s3cret@db/app | relation missing"
    )


def test_a_failing_commands_message_has_the_given_secrets_masked_in_every_form(fake: Path) -> None:
    """ansible-core 2.19 prints a failed no_log task's msg: the module masks the secrets it is
    given (option redact), here url-encoded and cut short, which Ansible's own no_log
    masking (raw values only) leaves."""
    result, _ = run_module(fake, "leak", timeout=30, redact=["p@ss w#rd-value"])
    assert result["failed"] and result["rc"] == 1, result
    assert "auth failed for ********" in result["msg"], result["msg"]
    assert "w%23rd" not in json.dumps(result) and "w#rd" not in json.dumps(result), result


def test_control_without_redact_the_message_holds_the_secret(fake: Path) -> None:
    result, _ = run_module(fake, "leak", timeout=30)
    assert "p%40ss%20w%23rd-value" in result["msg"]


def test_a_limit_that_is_not_positive_is_refused(fake: Path) -> None:
    result, _ = run_module(fake, "ok", timeout=0)
    assert result["failed"] and "timeout must be a number of seconds above 0" in result["msg"]
    assert not (fake / "calls").exists()


def test_run_limited_ends_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"echo started; sleep 300 & echo $! > {pidfile}; wait"
    asked: list[bool] = []
    started = time.monotonic()
    outcome = run_limited(["sh", "-c", script], 1, lambda: asked.append(True), grace=1)
    assert outcome.timed_out and outcome.rc is None and asked == [True]
    assert time.monotonic() - started < 10
    assert outcome.lines == ["started\n"]
    assert not running(int(pidfile.read_text()))


def running(pid: int) -> bool:
    """Whether PID is alive (a zombie waiting for its new parent to reap it is not)."""
    for _ in range(20):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z":
            return False
        time.sleep(0.1)
    return True


def test_run_limited_returns_the_exit_code_without_the_timeout_action() -> None:
    outcome = run_limited(["sh", "-c", "echo out; echo err >&2; exit 4"], 30, pytest.fail)
    assert (outcome.rc, outcome.timed_out) == (4, False)
    assert sorted(outcome.lines) == ["err\n", "out\n"]


def test_last_lines_drop_progress_and_blank_lines_and_cut_long_ones() -> None:
    lines = [
        " Container p-db-1  Running\n",
        "\n",
        "a\n",
        " Network p_default  Creating\n",
        "x" * 400,
    ]
    assert last_lines(lines, 10) == ["a", "x" * 300]
    assert last_lines(lines, 1) == ["x" * 300]
    assert last_lines(lines, 0) == []


def test_compose_run_argv_keeps_the_command_as_given() -> None:
    argv = compose_run_argv("/r", "p", ["a.yml", "b.yml"], "backend", "n", ["sh", "-c", "a b"])
    assert argv == [
        "docker", "compose", "-p", "p", "--project-directory", "/r", "-f", "/r/a.yml",
        "-f", "/r/b.yml", "run", "--rm", "-T", "--name", "n", "backend", "sh", "-c", "a b",
    ]  # fmt: skip


def test_compose_run_argv_starts_no_dependency_when_told() -> None:
    argv = compose_run_argv("/r", "p", ["a.yml"], "backend", "n", ["migrate"], no_deps=True)
    assert argv[argv.index("run") :] == [
        "run",
        "--rm",
        "-T",
        "--no-deps",
        "--name",
        "n",
        "backend",
        "migrate",
    ]
