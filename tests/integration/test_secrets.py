"""No vaulted secret reaches the most verbose output of a run, nor a command
line on the host, a file on the host that others can read, or a file left on
the controller.

Every sandbox secret starts with the marker `SFSsecret`, so one search finds
any leak of any of them, whole or in part, quoted, escaped or url-encoded.
The last test turns no_log off to show that the search does find a leak.

Known and documented (README): Docker keeps the environment of a container in
its config, readable by root (`docker inspect`); that is where the app gets
its secrets, and it is not searched here.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_run import REPO, VAULT_PASSWORD_FILE, deploy, on_target, playbook, serving

pytestmark = pytest.mark.docker
MARKER = "SFSsecret"


def vault_values() -> dict[str, str]:
    lib = VaultLib([("default", VaultSecret(VAULT_PASSWORD_FILE.read_bytes().strip()))])
    path = REPO / "inventories" / "sandbox" / "group_vars" / "all" / "vault.yml"
    return yaml.safe_load(lib.decrypt(path.read_bytes()))


def leaks(text: str) -> list[str]:
    found = []
    for name, value in vault_values().items():
        assert value.startswith(MARKER), f"{name} must carry the marker"
        forms = {value, quote(value, safe=""), value.encode("unicode_escape").decode()}
        if any(form in text for form in forms):
            found.append(name)
    if MARKER in text and not found:
        found.append(f"a fragment carrying {MARKER}")
    return found


@pytest.mark.parametrize(
    "path,args",
    [
        ("molecule/env_file/converge.yml", []),
        ("deploy.yml", ["-e", "app_version=c0ffee1"]),
    ],
    ids=["env_file-converge", "deploy"],
)
def test_no_secret_in_most_verbose_output(ssh_target, path, args):
    run = playbook(ssh_target["inventory"], path, *args, "-vvvv", "--diff")
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert leaks(output) == []


# Runs in the target: every distinct command line seen while it runs (sampled
# every 20 ms from /proc), written to a root-only file when the stop file
# appears; bounded to 15 minutes.
SAMPLER = """
import glob, os, time
seen = set()
deadline = time.monotonic() + 900
while not os.path.exists("/root/cmdlines.stop") and time.monotonic() < deadline:
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                seen.add(f.read().replace(b"\\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    time.sleep(0.02)
with open("/root/cmdlines.txt", "w") as f:
    f.write("\\n".join(sorted(seen)))
"""


def controller_files_since(started: float) -> list[Path]:
    """Files written on the controller since STARTED where Ansible or a test could leave
    them: this repo (not the venv or caches), ~/.ansible, the temp directory."""
    skip = {".git", ".venv", ".cache", "__pycache__", ".hypothesis", ".ruff_cache"}
    roots = [REPO, Path.home() / ".ansible", Path(tempfile.gettempdir())]
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in skip]
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if path.is_file() and st.st_mtime >= started and st.st_size < 20_000_000:
                    found.append(path)
    return found


def holds_marker(path: Path) -> bool:
    try:
        return MARKER.encode() in path.read_bytes()
    except OSError:  # gone since it was listed (another process's temp file)
        return False


def test_no_secret_on_host_command_lines_or_readable_files_or_left_on_the_controller(ssh_target):
    """A deploy, a failed deploy (automatic rollback) and a rollback, most verbose, while
    the host's command lines are sampled; then the host's files that an unprivileged
    user can read, and the controller's new files, are searched."""
    started = time.time() - 1
    container = ssh_target["container"]
    on_target(ssh_target, "rm -f /root/cmdlines.stop /root/cmdlines.txt")
    subprocess.run(["docker", "exec", "-d", container, "python3", "-c", SAMPLER], check=True)
    try:
        runs = [
            deploy(ssh_target, "c0ffee2", "-vvvv", "--diff"),
            deploy(ssh_target, "badbad1", "-vvvv", "--diff", "-e", "health_deadline=20"),
            playbook(ssh_target["inventory"], "rollback.yml", "-vvvv", "--diff"),
        ]
    finally:
        on_target(ssh_target, "touch /root/cmdlines.stop")
    outputs = [run.stdout + run.stderr for run in runs]
    assert [run.returncode for run in runs] == [0, 2, 0], [o[-3000:] for o in outputs]
    assert "Rolled back" in outputs[1], outputs[1][-3000:]
    for output in outputs:
        assert leaks(output) == []

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cmdlines = on_target(ssh_target, "cat /root/cmdlines.txt 2>/dev/null || true")
        if cmdlines:
            break
        time.sleep(0.5)
    assert "compose" in cmdlines, "the sampler did not see the deploy's Compose commands"
    assert len(cmdlines.splitlines()) > 20, "the sampler saw too little to mean anything"
    assert leaks(cmdlines) == []

    # A control file that any user may read proves the search itself works.
    on_target(
        ssh_target,
        "echo SFScontrol > /opt/sfs-readable-control && chmod 644 /opt/sfs-readable-control",
    )
    try:
        readable = on_target(
            ssh_target,
            "setpriv --reuid=65534 --regid=65534 --clear-groups -- grep -rla -e SFSsecret"
            " -e SFScontrol --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev /"
            " 2>/dev/null || true",
        ).split()
    finally:
        on_target(ssh_target, "rm -f /opt/sfs-readable-control")
    assert readable == ["/opt/sfs-readable-control"], "files others can read hold a secret"

    leaking = [str(path) for path in controller_files_since(started) if holds_marker(path)]
    assert leaking == [], "files left on the controller hold a secret"
    assert serving(ssh_target) != "badbad1"


def test_search_finds_a_leak_when_no_log_is_off(ssh_target):
    run = playbook(
        ssh_target["inventory"], "molecule/env_file/converge.yml",
        "-e", "env_file_no_log=false", "-e", "env_file_test_dir=/opt/sfs-leak-demo", "-vvv",
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "vault_django_secret_key" in leaks(run.stdout + run.stderr)
