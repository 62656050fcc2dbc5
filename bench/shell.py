"""Running commands, timing them, and telling the operator how far the bench is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One progress line on stderr, with the time since the bench started."""
    elapsed = int(time.monotonic() - _STARTED)
    print(f"[bench {elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def elapsed_total() -> float:
    return time.monotonic() - _STARTED


@dataclass
class Completed:
    rc: int
    started: float  # epoch s
    ended: float
    stdout: str
    stderr: str

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def run(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 900,
    log: Path | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> Completed:
    """Runs ARGS, captures its output (appended to LOG when given), times it (epoch s).

    Never raises on a non-zero exit; a timeout counts as exit code 124.
    """
    full_env = {**os.environ, **(env or {})}
    started = time.time()
    try:
        proc = subprocess.run(
            args, cwd=cwd, env=full_env, input=stdin, text=True, capture_output=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc = 124
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")) + (
            f"\nbench: timed out after {timeout:.0f} s"
        )
    ended = time.time()
    if log is not None:  # 0600: a log should hold no secret, but is kept private anyway
        log.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out_file:
            out_file.write(f"=== {' '.join(args)} -> {rc} in {ended - started:.1f} s\n")
            out_file.write(out + err + "\n")
    return Completed(rc, started, ended, out, err)


def check(args: list[str], what: str, **kw) -> Completed:
    """run(), raising with the tail of stderr when the command fails."""
    done = run(args, **kw)
    if done.rc != 0:
        raise RuntimeError(f"{what} failed ({done.rc}): {done.stderr[-1500:]}")
    return done


def docker_exec(container: str, script: str, *, stdin: str | None = None, timeout: float = 300):
    """`sh -c SCRIPT` inside CONTAINER (a sandbox target); returns Completed."""
    interactive = ["-i"] if stdin is not None else []
    return run(
        ["docker", "exec", *interactive, container, "sh", "-c", script],
        stdin=stdin,
        timeout=timeout,
    )
