"""The redact filter; documented in redact.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils._redact import (
    MASK,
    redact,
)

__all__ = ["MASK", "FilterModule", "redact"]


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"redact": redact}
