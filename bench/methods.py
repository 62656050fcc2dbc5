"""The commands the bench times: ours (ansible-playbook), the old pipeline, the floor.

Each runner returns a `Run`: the command's exit code and times, plus what it says
about itself (phases from the bench_timeline callback or from the scripts' PHASE
stamps). Output goes to a log under bench/results/tmp/logs/, never to the console:
our playbooks hide secrets (no_log), and the scripts print no values.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import timeline
from bench.config import (
    APP_DIR,
    BENCH,
    BIN,
    DEPLOY_ROOT,
    OLD_ROOT,
    PROJECT,
    REGISTRY,
    REPO,
    SSH_DIR,
    TMP,
    VAULT_PASSWORD_FILE,
    Target,
)
from bench.shell import Completed, run

LOGS = TMP / "logs"
TIMELINES = TMP / "timelines"
_COUNTER = itertools.count(1)

# Ansible settings compared in the overhead measure (environment overrides of ansible.cfg).
# ansible.cfg's strategy `mitogen_or_linear` runs through Mitogen when it is installed: one
# connection and one Python per host, where pipelining and ControlPersist do not apply;
# the `linear` rows are plain Ansible, where they do.
NO_REUSE = "-o ControlMaster=no -o ServerAliveInterval=15"
ANSIBLE_SETTINGS: dict[str, dict[str, str]] = {
    "ansible.cfg": {},
    "linear, pipelining+reuse": {"ANSIBLE_STRATEGY": "linear"},
    "linear, no pipelining": {"ANSIBLE_STRATEGY": "linear", "ANSIBLE_PIPELINING": "False"},
    "linear, no connection reuse": {"ANSIBLE_STRATEGY": "linear", "ANSIBLE_SSH_ARGS": NO_REUSE},
    "linear, neither": {
        "ANSIBLE_STRATEGY": "linear",
        "ANSIBLE_PIPELINING": "False",
        "ANSIBLE_SSH_ARGS": NO_REUSE,
    },
}


@dataclass
class Run:
    """One timed command."""

    done: Completed
    phases: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, int] | None = None
    events: list[dict] = field(default_factory=list)
    log: str = ""
    output: str = ""  # stdout, for checks by the caller (no secrets: see module doc)


def _name(label: str) -> str:
    return f"{next(_COUNTER):03d}-{label}"


def ansible(
    playbook: str, inventory: Path, args: list[str], label: str, settings: dict[str, str] | None
) -> Run:
    """ansible-playbook PLAYBOOK from the repo root (ansible.cfg applies), with the test
    vault password, the bench_timeline callback, and a fresh SSH control directory (as
    on a fresh CI runner: a master left by an earlier run is not reused)."""
    name = _name(label)
    events_path = TIMELINES / f"{name}.jsonl"
    events_path.parent.mkdir(parents=True, exist_ok=True)
    events_path.unlink(missing_ok=True)
    control_dir = tempfile.mkdtemp(prefix="sfs-bench-cp-")
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": str(BENCH / "callback_plugins"),
        "SFS_BENCH_TIMELINE": str(events_path),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir,
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        **(settings or {}),
    }
    log = LOGS / f"{name}.log"
    done = run(
        [str(BIN / "ansible-playbook"), playbook, "-i", str(inventory), *args,
         "--vault-password-file", str(VAULT_PASSWORD_FILE)],
        env=env, cwd=REPO, log=log, timeout=1200,
    )  # fmt: skip
    events = timeline.load(events_path)
    phases = timeline.phases(events, done.ended)
    first = next((e["t"] for e in events if e["event"] == "task_start"), done.ended)
    phases = {"start-up": round(first - done.started, 3), **phases}
    return Run(done, phases, timeline.tasks_run(events), events, str(log), done.stdout)


def ours_deploy(inventory: Path, version: str, settings: dict[str, str] | None = None) -> Run:
    return ansible("deploy.yml", inventory, ["-e", f"app_version={version}"], "deploy", settings)


def ours_rollback(inventory: Path, to: str | None = None) -> Run:
    args = ["-e", f"rollback_to={to}"] if to else []
    return ansible("rollback.yml", inventory, args, "rollback", None)


def _ssh_env(target: Target) -> dict[str, str]:
    return {
        "HOST": "127.0.0.1",
        "SSH_PORT": str(target.ssh_port),
        "SSH_KEY": str(SSH_DIR / "id_ed25519"),
        "KNOWN_HOSTS": str(SSH_DIR / "known_hosts"),
        "PROJECT": PROJECT,
    }


def _script(script: str, args: list[str], env: dict[str, str], label: str) -> Run:
    log = LOGS / f"{_name(label)}.log"
    done = run(["bash", str(BENCH / script), *args], env=env, log=log, timeout=600)
    return Run(done, timeline.stamped_phases(done.stdout, done.ended), log=str(log),
               output=done.stdout)  # fmt: skip


def old_deploy(target: Target, version: str, env_lines: dict[str, Path], sleep: int) -> Run:
    env = {
        **_ssh_env(target),
        "APP_DIR": str(APP_DIR),
        "REGISTRY": REGISTRY,
        "DEST": OLD_ROOT,
        "ENV_PROD_LINES": str(env_lines[".env.prod"]),
        "ENV_LINES": str(env_lines[".env"]),
        "SLEEP": str(sleep),
    }
    return _script("old_pipeline.sh", ["deploy", version], env, "old")


def old_rollback(target: Target, from_version: str, to_version: str) -> Run:
    env = {**_ssh_env(target), "DEST": OLD_ROOT}
    return _script("old_rollback.sh", [from_version, to_version], env, "old-rollback")


def floor_deploy(target: Target, version: str) -> Run:
    env = {**_ssh_env(target), "DEPLOY_ROOT": DEPLOY_ROOT}
    return _script("floor.sh", [version], env, "floor")
