"""Action plugin of stickforstats.deploy.deploy_lock: tells the module who the caller is.

The module runs on the host and cannot see the controller. This fills, on the
controller, the options that let it tell a dead run's lock from a live one:
``controller`` (``STICKFORSTATS_CONTROLLER``, or the host name), ``pid`` (this
run's ansible-playbook process) and ``live_pids`` (the ansible-playbook
processes running on this controller now), then runs the module.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from ansible.plugins.action import ActionBase


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            stat = handle.read()
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def is_playbook(argv: list[str]) -> bool:
    """ARGV runs ansible-playbook (as a script, or through its Python interpreter)."""
    return any(os.path.basename(arg) == "ansible-playbook" for arg in argv[:2])


def playbook_pid(start: int | None = None) -> int:
    """The ansible-playbook process this worker belongs to (0: none found).

    Its workers are forks of it, with its command line: the topmost one is the run.
    """
    pid, found = start or os.getpid(), 0
    for _ in range(32):
        if pid <= 1:
            break
        if is_playbook(_cmdline(pid)):
            found = pid
        elif found:
            break
        pid = _parent(pid)
    return found


def live_playbook_pids() -> list[int] | None:
    """Every ansible-playbook process on this machine (None where /proc cannot tell)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    return sorted(int(n) for n in names if n.isdigit() and is_playbook(_cmdline(int(n))))


def controller_name() -> str:
    return os.environ.get("STICKFORSTATS_CONTROLLER") or socket.gethostname()


class ActionModule(ActionBase):
    """Runs stickforstats.deploy.deploy_lock with the controller's view of the run."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(
        self, tmp: str | None = None, task_vars: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        del tmp
        args = dict(self._task.args)
        pid = playbook_pid()
        live = live_playbook_pids() if pid else None
        args.setdefault("controller", controller_name())
        args.setdefault("pid", pid)
        if live is not None:
            args.setdefault("live_pids", live)
        result.update(
            self._execute_module(
                module_name="stickforstats.deploy.deploy_lock",
                module_args=args,
                task_vars=task_vars or {},
            )
        )
        return result
