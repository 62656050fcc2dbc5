"""The history file of a host (history.jsonl): append-only JSON Lines."""

from __future__ import annotations

import json
import os
import time


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def append_event(path: str, event: dict) -> None:
    """Appends EVENT as one line, synced to disk before returning."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(event, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_events(path: str) -> list[dict]:
    """Every event of the history file, oldest first; an unreadable line is kept as such."""
    events = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        events.append({"event": "unreadable", "line": line[:200]})
    except FileNotFoundError:
        pass
    return events
