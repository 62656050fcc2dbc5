"""redact masks a vault value in every form the collection writes it (one case per form),
and long prefixes of each; the forms are spelled out here, not taken from the module."""

from __future__ import annotations

import json
import shlex
from urllib.parse import quote

import pytest
from ansible_collections.stickforstats.deploy.plugins.module_utils._redact import (
    MASK,
    PREFIX_LENGTH,
    redact,
)

# quotes, $, #, backslash, spaces, unicode (in and out of latin-1), a leading -
NASTY = "-n4sty \"dq\" 'sq' $HOME ${X} #h back\\slash ünï € end"


def env_double_quoted(value: str) -> str:
    """The env file's form of a value holding a single quote (module_utils/_env_file)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


FORMS = {
    "raw": NASTY,
    "url-encoded": quote(NASTY, safe=""),
    "urlencode-filter": quote(NASTY, safe="/"),
    "unicode_escape": NASTY.encode("unicode_escape").decode(),
    "json-ascii": json.dumps(NASTY),
    "json-unicode": json.dumps(NASTY, ensure_ascii=False),
    "repr": repr(NASTY),
    "compose-dollar": NASTY.replace("$", "$$"),
    "env-file": f'"{env_double_quoted(NASTY)}"',
    "shlex": shlex.quote(NASTY),
    "json-of-env-file": json.dumps(f'SECRET="{env_double_quoted(NASTY)}"'),
    "json-of-shlex": json.dumps(f"run {shlex.quote(NASTY)}"),
    "repr-of-json": repr(json.dumps(NASTY)),
    "json-of-url": json.dumps(f"redis://:{quote(NASTY, safe='')}@redis"),
}


def test_the_forms_differ_from_the_raw_value():
    """Each case tests something of its own: no form but raw holds the raw value."""
    assert [name for name, form in FORMS.items() if NASTY in form] == ["raw"]


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_is_masked(name):
    text = f"before {FORMS[name]} after"
    masked = redact(text, [NASTY])
    assert masked.startswith("before ") and masked.endswith(" after"), masked
    assert MASK in masked
    assert "n4sty" not in masked, masked


@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_long_prefix_of_every_form_is_masked(name):
    """A value cut short, as a truncated error line leaves it ("...")."""
    form = FORMS[name]
    start = form.index("n4sty") - 1  # the prefix starts where the value does
    cut = form[: start + PREFIX_LENGTH + 3] + "..."
    masked = redact(f"error: {cut}", [NASTY])
    assert "n4sty" not in masked, masked
    assert masked.startswith("error: ") and masked.endswith("..."), masked


def test_a_prefix_shorter_than_the_minimum_is_left():
    short = NASTY[: PREFIX_LENGTH - 1]
    assert redact(f"x {short}|", [NASTY]) == f"x {short}|"


def test_text_around_the_value_is_kept():
    assert redact(f"a{NASTY}b{NASTY}c", [NASTY]) == f"a{MASK}b{MASK}c"


def test_the_longest_match_wins_across_forms():
    """Compose's $$ form holds a prefix of the raw value: the whole $$ form goes."""
    value = "abc$defghijk"
    assert redact("x abc$$defghijk y", [value]) == f"x {MASK} y"


@pytest.mark.parametrize("secrets", [[], None, [None, "", "abc"]])
def test_nothing_to_mask(secrets):
    assert redact("abc nothing", secrets) == "abc nothing"


def test_a_value_with_a_newline_is_masked_though_no_env_file_holds_it():
    assert redact("x line1\nline2 y", ["line1\nline2"]) == f"x {MASK} y"
