"""The test network, the local registry and the sandbox target hosts.

  python3 tests/harness/targets.py up [--targets N] [--session S]   network + registry (+ N SSH targets)
  python3 tests/harness/targets.py down [--session S]                 removes what `up` created

Sessions coexist: `sandbox` (make sandbox: targets sfs-sandbox-N,
SSH on 127.0.0.1:2200+N, HTTP on 8080+N, keys in .state/ssh), `test`
(the test suite: sfs-test-N, ports 2300+N and 8180+N, keys in .state/ssh-test),
and `dev-a`, `dev-b`, `dev-c` (more test runs beside it: SFS_TEST_SESSION=dev-a).

Targets are containers that run their own Docker engine and sshd: not
privileged by default (it fails on these machines), with the capabilities
and mounts that work (docker-targets.md); SFS_PRIVILEGED=true switches to
--privileged where that works. Each sandbox target gets host keys made here,
so that the controller pins them in .state/ssh/known_hosts, and listens on
127.0.0.1 (SSH and the app's HTTP front door, ports by session).

`up` records what it created in .state/created-<session>.json; `down` removes
exactly that (containers with their anonymous volumes, the network), never what
was there before; the registry and the network stay while other sessions'
targets use them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

import common
from common import (
    LABEL,
    NETWORK,
    REGISTRY_CONTAINER,
    REGISTRY_PORT,
    STATE,
    docker,
    exists,
    log,
    run,
)

SESSIONS = {
    "sandbox": {"prefix": "sfs-sandbox-", "ssh": 2200, "http": 8080, "keys": "ssh"},
    "test": {"prefix": "sfs-test-", "ssh": 2300, "http": 8180, "keys": "ssh-test"},
    # For a second and third test run beside the first (SFS_TEST_SESSION=dev-a pytest ...).
    "dev-a": {"prefix": "sfs-deva-", "ssh": 2400, "http": 8280, "keys": "ssh-dev-a"},
    "dev-b": {"prefix": "sfs-devb-", "ssh": 2500, "http": 8380, "keys": "ssh-dev-b"},
    "dev-c": {"prefix": "sfs-devc-", "ssh": 2600, "http": 8480, "keys": "ssh-dev-c"},
}
SESSION = SESSIONS["sandbox"]
CREATED = STATE / "created-sandbox.json"
SSH_DIR = STATE / "ssh"


def use_session(name: str) -> None:
    global SESSION, CREATED, SSH_DIR
    SESSION = SESSIONS[name]
    CREATED = STATE / f"created-{name}.json"
    SSH_DIR = STATE / SESSION["keys"]


PRIVILEGED = os.environ.get("SFS_PRIVILEGED", "false").lower() in ("1", "true", "yes")


def target_run_options() -> list[str]:
    """docker run options that give a container a working Docker engine here."""
    if PRIVILEGED:
        return ["--privileged"]
    return [
        "--cap-add", "SYS_ADMIN",
        "--cap-add", "NET_ADMIN",
        "--security-opt", "seccomp=unconfined",
        "--security-opt", "apparmor=unconfined",
    ]  # fmt: skip


def load_created() -> dict[str, list[str]]:
    if CREATED.exists():
        return json.loads(CREATED.read_text())
    return {"containers": [], "networks": []}


def record(kind: str, name: str) -> None:
    created = load_created()
    if name not in created[kind]:
        created[kind].append(name)
    STATE.mkdir(parents=True, exist_ok=True)
    CREATED.write_text(json.dumps(created, indent=2))


def ensure_network() -> None:
    if not exists("network", NETWORK):
        docker("network", "create", "--label", f"{LABEL}=1", NETWORK)
        record("networks", NETWORK)
        log(f"network {NETWORK} created")


def wait_for(what: str, probe, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.3)
    raise SystemExit(f"harness: {what} did not come up within {timeout:.0f} s")


def registry_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{REGISTRY_PORT}/v2/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def ensure_registry() -> None:
    info = common.inspect("container", REGISTRY_CONTAINER)
    if info and not info["State"]["Running"]:
        docker("start", REGISTRY_CONTAINER)
    if not info:
        data = common.CACHE / "registry"  # a cache: blobs survive, so pushes are skipped
        data.mkdir(parents=True, exist_ok=True)
        docker(
            "run", "-d", "--name", REGISTRY_CONTAINER, "--label", f"{LABEL}=1",
            "--network", NETWORK, "--network-alias", "registry",
            "-p", f"127.0.0.1:{REGISTRY_PORT}:5000",
            "-v", f"{data}:/var/lib/registry",
            "stickforstats/registry:latest",
        )  # fmt: skip
        record("containers", REGISTRY_CONTAINER)
        log(f"registry {REGISTRY_CONTAINER} started (registry:5000 inside {NETWORK})")
    wait_for("the registry", registry_answers, 30)


def ssh_keys(names: list[str]) -> None:
    """Client key, per-target host keys, and a known_hosts that pins them."""
    SSH_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(SSH_DIR, 0o700)
    client = SSH_DIR / "id_ed25519"
    if not client.exists():
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "sfs-sandbox-controller",
                "-f",
                str(client),
            ]
        )
    lines = []
    for i, name in enumerate(names, start=1):
        hostdir = SSH_DIR / "hostkeys" / name
        key = hostdir / "ssh_host_ed25519_key"
        if not key.exists():
            hostdir.mkdir(parents=True, exist_ok=True)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)])
        pub = (hostdir / "ssh_host_ed25519_key.pub").read_text().split()
        lines.append(f"[127.0.0.1]:{SESSION['ssh'] + i} {pub[0]} {pub[1]}")
    (SSH_DIR / "known_hosts").write_text("\n".join(lines) + "\n")


def target_ready(name: str) -> bool:
    proc = run(
        ["docker", "exec", name, "docker", "info", "--format", "{{.ServerVersion}}"],
        check=False,
        capture=True,
    )
    return proc.returncode == 0


def host_key_source(info: dict) -> str | None:
    """The host path mounted as the target's public host key, if any."""
    for mount in info.get("Mounts", []):
        if mount.get("Destination") == "/etc/ssh/ssh_host_ed25519_key.pub":
            return mount.get("Source")
    return None


