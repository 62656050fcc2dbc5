"""A description of the machine and the software a bench run measured on."""

from __future__ import annotations

import configparser
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import yaml

from bench.config import REPO, SANDBOX_VARS
from bench.shell import run


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line.split("=", 1)[1]
    except OSError:
        pass
    return "unknown"


def git_commit(repo: Path = REPO) -> str:
    """HEAD's commit, read from .git without running git (a branch ref, packed or loose)."""
    git = repo / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        loose = git / ref
        if loose.exists():
            return loose.read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return "unknown"


def _out(args: list[str]) -> str:
    done = run(args, timeout=30)
    return done.stdout.strip() if done.rc == 0 else "unknown"


def _strategy() -> str:
    """The strategy ansible.cfg sets (ANSIBLE_STRATEGY wins when set)."""
    if os.environ.get("ANSIBLE_STRATEGY"):
        return os.environ["ANSIBLE_STRATEGY"]
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "ansible.cfg")
    return cfg.get("defaults", "strategy", fallback="linear")


def deploy_strategy(path: Path = SANDBOX_VARS / "all" / "main.yml") -> dict[str, str | int]:
    """The deploy strategy of the bench's deploys and its warm window: the sandbox
    inventory's release_strategy and deploy_warm_window (the bench's
    inventories link its group_vars). `not set` when missing."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        data = {}
    return {
        "deploy_strategy": str(data.get("release_strategy", "not set")),
        "warm_window_s": data.get("deploy_warm_window", "not set"),
    }


def describe(target_container: str | None = None) -> dict[str, str | int]:
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    info: dict[str, str | int] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_model": _first("/proc/cpuinfo", "model name"),
        "cpu_count": os.cpu_count() or 0,
        "ram_gib": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb.isdigit() else "unknown",
        "os": _first("/etc/os-release", "PRETTY_NAME=").strip('"'),
        "kernel": platform.release(),
        "docker_engine": _out(["docker", "version", "--format", "{{.Server.Version}}"]),
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    info["ansible_core"] = _out(
        [str(Path(sys.executable).parent / "python"), "-c",
         "import ansible.release as r; print(r.__version__)"]
    )  # fmt: skip
    info["ansible_strategy"] = _strategy()
    info.update(deploy_strategy())
    info["mitogen"] = _out(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('mitogen'))"]
    ).replace("unknown", "not installed")
    if target_container:
        info["target_engine"] = _out(
            ["docker", "exec", target_container, "docker", "version", "--format",
             "{{.Server.Version}}"]
        )  # fmt: skip
        info["target_compose"] = _out(
            ["docker", "exec", target_container, "docker", "compose", "version", "--short"]
        )
    others = _out(["docker", "ps", "--format", "{{.Names}}"]).split()
    info["other_containers"] = " ".join(sorted(n for n in others if n.startswith("sfs-test-")))
    return info
