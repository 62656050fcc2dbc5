"""The sandbox targets the bench runs on: start, stop, inventories, state on a target.

Only the `sandbox` session of tests/harness/targets.py is used (sfs-sandbox-N,
ports 2200+N and 8080+N). The registry and the network are never removed.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bench.config import (
    APP_DIR,
    APP_REPOSITORIES,
    APP_VARS,
    DEPLOY_ROOT,
    HARNESS,
    OLD_ROOT,
    PROJECT,
    PYTHON,
    REGISTRY,
    SANDBOX_VARS,
    SESSION,
    SSH_DIR,
    TMP,
    Target,
)
from bench.shell import check, docker_exec, run

COUNTER = "sfs-bench-ssh"  # iptables comment of the rule counting new SSH connections

# The collection's own filter tells the rollback target, as rollback.yml does.
COLLECTIONS = str(Path(__file__).resolve().parents[1] / "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
from ansible_collections.stickforstats.deploy.plugins.filter.history import (  # noqa: E402
    rollback_target,
)


def targets_up(count: int) -> list[Target]:
    check([PYTHON, str(HARNESS / "targets.py"), "up", "--session", SESSION, "--targets",
           str(count)], "targets.py up")  # fmt: skip
    return [Target(i) for i in range(1, count + 1)]


def targets_down() -> None:
    check([PYTHON, str(HARNESS / "targets.py"), "down", "--session", SESSION], "targets.py down")


def push_images() -> None:
    check([PYTHON, str(HARNESS / "images.py"), "push"], "images.py push", timeout=1800)


def write_inventory(name: str, targets: Sequence[Target]) -> Path:
    """An inventory of TARGETS, as tests/conftest.py `_inventory()` writes one, for the
    sandbox session's ports and keys, with the sandbox's group_vars (symlinked)."""
    directory = TMP / "inventories" / name
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    hosts = {
        t.host: {
            "ansible_host": "127.0.0.1",
            "ansible_port": t.ssh_port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(SSH_DIR / "id_ed25519"),
            # host key checked against the pinned known_hosts, as in inventories/sandbox
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={SSH_DIR / 'known_hosts'}"
            " -o StrictHostKeyChecking=yes",
            "deploy_app_dir": str(APP_DIR),
        }
        for t in targets
    }
    (directory / "hosts.yml").write_text(
        json.dumps({"stickforstats_servers": {"hosts": hosts}}, indent=2)
    )
    (directory / "group_vars").symlink_to(SANDBOX_VARS)
    return directory


def image_refs(version: str) -> list[str]:
    return [f"{REGISTRY}/{repo}:{version}" for repo in APP_REPOSITORIES]


def remove_app_images(target: Target, version: str) -> None:
    """Removes VERSION's app images from the target (base layers that other images
    share stay), so that the next deploy of VERSION pulls them from the registry."""
    refs = " ".join(image_refs(version))
    done = docker_exec(target.name, f"docker image rm -f {refs} >/dev/null 2>&1; true")
    if done.rc != 0:
        raise RuntimeError(f"removing {version} images on {target.name} failed: {done.stderr}")


def has_images(target: Target, version: str) -> bool:
    refs = " ".join(image_refs(version))
    return docker_exec(target.name, f"docker image inspect {refs} >/dev/null 2>&1").rc == 0


def health(target: Target, timeout: float = 3.0) -> dict | None:
    """The health answer of the target's front door (None when it is not 200)."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{target.http_port}/api/v1/health/", headers={"Host": "localhost"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read()) if resp.status == 200 else None
    except (OSError, ValueError):
        return None


def serving_version(target: Target) -> str | None:
    answer = health(target)
    return answer.get("version") if answer else None


def current_release(target: Target) -> str:
    done = docker_exec(target.name, f"readlink {DEPLOY_ROOT}/current || true")
    return done.stdout.strip().rsplit("/", 1)[-1]