def pins_our_host_key(info: dict, hostdir: Path) -> bool:
    """True when the container serves the host key pinned in our known_hosts.

    A target of the same name made by another checkout (another clone, or
    keys made anew since) serves a key ours does not pin: SSH would refuse it
    as a mismatching host key, so it must not be reused.
    """
    ours = hostdir / "ssh_host_ed25519_key.pub"
    if host_key_source(info) != str(ours):
        return False
    if not info["State"]["Running"]:
        return True
    served = run(
        ["docker", "exec", info["Name"].lstrip("/"), "cat", "/etc/ssh/ssh_host_ed25519_key.pub"],
        check=False,
        capture=True,
    )
    return served.returncode != 0 or served.stdout.split()[:2] == ours.read_text().split()[:2]


def replace_foreign(info: dict, hostdir: Path) -> None:
    """Removes a stopped target that pins other host keys; refuses a running one."""
    name = info["Name"].lstrip("/")
    source = host_key_source(info) or "no host key mount"
    if info["State"]["Running"] and name not in load_created()["containers"]:
        raise SystemExit(
            f"harness: {name} is running with host keys from {source}, not from {hostdir}: "
            "another checkout's test or sandbox session is using it. Let that run end "
            f"(or remove it: docker rm -f -v {name}) and start again."
        )
    docker("rm", "-f", "-v", name)
    log(
        f"removed {name}: its host key ({source}) is not the one pinned in {SSH_DIR / 'known_hosts'}"
    )


def ensure_sandbox(count: int) -> list[str]:
    names = [f"{SESSION['prefix']}{i}" for i in range(1, count + 1)]
    ssh_keys(names)
    pub = (SSH_DIR / "id_ed25519.pub").read_text()
    for i, name in enumerate(names, start=1):
        hostdir = SSH_DIR / "hostkeys" / name
        info = common.inspect("container", name)
        if info and not pins_our_host_key(info, hostdir):
            replace_foreign(info, hostdir)
            info = None
        if info:
            if not info["State"]["Running"]:
                docker("start", name)
            continue
        docker(
            "run", "-d", "--name", name, "--hostname", name, "--label", f"{LABEL}=1",
            *target_run_options(),
            "--network", NETWORK,
            "-p", f"127.0.0.1:{SESSION['ssh'] + i}:22", "-p", f"127.0.0.1:{SESSION['http'] + i}:80",
            "-v", "/var/lib/docker",
            "-v", f"{hostdir / 'ssh_host_ed25519_key'}:/etc/ssh/ssh_host_ed25519_key:ro",
            "-v", f"{hostdir / 'ssh_host_ed25519_key.pub'}:/etc/ssh/ssh_host_ed25519_key.pub:ro",
            "stickforstats/target:latest",
        )  # fmt: skip
        record("containers", name)
        run(
            [
                "docker",
                "exec",
                "-i",
                name,
                "sh",
                "-c",
                "mkdir -p -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys",
            ],
            input=pub,
        )
        log(
            f"target {name} started: ssh 127.0.0.1:{SESSION['ssh'] + i}, http 127.0.0.1:{SESSION['http'] + i}"
        )
    for name in names:
        wait_for(f"the Docker engine in {name}", lambda n=name: target_ready(n), 60)
    return names


def attached(network: str) -> list[str]:
    """Names of the containers on NETWORK."""
    info = common.inspect("network", network) or {}
    return sorted(c["Name"] for c in (info.get("Containers") or {}).values())


def down() -> None:
    created = load_created()
    targets = [n for n in created["containers"] if n != REGISTRY_CONTAINER]
    for name in targets:
        if exists("container", name):
            docker("rm", "-f", "-v", name)
            log(f"removed container {name}")
    # The registry and the network serve every session: they stay while another
    # session's targets use them.
    others = [n for n in attached(NETWORK) if n != REGISTRY_CONTAINER]
    if others and (REGISTRY_CONTAINER in created["containers"] or created["networks"]):
        log(f"left the registry and {NETWORK}: {', '.join(others)} use them")
    else:
        if REGISTRY_CONTAINER in created["containers"] and exists("container", REGISTRY_CONTAINER):
            docker("rm", "-f", "-v", REGISTRY_CONTAINER)
            log(f"removed container {REGISTRY_CONTAINER}")
        for name in created["networks"]:
            if exists("network", name):
                docker("network", "rm", name)
                log(f"removed network {name}")
    CREATED.unlink(missing_ok=True)
    shutil.rmtree(SSH_DIR / "hostkeys", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--targets", type=int, default=0, help="number of SSH targets to start")
    parser.add_argument("--session", choices=sorted(SESSIONS), default="sandbox")
    args = parser.parse_args()
    use_session(args.session)
    if args.action == "down":
        down()
        return 0
    ensure_network()
    ensure_registry()
    if args.targets:
        ensure_sandbox(args.targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
