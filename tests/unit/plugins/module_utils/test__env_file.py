"""Unit tests of the env-file quoting and checks (the real Compose round trip
is tests/integration/test_env_file_roundtrip.py)."""

from __future__ import annotations

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import (
    EnvFileError,
    problems,
    quote,
    render,
)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("plain", "'plain'"),
        ("a # b", "'a # b'"),
        ("  spaced  ", "'  spaced  '"),
        ("$HOME ${X}", "'$HOME ${X}'"),
        ('say "hi"', "'say \"hi\"'"),
        ("back\\slash", "'back\\slash'"),
        ("ünï ✓", "'ünï ✓'"),
        ("it's", '"it\'s"'),
        ("it's $HOME", '"it\'s \\$HOME"'),
        ('it\'s "q"', '"it\'s \\"q\\""'),
        ("it's \\", '"it\'s \\\\"'),
        ("ends with \\", '"ends with \\\\"'),
        ("", "''"),
        (True, "'True'"),
        (False, "'False'"),
        (587, "'587'"),
        (None, "''"),
    ],
)
def test_quote(value, expected):
    assert quote(value, "K") == expected


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b", "trailing\n"])
def test_unsafe_values_are_refused_naming_the_key_only(bad):
    with pytest.raises(EnvFileError) as excinfo:
        quote(bad, "SECRET_KEY")
    assert "'SECRET_KEY'" in str(excinfo.value)
    assert bad.strip() not in str(excinfo.value)


def test_render_keeps_order_and_has_a_header():
    text = render({"B": "2", "A": "1"})
    lines = text.splitlines()
    assert lines[0].startswith("# Managed by")
    assert lines[1:] == ["B='2'", "A='1'"]
    assert text.endswith("\n")


def test_problems_lists_every_missing_key_by_name_never_by_value():
    files = [
        {
            "name": ".env.prod",
            "entries": {"SECRET_KEY": "", "DEBUG": "False", "EMAIL": None, "X": "  "},
        },
        {"name": ".env", "entries": {"DB_PASSWORD": "hunter2", "REDIS": ""}, "optional": ["REDIS"]},
    ]
    found = problems(files)
    assert found == ["env file '.env.prod': missing or empty required keys: SECRET_KEY, EMAIL, X"]
    assert "hunter2" not in " ".join(found)


@pytest.mark.parametrize(
    "spec,fragment",
    [
        ({"name": "/etc/passwd", "entries": {}}, "relative path"),
        ({"name": "../up", "entries": {}}, "relative path"),
        ({"name": "", "entries": {}}, "has no name"),
        ({"name": "e", "entries": ["A"]}, "must be a mapping"),
        (
            {"name": "e", "entries": {"1BAD": "v", "OK": "v", "A-B": "v"}},
            "invalid key names: 1BAD, A-B",
        ),
        ({"name": "e", "entries": {"MULTI": "line1\nline2s3cret"}}, "newline"),
    ],
)
def test_problems_found(spec, fragment):
    found = problems([spec])
    assert any(fragment in p for p in found), found
    assert "s3cret" not in " ".join(found)


def test_a_file_listed_twice_is_a_problem():
    found = problems([{"name": ".env", "entries": {}}, {"name": ".env", "entries": {}}])
    assert found == ["env file '.env': listed twice"]


def test_no_problem_for_a_good_spec():
    assert problems([{"name": ".env", "entries": {"A": "x", "B": "it's"}}]) == []
