"""Every task a fault case waits for is still a task of its role (no Docker needed).

A renamed task would leave a case waiting for a banner that never comes: this
fails first, naming the phase and the task.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from phases import PLAYBOOKS, ROOM_FOR_PULL, Phase

ROLES = Path(__file__).resolve().parents[2] / "roles"


def task_names(role: str) -> set[str]:
    """Names of every task in ROLE's task files, blocks included."""
    names: set[str] = set()

    def walk(tasks: list) -> None:
        for task in tasks or []:
            if not isinstance(task, dict):
                continue
            if "name" in task:
                names.add(str(task["name"]))
            for key in ("block", "rescue", "always"):
                walk(task.get(key) or [])

    for path in sorted((ROLES / role / "tasks").glob("*.yml")):
        walk(yaml.safe_load(path.read_text()) or [])
    return names


CASES = [(book, p) for book, phases in PLAYBOOKS.items() for p in phases]
CASES.append(("deploy.yml", ROOM_FOR_PULL))


@pytest.mark.parametrize(("playbook", "phase"), CASES, ids=[f"{b}-{p.name}" for b, p in CASES])
def test_the_task_of_each_phase_exists(playbook: str, phase: Phase) -> None:
    names = task_names(phase.role)
    assert any(name.startswith(phase.task) for name in names), (
        f"{playbook} phase {phase.name}: no task {phase.task!r} in roles/{phase.role}/tasks"
    )


def test_phase_names_are_unique_per_playbook() -> None:
    for playbook, phases in PLAYBOOKS.items():
        names = [p.name for p in phases]
        assert len(names) == len(set(names)), playbook
