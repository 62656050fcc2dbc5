"""The host's release layout (plugins/module_utils/_layout.py), on real files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils import _layout
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import (
    Layout,
    last_events,
)


def test_every_name_under_the_root(tmp_path: Path) -> None:
    layout = Layout(str(tmp_path))
    assert layout.lock == str(tmp_path / "lock")
    assert layout.current_link == str(tmp_path / "current")
    assert layout.releases == str(tmp_path / "releases")
    assert layout.release_dir("c0ffee2") == str(tmp_path / "releases" / "c0ffee2")
    assert layout.manifest("c0ffee2") == str(tmp_path / "releases" / "c0ffee2" / "release.json")
    assert layout.history == str(tmp_path / "history.jsonl")
    assert layout.proxy == str(tmp_path / "proxy")
    assert layout.proxy_state == str(tmp_path / "proxy" / "state.json")
    assert Layout.of_lock(layout.lock) == layout


def test_nothing_deployed_reads_as_empty(tmp_path: Path) -> None:
    layout = Layout(str(tmp_path / "never"))
    assert layout.current() == ""
    assert layout.release_names() == []
    assert layout.kept() == []
    assert layout.events() == []
    assert layout.events(5) == []


def test_only_recorded_releases_are_kept(tmp_path: Path) -> None:
    layout = Layout(str(tmp_path))
    for version in ("c0ffee3", "c0ffee1", "c0ffee2"):
        os.makedirs(layout.release_dir(version))
    for version in ("c0ffee3", "c0ffee1"):
        Path(layout.manifest(version)).write_text("{}\n")
    os.makedirs(layout.manifest("c0ffee2"))  # a directory named release.json is no manifest
    assert layout.release_names() == ["c0ffee1", "c0ffee2", "c0ffee3"]
    assert layout.kept() == ["c0ffee1", "c0ffee3"]


def test_current_is_switched_relative_to_the_root_and_only_when_it_points_elsewhere(
    tmp_path: Path,
) -> None:
    layout = Layout(str(tmp_path))
    assert layout.would_switch("a") is True
    assert layout.switch_current("a") is True
    assert os.readlink(layout.current_link) == "releases/a"
    assert layout.current() == "a"
    assert layout.would_switch("a") is False
    assert layout.switch_current("a") is False
    assert layout.would_switch("b") is True
    assert layout.switch_current("b") is True
    assert layout.current() == "b"
    assert sorted(os.listdir(tmp_path)) == ["current"]  # nothing left aside


def test_the_switch_renames_into_place_then_syncs_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename is durable once its directory is synced: the last step is the root's fsync,
    after the rename (a crash leaves the old link or the new one)."""
    steps: list[str] = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src: str, dst: str) -> None:
        steps.append(f"rename {os.path.basename(dst)}")
        real_replace(src, dst)

    def fsync(fd: int) -> None:
        same = os.path.samestat(os.fstat(fd), os.stat(tmp_path))
        steps.append("fsync root" if same else "fsync other")
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    Layout(str(tmp_path)).switch_current("c0ffee2")
    assert steps == ["rename current", "fsync root"]


def test_a_real_directory_at_current_is_not_followed(tmp_path: Path) -> None:
    """os.replace will not put a link over a directory: the switch fails, nothing is lost."""
    layout = Layout(str(tmp_path))
    os.makedirs(layout.current_link)
    assert layout.current() == ""
    with pytest.raises(OSError):
        layout.switch_current("a")
    assert os.path.isdir(layout.current_link)
    assert sorted(os.listdir(tmp_path)) == ["current"]


def test_the_history_is_appended_and_read_back_last_ones_last(tmp_path: Path) -> None:
    layout = Layout(str(tmp_path))
    for n in range(5):
        layout.append({"at": f"2026-12-03T00:00:0{n}Z", "event": "deploy", "version": f"v{n}"})
    assert [e["version"] for e in layout.events()] == ["v0", "v1", "v2", "v3", "v4"]
    assert [e["version"] for e in layout.events(2)] == ["v3", "v4"]
    assert layout.events(0) == []
    assert layout.events(-1) == []
    assert last_events(layout.history, 1) == layout.events(1)
    assert os.stat(layout.history).st_mode & 0o777 == 0o600
    lines = Path(layout.history).read_text().splitlines()
    assert json.loads(lines[-1])["version"] == "v4"


def test_the_names_are_the_ones_the_roles_build(tmp_path: Path) -> None:
    """The roles still name these paths by hand ({{ root }}/lock, /releases, /history.jsonl,
    /proxy): the constants must not drift from them."""
    assert (_layout.LOCK, _layout.CURRENT, _layout.RELEASES) == ("lock", "current", "releases")
    assert (_layout.MANIFEST, _layout.HISTORY) == ("release.json", "history.jsonl")
    assert (_layout.PROXY, _layout.PROXY_STATE) == ("proxy", "state.json")
