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


def events(target: dict) -> list[dict]:
    """history.jsonl's events, oldest first; a torn line is skipped."""
    found = []
    for line in on_target(target, f"cat {ROOT}/history.jsonl 2>/dev/null || true").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found


def last_event(target: dict) -> tuple[str, str]:
    """(event, outcome) of the history's last deploy or rollback."""
    for event in reversed(events(target)):
        if event.get("event") in ("deploy", "rollback"):
            return str(event["event"]), str(event.get("outcome", ""))
    return ("", "")


def fresh(target: dict) -> str:
    """A good version neither serving nor the one that served before it: a faulted
    deploy of it leaves the rollback target alone (a rollback walks back along
    what served, never to a release that failed)."""
    served = [
        str(e.get("version"))
        for e in events(target)
        if e.get("event") in ("deploy", "rollback") and e.get("outcome") == "success"
    ]
    serving = answering(target) or (served[-1] if served else "")
    before = next((v for v in reversed(served) if v != serving), "")
    return next(v for v in GOOD if v not in (serving, before))


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
