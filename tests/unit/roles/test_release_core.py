"""The roles' structure (issue 16): includes run one way, and one rollout dict.

- The include graph of the roles (include_role, import_role, meta dependencies)
  has no cycle and runs playbooks -> deploy / rollback / status -> release ->
  health, env_file, compose_images: no role includes one that includes it back.
- The rollout settings become one dict, `release_rollout`, in one place
  (roles/release/vars/main.yml); every compose_rollout task of every role takes
  its rollout options from it, and nothing (playbook, task vars, inventory)
  builds another: a deploy, its automatic rollback, a batched deploy's return
  and rollback.yml hand compose_rollout the same settings.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ROLES_DIR = REPO / "roles"
ROLES = sorted(p.name for p in ROLES_DIR.iterdir() if (p / "tasks").is_dir())
INCLUDE_ACTIONS = {
    "ansible.builtin.include_role",
    "ansible.builtin.import_role",
    "include_role",
    "import_role",
}
ROLLOUT_KEYS = (
    "strategy",
    "rolling",
    "overlap",
    "keep",
    "proxy_service",
    "proxy_dir",
    "start_timeout",
    "drain_timeout",
)
# The settings release_rollout is built from (roles/release/defaults/main.yml).
ROLLOUT_SOURCES = {
    "release_strategy",
    "release_rolling_services",
    "release_overlap_services",
    "release_keep_services",
    "release_proxy_service",
    "release_proxy_dir",
    "release_start_timeout",
    "release_drain_timeout",
}
# Who may include whom: each role's layer; a role includes only roles of a lower layer.
LAYERS = {
    "deploy": 2,
    "rollback": 2,
    "status": 2,
    "release": 1,
    "health": 0,
    "env_file": 0,
    "compose_images": 0,
    "secrets_guard": 0,
}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) or []


def _tasks(node: Any) -> Iterator[dict]:
    """Every task in a list of tasks, blocks included."""
    for item in node if isinstance(node, list) else []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def _yaml_files(*dirs: Path) -> Iterator[Path]:
    for d in dirs:
        yield from sorted(d.rglob("*.yml"))


def _role_tasks(role: str) -> Iterator[dict]:
    for path in _yaml_files(ROLES_DIR / role / "tasks"):
        yield from _tasks(_load(path))


def _included_roles(task: dict) -> list[str]:
    return [
        str(args["name"]).rsplit(".", 1)[-1]
        for action, args in task.items()
        if action in INCLUDE_ACTIONS and isinstance(args, dict) and "name" in args
    ]


@functools.cache
def include_graph() -> dict[str, frozenset[str]]:
    """Role -> the roles it includes, imports or depends on."""
    graph: dict[str, frozenset[str]] = {}
    for role in ROLES:
        edges = {name for task in _role_tasks(role) for name in _included_roles(task)}
        meta = ROLES_DIR / role / "meta" / "main.yml"
        if meta.exists():
            for dep in (_load(meta) or {}).get("dependencies") or []:
                edges.add(str(dep["role"] if isinstance(dep, dict) else dep).rsplit(".", 1)[-1])
        graph[role] = frozenset(edges)
    return graph


def test_every_role_has_a_layer() -> None:
    assert set(ROLES) == set(LAYERS)


def test_the_include_graph_is_found() -> None:
    graph = include_graph()
    assert "release" in graph["deploy"] and "release" in graph["rollback"]
    assert "health" in graph["release"]


def upward(graph: dict[str, frozenset[str]], role: str) -> list[str]:
    """The roles ROLE includes that are not below it."""
    return sorted(r for r in graph[role] if LAYERS[r] >= LAYERS[role])


def circles(graph: dict[str, frozenset[str]]) -> list[str]:
    """The roles that reach themselves through includes."""

    def reaches(start: str, goal: str, seen: frozenset[str]) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start]
        )

    return [r for r in graph if reaches(r, r, frozenset())]


@pytest.mark.parametrize("role", ROLES)
def test_a_role_includes_only_roles_below_it(role: str) -> None:
    assert not upward(include_graph(), role), "includes run one way, downward"


def test_no_role_includes_one_that_includes_it_back() -> None:
    assert not circles(include_graph())


def test_the_checks_fail_on_a_circle() -> None:
    """Yesterday's shape: deploy included rollback (restore), rollback included deploy (hooks)."""
    graph = dict(include_graph())
    graph["deploy"] = graph["deploy"] | {"rollback"}
    graph["rollback"] = graph["rollback"] | {"deploy"}
    assert upward(graph, "deploy") == ["rollback"]
    assert set(circles(graph)) >= {"deploy", "rollback"}


