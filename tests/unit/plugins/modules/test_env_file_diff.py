"""Env keys a deploy would change, by name (plugins/modules/env_file_diff.py).

It runs on a real target in tests/integration/test_check_mode.py."""

from __future__ import annotations

from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import render
from ansible_collections.stickforstats.deploy.plugins.modules.env_file_diff import (
    compare,
    entries,
)


def test_keys_are_compared_by_their_rendered_value_and_only_names_come_back() -> None:
    old = entries(render({"A": "1", "SECRET": "s3cret", "GONE": "x", "Q": "it's"}))
    new = entries(render({"A": "1", "SECRET": "rotated", "NEW": "y", "Q": "it's"}))
    result = compare(old, new)
    assert result == {"added": ["NEW"], "removed": ["GONE"], "changed": ["SECRET"]}
    assert "s3cret" not in repr(result) and "rotated" not in repr(result)


def test_comments_and_blank_lines_are_not_keys_and_a_value_may_hold_an_equals_sign() -> None:
    text = "# Managed by stickforstats.deploy\n\nURL='a=b'\n"
    assert entries(text) == {"URL": "'a=b'"}
