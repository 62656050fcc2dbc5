"""No vaulted secret reaches the most verbose output of a run, nor a command
line on the host, a file on the host that others can read, or a file left on
the controller.

Every sandbox secret starts with the marker `SFSsecret`, so one search finds
any leak of any of them, whole or in part, quoted, escaped or url-encoded;
each value is also searched in every form the collection or Compose writes it
(raw, url-encoded, unicode_escape'd, JSON both ways, repr, Compose's $$, the
env file's quoting, shlex.quote'd) and by the first 8 characters of each form
(a value cut short). Searched: the -vvvv --diff output, the history and the
release manifests on the host, every command line on the host and on the
controller (this test's processes) while the runs go, the host's files that
others can read, the files left on the controller; and the sha256 of every
env file, which stays on the host.

Controls, one per guard (unit level where a deploy would be too slow):
  - no_log of the env file tasks: test_search_finds_a_leak_when_no_log_is_off (here);
  - every form redact masks: tests/unit/plugins/module_utils/test__redact.py (one case
    per form, and per form cut short);
  - the search itself finds every form: test_the_search_finds_every_form (here);
  - history and manifests owner only: tests/unit/plugins/module_utils/test__history.py,
    test__durable.py, tests/unit/plugins/modules/test_release_record.py;
  - no env file digest returned: test_release_record.py (for_controller);
  - the scan gate (no_log jobs, redacted scanner output): tests/unit/roles/test_scan_gate_secrets.py;
  - Compose's and the migration's failure messages: test_compose_rollout.py and
    test_compose_oneoff.py (redact option, with a control each);
  - shipped files out of --diff: tests/unit/roles/test_compose_images_ship.py;
  - the test-only vault refused outside the sandbox: tests/unit/test_vault_guard.py.

Known and documented (README): Docker keeps the environment of a container in
its config, readable by root (`docker inspect`); that is where the app gets
its secrets, and it is not searched here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_run import REPO, ROOT, VAULT_PASSWORD_FILE, deploy, on_target, playbook, serving

pytestmark = pytest.mark.docker
MARKER = "SFSsecret"
PREFIX = 8  # a form cut to this many characters or more is a leak
LEAK_HOOK = str(REPO / "tests" / "hooks" / "leak.yml")


def vault_values() -> dict[str, str]:
    lib = VaultLib([("default", VaultSecret(VAULT_PASSWORD_FILE.read_bytes().strip()))])
    path = REPO / "inventories" / "sandbox" / "group_vars" / "all" / "vault.yml"
    return yaml.safe_load(lib.decrypt(path.read_bytes()))


def forms(value: str) -> dict[str, str]:
    """VALUE as the collection or Compose may write it, spelled out here (not redact's)."""
    env = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return {
        "raw": value,
        "url-encoded": quote(value, safe=""),
        "urlencode": quote(value, safe="/"),
        "unicode_escape": value.encode("unicode_escape").decode(),
        "json": json.dumps(value)[1:-1],
        "json-unicode": json.dumps(value, ensure_ascii=False)[1:-1],
        "repr": repr(value)[1:-1],
        "compose-dollars": value.replace("$", "$$"),
        "env-file": env,
        "shlex": shlex.quote(value),
    }


def leaks(text: str) -> list[str]:
    found = []
    for name, value in vault_values().items():
        assert value.startswith(MARKER), f"{name} must carry the marker"
        seen = [kind for kind, form in forms(value).items() if form[:PREFIX] in text]
        if seen:
            found.append(f"{name} ({', '.join(seen)})")
    if MARKER in text and not found:
        found.append(f"a fragment carrying {MARKER}")
    return found


def test_the_search_finds_every_form():
    """Control of the search: each form of each value, cut to PREFIX characters, is found
    (also once the marker is cut off: the forms are searched for themselves)."""
    for name, value in vault_values().items():
        for kind, form in forms(value).items():
            assert leaks(f"x {form[:PREFIX]} y"), (name, kind)
            assert any(name in leak for leak in leaks(f"x {form} y")), (name, kind)


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


class ControllerCommandLines:
    """Every distinct command line of this test's own processes (descendants of it: the
    ansible-playbook runs, their workers, ssh) on the controller, sampled every 50 ms
    while in the with block. Processes of other sessions on this machine are left out."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ControllerCommandLines:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            parents: dict[int, int] = {}
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                    parents[int(stat.parent.name)] = int(fields[1])
                except (OSError, IndexError, ValueError):
                    continue
            for pid in parents:
                ancestor, hops = parents.get(pid), 0
                while ancestor not in (None, 0, 1, me) and hops < 64:
                    ancestor, hops = parents.get(ancestor), hops + 1
                if ancestor != me:
                    continue
                try:
                    raw = (Path("/proc") / str(pid) / "cmdline").read_bytes()
                except OSError:
                    continue
                self.seen.add(raw.replace(b"\0", b" ").decode(errors="replace"))


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
    leak_hook = ["-e", json.dumps({"release_hooks": {"pre_deploy": [LEAK_HOOK]}})]
    try:
        with ControllerCommandLines() as controller:
            runs = [
                deploy(ssh_target, "c0ffee2", "-vvvv", "--diff"),
                deploy(ssh_target, "badbad1", "-vvvv", "--diff", "-e", "health_deadline=20"),
                playbook(ssh_target["inventory"], "rollback.yml", "-vvvv", "--diff"),
                deploy(ssh_target, "c0ffee3", "-vvvv", "--diff", *leak_hook),
            ]
    finally:
        on_target(ssh_target, "touch /root/cmdlines.stop")
    outputs = [run.stdout + run.stderr for run in runs]
    assert [run.returncode for run in runs] == [0, 2, 0, 2], [o[-3000:] for o in outputs]
    assert "Rolled back" in outputs[1], outputs[1][-3000:]
    for output in outputs[:3]:
        assert leaks(output) == []
    # The hook's own failure is printed by Ansible as the hook wrote it; the deploy's
    # failure line, made from it, is searched.
    failure = [line for line in outputs[3].splitlines() if "Deploy of c0ffee3 failed at" in line]
    assert failure and "********" in failure[0], outputs[3][-3000:]
    assert leaks(failure[0]) == [], failure[0]

    # the history (the hook's failure is in it) and the manifests: owner only, no secret
    kept = f"{ROOT}/history.jsonl {ROOT}/releases/*/release.json"
    assert set(on_target(ssh_target, f"stat -c %a {kept}").split()) == {"600"}
    recorded = on_target(ssh_target, f"cat {kept}")
    assert "c0ffee3" in recorded and "********" in recorded, recorded[-2000:]
    assert leaks(recorded) == []

    # the env files' digests stay on the host
    digests = re.findall(
        r"[0-9a-f]{64}", on_target(ssh_target, f"sha256sum {ROOT}/releases/*/.env*")
    )
    assert digests, "no env file found to take the digest of"
    for output in outputs:
        assert [d for d in digests if d in output] == []

    assert any("ansible-playbook" in line for line in controller.seen), "controller not sampled"
    assert leaks("\n".join(controller.seen)) == []

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
    found = leaks(run.stdout + run.stderr)
    assert any(leak.startswith("vault_django_secret_key (raw") for leak in found), found
