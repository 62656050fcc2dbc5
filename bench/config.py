"""Where things are, and the fixed names the bench relies on."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
TMP = RESULTS / "tmp"  # inventories, timelines, logs (git-ignored)
HARNESS = REPO / "tests" / "harness"
APP_DIR = REPO / "tests" / "sample_app"
SSH_DIR = REPO / ".state" / "ssh"  # the sandbox session's client key and pinned known_hosts
VAULT_PASSWORD_FILE = REPO / "tests" / "vault" / "test-only-password.txt"
SANDBOX_VARS = REPO / "inventories" / "sandbox" / "group_vars"
BIN = Path(sys.executable).parent
PYTHON = sys.executable

# The sandbox session of tests/harness/targets.py (never the `test` session).
SESSION = "sandbox"
CONTAINER_PREFIX = "sfs-sandbox-"
SSH_PORT_BASE = 2200
HTTP_PORT_BASE = 8080

REGISTRY = "registry:5000"
HEALTHY_VERSIONS = ("c0ffee1", "c0ffee2", "c0ffee3")
UNHEALTHY_VERSION = "badbad1"
APP_REPOSITORIES = ("stickforstats/backend", "stickforstats/frontend")

# What the old pipeline slept between `up -d` and its one curl.
OLD_PIPELINE_SLEEP = 30
# Where the old pipeline's files live on a target (its own directory; same project).
OLD_ROOT = "/opt/stickforstats-old"


def _app_vars() -> dict:
    return yaml.safe_load((REPO / "playbooks" / "vars" / "app.yml").read_text())


def _release_defaults() -> dict:
    """Where releases live and the project name: the release role's defaults."""
    return yaml.safe_load((REPO / "roles" / "release" / "defaults" / "main.yml").read_text())


APP_VARS = _app_vars()
RELEASE_DEFAULTS = _release_defaults()
PROJECT = RELEASE_DEFAULTS["release_project_name"]
DEPLOY_ROOT = RELEASE_DEFAULTS["release_root"]


@dataclass(frozen=True)
class Target:
    """Sandbox target N: container sfs-sandbox-N, SSH 127.0.0.1:2200+N, HTTP 8080+N."""

    index: int

    @property
    def name(self) -> str:
        return f"{CONTAINER_PREFIX}{self.index}"

    @property
    def host(self) -> str:
        return f"sandbox-{self.index}"

    @property
    def ssh_port(self) -> int:
        return SSH_PORT_BASE + self.index

    @property
    def http_port(self) -> int:
        return HTTP_PORT_BASE + self.index
