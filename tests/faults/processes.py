"""Killing a controller the way a cancelled CI job does: the whole process tree.

ansible-playbook forks workers, Mitogen's multiplexer (in a session of its own)
and ssh clients; an ssh ControlMaster daemonizes (a new session, parent init).
So the tree is read from /proc and frozen (SIGSTOP) before the kill: every
descendant of the root, and every process whose command line carries MARKER
(the run's own ControlPath directory). Then all of them get SIGKILL.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

PROC = Path("/proc")


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process now."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # the command name is in parentheses and may hold spaces: fields follow the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int) -> set[int]:
    """Every process below ROOT now (not ROOT itself)."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def carrying(marker: str) -> set[int]:
    """Processes whose command line contains MARKER."""
    found: set[int] = set()
    needle = marker.encode()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def _signal(pids: set[int], sig: signal.Signals) -> set[int]:
    sent: set[int] = set()
    for pid in sorted(pids):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue
        sent.add(pid)
    return sent


def kill_tree(root: int, marker: str = "") -> set[int]:
    """SIGKILL ROOT, its descendants and what carries MARKER; returns the pids killed.

    The tree is frozen first (SIGSTOP, read again until no new process shows up,
    at most 5 readings): a stopped process forks nothing, and a killed parent
    would hand its children to init before they could be found."""
    frozen: set[int] = set()
    for _ in range(5):
        found = {root} | descendants(root) | (carrying(marker) if marker else set())
        found.discard(os.getpid())
        new = found - frozen
        if not new:
            break
        frozen |= _signal(new, signal.SIGSTOP)
    return _signal(frozen, signal.SIGKILL)
