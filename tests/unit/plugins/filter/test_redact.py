from __future__ import annotations

import pytest
from ansible_collections.stickforstats.deploy.plugins.filter.redact import MASK, redact


@pytest.mark.parametrize(
    "text,secrets,expected",
    [
        ("pw is s3cr#t ok", ["s3cr#t"], f"pw is {MASK} ok"),
        ("url redis://:s3cr%23t@redis", ["s3cr#t"], f"url redis://:{MASK}@redis"),
        ('json "a\\\\b-secret"', ["a\\b-secret"], f'json "{MASK}"'),
        ("nothing here", ["s3cr#t"], "nothing here"),
        ("abc abc", ["abc"], "abc abc"),
        ("two: aaaa and bbbb", ["aaaa", "bbbb", None, ""], f"two: {MASK} and {MASK}"),
        ("overlap longsecret", ["long", "longsecret"], f"overlap {MASK}"),
    ],
)
def test_redact(text, secrets, expected):
    assert redact(text, secrets) == expected
