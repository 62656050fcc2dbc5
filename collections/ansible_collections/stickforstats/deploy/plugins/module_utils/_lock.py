"""The deploy lock of a host, with a lease its holder renews while it lives.

The lock file (JSON) says who holds it (holder, controller, the controller's
ansible-playbook pid, the run's token), for what and since when, and for how
many seconds each renewal holds (lease). The lease runs from the file's
mtime: a keeper process on the host, started when the lock is taken, touches
the file while the run's SSH connection lives (its sshd session process) and
the file carries the run's token. Every change of the lock file (take,
take over, renew, release) happens under flock on a guard file beside it, so
two runs can never both take it, nor both take over the same dead one.

A lock is dead, and taken over without any flag, when its lease lapsed, or at
once when its controller is the caller's own and its pid runs no
ansible-playbook there any more.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import fsync_directory

# Seconds between two renewals: a sixth of the lease, so that a few missed ones
# (a loaded host) do not let a live lock lapse.
RENEWALS_PER_LEASE = 6

# The keeper: renews the lease while the run's connection lives and the lock is
# the run's; ends at release, at takeover, when the connection ends, or at UNTIL.
KEEPER = r"""# stickforstats lock keeper: LOCK TOKEN LEASE WATCH_PID UNTIL
import fcntl, json, os, sys, time
lock, token, lease, watch, until = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def alive(pid):
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
while time.time() < until:
    time.sleep(max(1.0, lease / RENEWALS_PER_LEASE))
    if not alive(watch):
        sys.exit(0)
    with open(lock + ".guard", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            sys.exit(0)
        try:
            if json.loads(os.read(fd, 1 << 16) or b"{}").get("token") != token:
                sys.exit(0)
            os.utime(fd)
        except ValueError:
            sys.exit(0)
        finally:
            os.close(fd)
""".replace("RENEWALS_PER_LEASE", str(RENEWALS_PER_LEASE))


@dataclass(frozen=True)
class Caller:
    """Who asks for the lock: this run, as the controller tells it."""

    token: str
    controller: str = ""
    pid: int = 0
    # ansible-playbook pids running on the controller now; None: unknown there.
    live_pids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Verdict:
    """What a found lock is to the caller."""

    state: str  # free | mine | live | dead
    why: str = ""


def read(path: str) -> dict | None:
    """The lock as found (None when there is none); an unreadable one says so."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    try:
        lock = json.loads(text)
        if not isinstance(lock, dict):
            raise ValueError("not an object")
    except ValueError:
        lock = {"holder": "unknown (unreadable lock file)", "purpose": "?"}
    with contextlib.suppress(FileNotFoundError):
        lock["renewed_epoch"] = os.stat(path).st_mtime
    return lock


def judge(lock: dict | None, caller: Caller, now: float, legacy_lease: int) -> Verdict:
    """Free, the caller's own, live, or dead (and why), for LOCK as read()."""
    if not lock:
        return Verdict("free")
    if lock.get("token") and lock.get("token") == caller.token:
        return Verdict("mine")
    lease = float(lock.get("lease") or legacy_lease)
    renewed = float(lock.get("renewed_epoch") or lock.get("since_epoch") or now)
    silent = now - renewed
    pid = int(lock.get("pid") or 0)
    if (
        caller.live_pids is not None
        and caller.controller
        and lock.get("controller") == caller.controller
        and pid > 0
        and pid not in caller.live_pids
    ):
        return Verdict(
            "dead", f"its run (ansible-playbook pid {pid} on {caller.controller}) is gone"
        )
    if silent > lease:
        return Verdict(
            "dead", f"its lease was not renewed for {silent:.0f} s (lease {lease:.0f} s)"
        )
    return Verdict("live", f"renewed {max(silent, 0):.0f} s ago, lease {lease:.0f} s")


def describe(lock: dict, now: float) -> str:
    where = ""
    if lock.get("controller"):
        where = f" (ansible-playbook pid {lock.get('pid', '?')} on {lock['controller']})"
    since = lock.get("since_epoch")
    ago = f" ({now - float(since):.0f} s ago)" if since else ""
    return (
        f"held by {lock.get('holder', 'unknown')}{where} for {lock.get('purpose', '?')}"
        f" since {lock.get('since', '?')}{ago}"
    )


@contextlib.contextmanager
def guarded(path: str) -> Iterator[None]:
    """Exclusive access to the lock file PATH for the duration (flock on PATH.guard)."""
    fd = os.open(path + ".guard", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def create(path: str, lock: dict) -> bool:
    """Puts LOCK at PATH whole or not at all (written aside, then linked); False if one is there."""
    aside = f"{path}.{lock['token']}.new"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(lock, handle, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)
    fsync_directory(os.path.dirname(path) or ".")
    return True


def remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fsync_directory(os.path.dirname(path) or ".")


def connection_pid(pid: int | None = None) -> int:
    """The sshd session process this process runs under (0: none, e.g. a local connection).

    It lives as long as the controller's SSH connection to this host.
    """
    pid = pid or os.getpid()
    for _ in range(64):
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            return 0
        # pid (comm) state ppid ...; comm may hold spaces and parentheses
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if comm in ("sshd", "sshd-session"):
            return pid
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid <= 1:
            return 0
        pid = ppid
    return 0


def start_keeper(path: str, token: str, lease: int, until: float) -> int:
    """Starts the detached keeper of this run's lease; returns its pid."""
    script = os.path.join(os.path.dirname(path), "lock-keeper.py")
    aside = f"{script}.{token}.new"
    with open(aside, "w", encoding="utf-8") as handle:
        handle.write(KEEPER)
    os.chmod(aside, 0o700)
    os.replace(aside, script)
    with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:
        proc = subprocess.Popen(
            [sys.executable or "python3", script, path, token, str(lease),
             str(connection_pid()), f"{until:.0f}"],
            stdin=null_in, stdout=null_out, stderr=null_out,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    return proc.pid