def previous_release(target: Target) -> str:
    """The release rollback.yml goes back to: the rollback_target filter on the host's
    history, what `current` names and the kept releases (roles/rollback/tasks/target.yml)."""
    script = (
        f"cat {DEPLOY_ROOT}/history.jsonl; echo ---;"
        f" ls {DEPLOY_ROOT}/releases/*/release.json 2>/dev/null; true"
    )
    history, _, kept = docker_exec(target.name, script).stdout.partition("---")
    events = []
    for line in history.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            events.append({"event": "unreadable"})
    kept_versions = sorted({line.split("/")[-2] for line in kept.split()})
    return rollback_target(events, current_release(target), kept_versions)


def warm_names(state: str, running: Sequence[str], now: float) -> list[str]:
    """Web containers kept warm (out of the traffic, still running) by the last rolling
    switch, from the STATE file compose_rollout writes: those of its `warm` list that
    are RUNNING and not `active` while its `warm_until` has not passed. [] otherwise."""
    try:
        data = json.loads(state)
    except ValueError:
        return []
    if not isinstance(data, dict) or float(data.get("warm_until") or 0) <= now:
        return []
    active = {name for names in (data.get("active") or {}).values() for name in names}
    return sorted(set(data.get("warm") or []) & set(running) - active)


def warm_containers(target: Target) -> list[str]:
    """The containers a rollback within the warm window switches to (none: not warm)."""
    done = docker_exec(
        target.name,
        f"cat {DEPLOY_ROOT}/proxy/state.json 2>/dev/null; echo; echo ---;"
        " docker ps --format '{{.Names}}'",
    )
    state, _, running = done.stdout.partition("---")
    return warm_names(state.strip(), running.split(), time.time())


def proxy_is_ours(target: Target) -> bool:
    """Whether the proxy container reads the upstream files our rolling deploys write (it
    mounts DEPLOY_ROOT/proxy). One that the old pipeline or the floor created does not:
    its nginx sends to every web container by DNS name, warm and starting ones included."""
    service = APP_VARS["release_proxy_service"]
    done = docker_exec(
        target.name,
        f"docker ps -q --filter label=com.docker.compose.project={PROJECT}"
        f" --filter label=com.docker.compose.service={service}"
        " | xargs -r docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}'",
    )
    return f"{DEPLOY_ROOT}/proxy" in done.stdout.split()


def ensure_ssh_counter(target: Target) -> None:
    """An iptables rule in the target that counts TCP SYNs to sshd: new SSH connections.
    (sshd in the targets logs nowhere, so there is no auth log to count.)"""
    rule = f"INPUT -p tcp --dport 22 --syn -m comment --comment {COUNTER}"
    done = docker_exec(target.name, f"iptables -C {rule} 2>/dev/null || iptables -I {rule}")
    if done.rc != 0:
        raise RuntimeError(f"cannot count SSH connections on {target.name}: {done.stderr}")


def remove_ssh_counter(target: Target) -> None:
    rule = f"INPUT -p tcp --dport 22 --syn -m comment --comment {COUNTER}"
    docker_exec(target.name, f"iptables -D {rule} 2>/dev/null; true")


def ssh_connections(target: Target) -> int:
    """New SSH connections the target has accepted since the counter was installed."""
    done = docker_exec(target.name, f"iptables -L INPUT -v -x -n | grep {COUNTER} || true")
    fields = done.stdout.split()
    return int(fields[0]) if fields and fields[0].isdigit() else 0


def cpu_seconds(target: Target) -> float | None:
    """CPU time the target container (its engine and the app inside) has used, from the
    host's cgroup v1 accounting; None where that is not available (cgroup v2)."""
    done = run(["docker", "inspect", "-f", "{{.Id}}", target.name], timeout=30)
    path = Path("/sys/fs/cgroup/cpuacct/docker") / done.stdout.strip() / "cpuacct.usage"
    try:
        return int(path.read_text()) / 1e9
    except (OSError, ValueError):
        return None


def prepare_old_root(target: Target) -> None:
    """The old pipeline's directory exists on the target (it did on the old servers)."""
    docker_exec(target.name, f"mkdir -p {OLD_ROOT}")
