"""The controller's view of a run (plugins/action/deploy_lock.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from ansible_collections.stickforstats.deploy.plugins.action.deploy_lock import (
    is_playbook,
    live_playbook_pids,
    playbook_pid,
)


def test_a_playbook_is_told_by_its_command_line() -> None:
    assert is_playbook(["/venv/bin/python3", "/venv/bin/ansible-playbook", "deploy.yml"])
    assert is_playbook(["/usr/bin/ansible-playbook", "-i", "x"])
    assert not is_playbook(["/usr/bin/python3", "-m", "pytest", "ansible-playbook"])
    assert not is_playbook([])


def test_the_run_is_the_topmost_ansible_playbook_process_not_its_forked_worker(tmp_path) -> None:
    # a stand-in "ansible-playbook" whose forked child (a worker) reports what it finds
    script = tmp_path / "ansible-playbook"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(sys.path[0])!r})\n"
        "from ansible_collections.stickforstats.deploy.plugins.action.deploy_lock import (\n"
        "    live_playbook_pids, playbook_pid)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    print(os.getppid(), playbook_pid(), os.getppid() in live_playbook_pids(), flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    parent, found, listed = out
    assert found == parent and listed == "True"


def test_outside_a_playbook_there_is_no_run() -> None:
    assert playbook_pid() == 0
    assert os.getpid() not in (live_playbook_pids() or [])
