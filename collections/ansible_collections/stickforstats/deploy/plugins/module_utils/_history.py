"""The history file of a host (history.jsonl): append-only JSON Lines, owner only.

Mode 0600: a failure's reason quotes an error line (secrets masked, but the
file is no one else's business); an existing file with another mode gets 0600
at the next append."""

from __future__ import annotations

import json
import os
import re
import time

from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import (
    fsync_directory,
)

# Every event is written with sort_keys and an `at` first: where one starts.
EVENT_START = '{"at": '
MODE = 0o600
AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def append_event(path: str, event: dict) -> None:
    """Appends EVENT as one line, synced to disk before returning.

    A last line left torn (no newline: a full disk, a crash mid-write) is ended
    first, so that EVENT is on a line of its own and reads back; the torn line
    reads as an unreadable event. A new file is made durable in its directory."""
    created = not os.path.exists(path)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, MODE)
    try:
        if os.fstat(fd).st_mode & 0o7777 != MODE:
            os.fchmod(fd, MODE)
        size = os.fstat(fd).st_size
        ended = size == 0 or os.pread(fd, 1, size - 1) == b"\n"
        line = ("" if ended else "\n") + json.dumps(event, sort_keys=True) + "\n"
        view = memoryview(line.encode("utf-8"))
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_directory(os.path.dirname(os.path.abspath(path)))


def read_events(path: str) -> list[dict]:
    """Every event of the history file, oldest first; an unreadable line is kept as such.

    A line an older writer appended right after a torn one (both on one line)
    gives the torn part as unreadable, then the event written after it."""
    events: list[dict] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    events.extend(parse_line(line))
    except FileNotFoundError:
        pass
    return events


def parse_line(line: str) -> list[dict]:
    """The event of LINE; else the unreadable part and the whole event that ends it, if any."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if isinstance(event, dict):
        return [event]
    start = line.find(EVENT_START, 1)
    while start > 0:
        try:
            event = json.loads(line[start:])
        except ValueError:
            event = None
        if isinstance(event, dict) and "event" in event and AT.match(str(event.get("at"))):
            return [unreadable(line[:start]), event]
        start = line.find(EVENT_START, start + 1)
    return [unreadable(line)]


def unreadable(text: str) -> dict:
    return {"event": "unreadable", "line": text[:200]}
