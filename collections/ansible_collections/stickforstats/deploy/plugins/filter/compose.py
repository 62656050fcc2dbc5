"""Filters over compose files; documented in compose_*.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stickforstats.deploy.plugins.module_utils._compose_rewrite import (
    ComposeRewriteError,
    rewrite_compose,
)


def compose_rewrite_problems(
    text: str,
    images: Mapping[str, str],
    version: str,
    digests: Mapping[str, str] | None = None,
) -> list[str]:
    """Every reason the compose file cannot be rewritten; empty when it can."""
    if not isinstance(text, str):
        raise AnsibleFilterError("compose_rewrite_problems: expected the compose file's text")
    try:
        rewrite_compose(text, dict(images or {}), str(version), dict(digests or {}))
    except ComposeRewriteError as exc:
        return list(exc.errors)
    return []


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"compose_rewrite_problems": compose_rewrite_problems}
