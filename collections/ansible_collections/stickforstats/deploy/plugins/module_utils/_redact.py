"""Secret values masked in text, in every form the collection writes them.

A vault value reaches text (an error line, the history, a module's result)
as itself or as one of the forms the collection or Compose make of it:

  - url-encoded (`DATABASE_URL`: Jinja's `urlencode`, with and without `/`);
  - `unicode_escape`d, JSON-escaped (`json.dumps`, `ensure_ascii` on and off),
    Python `repr` (a result or a message printing a string);
  - Compose's `$$` escape, the env file's own quoted form (module_utils/_env_file);
  - `shlex.quote`d (a command line shown);
  - each of those JSON-escaped or repr'd once more (a message holding the
    form, itself written as JSON: a history line, a module result);
  - a prefix of any of those of at least PREFIX_LENGTH characters: a value
    cut short by a truncated error line (`truncate(500)`, `[:500]`).

Values shorter than MIN_LENGTH are not masked: they would mask ordinary text.
A value cut at its start (a suffix), or a part of it in the middle, is not
recognised below its full form.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote as url_quote

from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import (
    EnvFileError,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import (
    quote as env_quote,
)

MASK = "********"
MIN_LENGTH = 4
# A cut-off value is masked from 8 characters on: fewer say little of a
# secret, and shorter prefixes would mask ordinary words sharing its start.
PREFIX_LENGTH = 8


def _inner(quoted: str) -> str:
    """QUOTED without its enclosing quote characters."""
    return quoted[1:-1]


def base_forms(value: str) -> set[str]:
    """VALUE as written by each encoding the collection or Compose applies to it."""
    forms = {
        value,
        url_quote(value, safe=""),
        url_quote(value),  # Jinja's urlencode keeps "/"
        value.encode("unicode_escape").decode("ascii"),
        _inner(json.dumps(value)),
        _inner(json.dumps(value, ensure_ascii=False)),
        _inner(repr(value)),
        value.replace("$", "$$"),
        shlex.quote(value),
    }
    try:
        forms.add(_inner(env_quote(value)))
    except EnvFileError:  # a newline: no env file holds it, nothing to mask
        pass
    return forms


def forms(value: str) -> set[str]:
    """Every form of VALUE to mask: the base forms, each also JSON-escaped or repr'd."""
    found = base_forms(value)
    for form in list(found):
        found |= {
            _inner(json.dumps(form)),
            _inner(json.dumps(form, ensure_ascii=False)),
            _inner(repr(form)),
        }
    return {form for form in found if form}


def redact(text: Any, secrets: Iterable[Any] | None) -> str:
    """TEXT with every form of every secret, and every long prefix of one, masked."""
    result = str(text)
    candidates: set[str] = set()
    for secret in secrets or []:
        value = str(secret if secret is not None else "")
        if len(value) >= MIN_LENGTH:
            candidates |= forms(value)
    if not candidates:
        return result
    heads = sorted({form[:PREFIX_LENGTH] for form in candidates}, key=len, reverse=True)
    # every position where a form (or a long prefix of one) may start
    starts = re.compile("(?=(?:" + "|".join(re.escape(head) for head in heads) + "))")
    out: list[str] = []
    done = 0
    for match in starts.finditer(result):
        start = match.start()
        if start < done:
            continue
        length = max(_matched(result, start, form) for form in candidates)
        if length:
            out += [result[done:start], MASK]
            done = start + length
    out.append(result[done:])
    return "".join(out)


def _matched(text: str, start: int, form: str) -> int:
    """How long a match of FORM (whole, or a prefix of PREFIX_LENGTH or more) at START is."""
    if text.startswith(form, start):
        return len(form)
    if len(form) <= PREFIX_LENGTH:
        return 0
    length = 0
    limit = min(len(form), len(text) - start)
    while length < limit and text[start + length] == form[length]:
        length += 1
    return length if length >= PREFIX_LENGTH else 0
