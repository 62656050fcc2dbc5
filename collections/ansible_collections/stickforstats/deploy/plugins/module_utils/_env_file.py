"""Env files that Docker Compose reads back exactly as written.

Compose v2 parses `KEY=VALUE` lines (compose-go's dotenv):
  - single quotes: the value is literal (no escapes, no `${VAR}` expansion),
    except that a backslash before the closing quote hides that quote;
  - double quotes: backslash, double quote and dollar are escaped with a
    backslash, and `${VAR}` is expanded;
  - unquoted: trailing ` # comment` is cut, spaces trimmed, `${VAR}` expanded.
So a value is written in single quotes unless it contains one or ends with a
backslash; then in double quotes with backslash, double quote and dollar
escaped. Both forms were checked against Compose 2.26 (tests/integration). A newline,
carriage return or NUL cannot be written safely and is refused.

Messages name keys, never values: the values are secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
UNSAFE_CHARACTERS = ("\n", "\r", "\0")


class EnvFileError(ValueError):
    """A value or key that cannot be written; the message names the key only."""


def quote(value: Any, key: str = "?") -> str:
    """The text to write after `KEY=` so that Compose reads back `value`."""
    if isinstance(value, bool):
        text = "True" if value else "False"
    elif value is None:
        text = ""
    else:
        text = str(value)
    if any(c in text for c in UNSAFE_CHARACTERS):
        raise EnvFileError(
            f"env key {key!r}: the value contains a newline, carriage return or NUL,"
            " which an env file cannot hold"
        )
    if "'" not in text and not text.endswith("\\"):
        return f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def render(entries: Mapping[str, Any], key_order: Iterable[str] | None = None) -> str:
    """The whole env file: one `KEY=quoted` line per entry, in the given order."""
    keys = list(key_order) if key_order is not None else list(entries)
    lines = ["# Managed by stickforstats.deploy (env_file role): do not edit on the host."]
    lines += [f"{key}={quote(entries[key], key)}" for key in keys]
    return "\n".join(lines) + "\n"


def problems(files: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every reason the env files cannot be written, by file and key name.

    Each file is a mapping with `name` (relative path), `entries` (KEY ->
    value) and optional `optional` (keys allowed to be empty). A key is
    required to be non-empty unless listed in `optional`.
    """
    found: list[str] = []
    seen: set[str] = set()
    for index, spec in enumerate(files):
        name = str(spec.get("name") or "")
        where = f"env file {name!r}" if name else f"env file #{index + 1}"
        if not name:
            found.append(f"{where}: has no name")
        elif name.startswith("/") or ".." in name.split("/"):
            found.append(f"{where}: name must be a relative path inside the release directory")
        elif name in seen:
            found.append(f"{where}: listed twice")
        seen.add(name)
        entries = spec.get("entries")
        if not isinstance(entries, Mapping):
            found.append(f"{where}: entries must be a mapping of KEY: value")
            continue
        optional = set(spec.get("optional") or [])
        missing = [k for k, v in entries.items() if k not in optional and _empty(v)]
        if missing:
            found.append(f"{where}: missing or empty required keys: {', '.join(missing)}")
        bad_keys = [str(k) for k in entries if not KEY_PATTERN.match(str(k))]
        if bad_keys:
            found.append(f"{where}: invalid key names: {', '.join(bad_keys)}")
        unsafe = [
            str(k)
            for k, v in entries.items()
            if v is not None and any(c in str(v) for c in UNSAFE_CHARACTERS)
        ]
        if unsafe:
            found.append(
                f"{where}: values of these keys contain a newline, carriage return or NUL,"
                f" which an env file cannot hold: {', '.join(unsafe)}"
            )
    return found


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")
