"""Tests of plugins/module_utils/_durable.py: files and links replaced atomically,
then the directory synced, so that the rename itself survives a power cut."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils import _durable
from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import (
    fsync_directory,
    replace_symlink,
    write_atomically,
)


class Syncs:
    """Records, in order, the renames and the fsyncs (file or directory) that happen."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str]] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            mode = os.fstat(fd).st_mode
            kind = "dir" if stat.S_ISDIR(mode) else "file"
            self.calls.append(("fsync", f"{kind}:{os.readlink(f'/proc/self/fd/{fd}')}"))
            real_fsync(fd)

        def replace(src: str, dst: str) -> None:
            real_replace(src, dst)
            self.calls.append(("rename", str(dst)))

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)

    def after_rename(self, dst: Path) -> list[tuple[str, str]]:
        index = self.calls.index(("rename", str(dst)))
        return self.calls[index + 1 :]


def test_a_written_file_is_synced_then_renamed_then_its_directory_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs = Syncs(monkeypatch)
    path = tmp_path / "release.json"
    write_atomically(str(path), '{"version": "c0ffee2"}\n')
    assert path.read_text() == '{"version": "c0ffee2"}\n'
    before = syncs.calls[: syncs.calls.index(("rename", str(path)))]
    assert [c for c in before if c[1].startswith("file:")], syncs.calls  # content synced first
    assert ("fsync", f"dir:{tmp_path}") in syncs.after_rename(path), syncs.calls


def test_a_switched_link_has_its_directory_synced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs = Syncs(monkeypatch)
    link = tmp_path / "current"
    assert replace_symlink(str(link), "releases/a") is True
    assert os.readlink(link) == "releases/a"
    assert ("fsync", f"dir:{tmp_path}") in syncs.after_rename(link), syncs.calls


def test_a_link_already_pointing_there_is_left_alone(tmp_path: Path) -> None:
    link = str(tmp_path / "current")
    assert replace_symlink(link, "releases/a") is True
    assert replace_symlink(link, "releases/a") is False
    assert replace_symlink(link, "releases/b") is True
    assert os.readlink(link) == "releases/b"
    assert sorted(os.listdir(tmp_path)) == ["current"]


def test_a_stale_temporary_link_of_an_earlier_crash_does_not_block_the_switch(
    tmp_path: Path,
) -> None:
    link = tmp_path / "current"
    os.symlink("releases/a", link)
    for leftover in (f"current.new.{os.getpid()}", f".current.new.{os.getpid()}"):
        os.symlink("releases/old", tmp_path / leftover)
    assert replace_symlink(str(link), "releases/b") is True
    assert os.readlink(link) == "releases/b"


def test_a_crash_between_the_write_and_the_rename_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "release.json"
    path.write_text("old\n")

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_atomically(str(path), "new\n" * 1000)
    assert path.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["release.json"]  # no temporary file left


def test_a_crash_before_the_link_is_renamed_leaves_the_old_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "current"
    os.symlink("releases/a", link)
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(5, "EIO")))
    with pytest.raises(OSError):
        replace_symlink(str(link), "releases/b")
    assert os.readlink(link) == "releases/a"
    assert sorted(os.listdir(tmp_path)) == ["current"]


def test_the_file_gets_its_mode_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomically(str(tmp_path / "a"), "x", mode=0o644)
        write_atomically(str(tmp_path / "b"), b"y", mode=0o600)
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "b").read_bytes() == b"y"


def test_a_file_is_owner_only_unless_a_mode_is_given(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_atomically(str(tmp_path / "a"), "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o600


def test_fsync_directory_syncs_a_descriptor_of_the_directory_and_closes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[int] = []
    real_open = os.open

    def spy_open(path: str, flags: int, *args: int) -> int:
        fd = real_open(path, flags, *args)
        opened.append(fd)
        return fd

    synced: list[int] = []
    monkeypatch.setattr(_durable.os, "open", spy_open)
    monkeypatch.setattr(_durable.os, "fsync", lambda fd: synced.append(fd))
    fsync_directory(str(tmp_path))
    assert synced == opened and len(opened) == 1
    with pytest.raises(OSError):
        os.fstat(opened[0])  # closed
