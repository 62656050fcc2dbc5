"""Tests of plugins/module_utils/_history.py: history.jsonl survives a torn last line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._history import (
    append_event,
    read_events,
)

DEPLOY = {
    "at": "2026-11-26T17:21:12Z",
    "event": "deploy",
    "version": "c0ffee1",
    "outcome": "success",
}
LATER = {
    "at": "2026-11-26T17:39:48Z",
    "event": "deploy",
    "version": "c0ffee2",
    "outcome": "success",
}


def torn(event: dict) -> str:
    """EVENT's line cut short, as a full disk or a crash mid-write leaves it (no newline)."""
    line = json.dumps(event, sort_keys=True)
    return line[: len(line) // 2]


def test_events_are_appended_and_read_back_in_order(tmp_path: Path) -> None:
    path = str(tmp_path / "history.jsonl")
    append_event(path, DEPLOY)
    append_event(path, LATER)
    assert read_events(path) == [DEPLOY, LATER]
    assert Path(path).read_text().count("\n") == 2


def test_a_new_history_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        append_event(str(tmp_path / "history.jsonl"), DEPLOY)
    finally:
        os.umask(old)
    assert (tmp_path / "history.jsonl").stat().st_mode & 0o777 == 0o600


def test_an_existing_history_readable_by_others_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps(DEPLOY, sort_keys=True) + "\n")
    path.chmod(0o644)
    append_event(str(path), LATER)
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_events(str(path)) == [DEPLOY, LATER]


def test_an_event_appended_after_a_torn_line_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(json.dumps(DEPLOY, sort_keys=True) + "\n" + torn(LATER))
    append_event(str(path), LATER)
    events = read_events(str(path))
    assert events[0] == DEPLOY
    assert events[1]["event"] == "unreadable"
    assert events[1]["line"] == torn(LATER)
    assert events[2] == LATER
    assert len(events) == 3


def test_a_torn_line_of_an_old_writer_does_not_hide_the_event_written_after_it(
    tmp_path: Path,
) -> None:
    # before the fix, an append went right after the torn bytes: both on one line
    path = tmp_path / "history.jsonl"
    path.write_text(torn(DEPLOY) + json.dumps(LATER, sort_keys=True) + "\n")
    events = read_events(str(path))
    assert events == [{"event": "unreadable", "line": torn(DEPLOY)}, LATER]


def test_an_unreadable_line_with_no_event_after_it_stays_one_unreadable_event(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.jsonl"
    nested = '{"at": "x", "event": "deploy", "extra": {"at": "y", "event": "hook"}'
    path.write_text(f"{nested}\nnot json at all\n")
    events = read_events(str(path))
    assert [e["event"] for e in events] == ["unreadable", "unreadable"]
    assert events[0]["line"] == nested


def test_a_missing_file_has_no_events_and_the_first_append_creates_it(tmp_path: Path) -> None:
    path = str(tmp_path / "history.jsonl")
    assert read_events(path) == []
    append_event(path, DEPLOY)
    assert read_events(path) == [DEPLOY]
    assert Path(path).read_text() == json.dumps(DEPLOY, sort_keys=True) + "\n"


def test_the_append_is_synced_and_a_new_file_is_made_durable_in_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        seen.append("dir" if os.path.samestat(os.fstat(fd), os.stat(tmp_path)) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = str(tmp_path / "history.jsonl")
    append_event(path, DEPLOY)
    assert seen == ["file", "dir"], seen
    seen.clear()
    append_event(path, LATER)
    assert seen == ["file"], seen


def test_a_failed_write_leaves_no_half_event_that_joins_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.jsonl"
    append_event(str(path), DEPLOY)
    real_write = os.write
    calls = {"n": 0}

    def short_write(fd: int, data: bytes) -> int:  # the disk fills after a few bytes
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", short_write)
    with pytest.raises(OSError):
        append_event(str(path), LATER)
    monkeypatch.setattr(os, "write", real_write)
    append_event(str(path), LATER)
    events = read_events(str(path))
    assert events[0] == DEPLOY and events[-1] == LATER
    assert [e["event"] for e in events[1:-1]] == ["unreadable"]