def test_the_rollout_dict_is_built_once_from_the_release_settings() -> None:
    built = _load(ROLES_DIR / "release" / "vars" / "main.yml")["release_rollout"]
    assert tuple(built) == ROLLOUT_KEYS
    sources = {str(v).strip("{} ") for v in built.values()}
    assert sources == ROLLOUT_SOURCES


def _compose_rollout_tasks() -> Iterator[tuple[str, dict]]:
    for role in ROLES:
        for task in _role_tasks(role):
            args = task.get("stickforstats.deploy.compose_rollout")
            if isinstance(args, dict):
                yield role, args


def test_every_rollout_takes_its_settings_from_the_one_dict() -> None:
    found = list(_compose_rollout_tasks())
    assert len(found) >= 2  # the switch, and the data services' check
    for role, args in found:
        for key in ROLLOUT_KEYS:
            if key in args:
                assert args[key] == f"{{{{ release_rollout.{key} }}}}", (role, key, args[key])


def _set_names(node: Any) -> Iterator[str]:
    """Variable names set anywhere in NODE: task and block vars, role vars, set_fact."""
    for task in _tasks(node):
        for key in ("vars", "ansible.builtin.set_fact", "set_fact"):
            if isinstance(task.get(key), dict):
                yield from task[key]
        for role in task.get("roles") or []:
            if isinstance(role, dict):
                yield from role.get("vars") or {}
        yield from (task.get("vars") or {}) if "hosts" in task else ()


def test_nothing_else_sets_the_rollout_or_its_settings() -> None:
    """Only the inventories and playbooks/vars/app.yml (the one configuration layer)
    give the settings values; no playbook, task or role var passes them on."""
    places = [
        *_yaml_files(REPO / "playbooks"),
        *(p for r in ROLES for p in _yaml_files(ROLES_DIR / r / "tasks")),
        *(ROLES_DIR / r / "vars" / "main.yml" for r in ROLES if r != "release"),
    ]
    offenders = []
    for path in places:
        if path.name == "app.yml" or not path.exists():
            continue
        data = _load(path)
        names = set(data) if isinstance(data, dict) else set(_set_names(data))
        if isinstance(data, list):
            names |= {n for play in data if isinstance(play, dict) for n in _set_names([play])}
        offenders += [
            f"{path.relative_to(REPO)}: {n}"
            for n in names & (ROLLOUT_SOURCES | {"release_rollout"})
        ]
    assert not offenders


def test_deploy_rollback_and_status_share_the_release_settings() -> None:
    for role in ("deploy", "rollback", "status"):
        deps = (_load(ROLES_DIR / role / "meta" / "main.yml") or {}).get("dependencies") or []
        assert [d["role"] if isinstance(d, dict) else d for d in deps] == ["release"], role


def _check_renamed(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f"    - ansible.builtin.include_tasks: {REPO / 'playbooks' / 'tasks' / 'renamed_settings.yml'}\n"
    )
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
         str(play), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_renamed_setting_is_refused_naming_the_new_name(tmp_path: Path) -> None:
    run = _check_renamed(
        tmp_path, "-e", "stickforstats_deploy_strategy=recreate", "-e", "deploy_lock_wait=9"
    )
    assert run.returncode == 2, run.stdout
    assert (
        "stickforstats_deploy_strategy is now release_strategy; deploy_lock_wait is now release_lock_wait."
    ) in run.stdout
    assert _check_renamed(tmp_path).returncode == 0
