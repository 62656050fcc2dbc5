"""The records against what serves (plugins/module_utils/_truth.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import Layout
from ansible_collections.stickforstats.deploy.plugins.module_utils._truth import (
    reconcile,
    serving_release,
)


def host(tmp_path: Path, current: str, serving: str | None, recorded: tuple[str, ...]) -> Path:
    """A deploy root whose `current` names CURRENT and whose front door sends to SERVING."""
    root = tmp_path / "opt"
    for version in {current, serving, *recorded} - {None, ""}:
        (root / "releases" / version).mkdir(parents=True, exist_ok=True)
    for version in recorded:
        (root / "releases" / version / "release.json").write_text(
            json.dumps({"version": version, "outcome": "success"})
        )
    if current:
        os.symlink(f"releases/{current}", root / "current")
    (root / "proxy").mkdir(parents=True)
    if serving is not None:
        state = {"strategy": "rolling", "release": str(root / "releases" / serving) + "/"}
        (root / "proxy" / "state.json").write_text(json.dumps(state))
    return root


def test_a_killed_switch_is_written_back_and_recorded(tmp_path: Path) -> None:
    root = host(tmp_path, "c0ffee1", "c0ffee3", ("c0ffee1",))
    found = reconcile(str(root), str(root / "proxy/state.json"), "ci", write=True)
    assert (found["from"], found["to"]) == ("c0ffee1", "c0ffee3")
    assert Layout(str(root)).current() == "c0ffee3"
    event = json.loads((root / "history.jsonl").read_text().splitlines()[-1])
    assert event["event"] == "reconcile" and event["outcome"] == "success"
    assert (event["version"], event["previous"]) == ("c0ffee3", "c0ffee1")
    manifest = json.loads((root / "releases/c0ffee3/release.json").read_text())
    assert manifest["outcome"] == "reconciled" and manifest["version"] == "c0ffee3"
    # the second look finds nothing to do
    assert reconcile(str(root), str(root / "proxy/state.json"), "ci", write=True) == {}


def test_records_that_name_what_serves_are_left_alone(tmp_path: Path) -> None:
    root = host(tmp_path, "c0ffee2", "c0ffee2", ("c0ffee2",))
    assert reconcile(str(root), str(root / "proxy/state.json"), "ci", write=True) == {}
    assert not (root / "history.jsonl").exists()


def test_without_writing_the_truth_is_only_told(tmp_path: Path) -> None:
    root = host(tmp_path, "c0ffee1", "c0ffee3", ("c0ffee1",))
    found = reconcile(str(root), str(root / "proxy/state.json"), "ci", write=False)
    assert found["to"] == "c0ffee3"
    assert Layout(str(root)).current() == "c0ffee1"
    assert not (root / "history.jsonl").exists()
    assert not (root / "releases/c0ffee3/release.json").exists()


def test_a_state_that_names_no_release_here_is_not_the_truth(tmp_path: Path) -> None:
    root = host(tmp_path, "c0ffee1", None, ("c0ffee1",))
    state = root / "proxy/state.json"
    assert serving_release(str(root), str(state)) == ""  # no state at all
    for written in (
        "not json",
        json.dumps({"release": "/elsewhere/releases/c0ffee9"}),
        json.dumps({"release": str(root / "releases" / "gone")}),
    ):
        state.write_text(written)
        assert serving_release(str(root), str(state)) == "", written
        assert reconcile(str(root), str(state), "ci", write=True) == {}
    assert Layout(str(root)).current() == "c0ffee1"
