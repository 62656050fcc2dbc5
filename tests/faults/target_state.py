"""What a target serves, as its front door, its records and status.yml tell it."""

from __future__ import annotations

import json
import subprocess
import urllib.error

from ansible_run import ROOT, http, on_target
from runner import Run

V1, V2, V3 = "c0ffee1", "c0ffee2", "c0ffee3"
GOOD = (V1, V2, V3)
UNHEALTHY, CRASH = "badbad1", "dead001"


def answering(target: dict) -> str:
    """The version the front door answers now ('' when none answers 200)."""
    try:
        return str(http(target, "/api/v1/health/").get("version", ""))
    except (OSError, urllib.error.HTTPError, json.JSONDecodeError):
        return ""


def current(target: dict) -> str:
    """The release `current` names ('' when there is no link)."""
    out = subprocess.run(
        ["docker", "exec", target["container"], "readlink", f"{ROOT}/current"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return out.strip().rsplit("/", 1)[-1]


def lock_file(target: dict) -> str:
    """The lock file's content ('' when there is none)."""
    return on_target(target, f"cat {ROOT}/lock 2>/dev/null || true").strip()


def other_good(serving: str) -> str:
    """A good version that is not SERVING: what the next deploy deploys."""
    return next(v for v in GOOD if v != serving)


def status_row(output: str, host: str) -> dict[str, str]:
    """The columns of HOST's row in status.yml's table, by the header's names."""
    lines = [line.strip() for line in output.splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("HOST ") and "SERVING" in line:
            header = line
            starts = [
                n for n, ch in enumerate(header) if ch != " " and (n == 0 or header[n - 1] == " ")
            ]
            # a column name may hold one space ("NEXT ROLLBACK", "WARM UNTIL")
            starts = [n for n in starts if n == 0 or header[n - 2 : n] == "  "]
            names = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
            for row in lines[i + 1 :]:
                if row.split(" ", 1)[0] == host:
                    padded = row.ljust(len(header))
                    values = [
                        padded[a:b].strip()
                        for a, b in zip(starts, [*starts[1:], None], strict=True)
                    ]
                    return dict(zip(names, values, strict=True))
    return {}


def status(target: dict, logs, host: str = "test-1") -> tuple[dict[str, str], Run]:
    """status.yml's row for HOST, and the run."""
    run = Run.start(target["inventory"], "status.yml", logs=logs)
    run.wait(180)
    return status_row(run.output(), host), run
