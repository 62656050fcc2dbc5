"""The redact filter; documented in redact.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

MASK = "********"


def redact(text: Any, secrets: Iterable[Any]) -> str:
    """TEXT with every secret value (raw, url-encoded or JSON-escaped) masked."""
    result = str(text)
    forms: set[str] = set()
    for secret in secrets or []:
        value = str(secret or "")
        if len(value) < 4:  # too short to mask without masking ordinary text
            continue
        forms |= {value, quote(value, safe=""), value.encode("unicode_escape").decode()}
    for form in sorted(forms, key=len, reverse=True):
        result = result.replace(form, MASK)
    return result


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"redact": redact}
