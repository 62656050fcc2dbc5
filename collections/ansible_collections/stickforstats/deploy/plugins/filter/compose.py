"""Filters over compose files; documented in compose_*.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._compose_rewrite import (
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


def _service_images(text: str) -> dict[str, str]:
    """Service -> image of a compose file's text ({} for an empty text)."""
    data = yaml.safe_load(text) if text and text.strip() else {}
    services = (data or {}).get("services") or {}
    return {name: str((spec or {}).get("image") or "") for name, spec in services.items()}


def _digest(manifest: Mapping[str, Any] | None, ref: str) -> str:
    """The sha256 digest release.json recorded for REF, or ''."""
    recorded = str(((manifest or {}).get("images") or {}).get(ref) or "")
    return next((part.split("@", 1)[1] for part in recorded.split() if "@" in part), "")


def release_image_changes(
    current_text: str,
    source_text: str,
    images: Mapping[str, str],
    version: str,
    manifest: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    """Per service whose image would change: before -> after (and the digest before)."""
    for name, text in (("current_text", current_text), ("source_text", source_text)):
        if not isinstance(text, str):
            raise AnsibleFilterError(f"release_image_changes: {name} must be a compose file's text")
    try:
        new = rewrite_compose(source_text, dict(images or {}), str(version), {}).text
        before, after = _service_images(current_text), _service_images(new)
    except (ComposeRewriteError, yaml.YAMLError) as exc:
        raise AnsibleFilterError(f"release_image_changes: {exc}") from exc
    changes = []
    for service in sorted(set(before) | set(after)):
        # The serving file names its images pinned (repo:tag@sha256:...); the digest the
        # new release gets is only known after its pull: the references compare by tag.
        pinned, _, pin = before.get(service, "").partition("@")
        old, now = pinned, after.get(service, "")
        if old != now:
            changes.append({
                "service": service,
                "before": old or "(none)",
                "after": now or "(removed)",
                "before_digest": pin or _digest(manifest, old),
            })  # fmt: skip
    return changes


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "compose_rewrite_problems": compose_rewrite_problems,
            "release_image_changes": release_image_changes,
        }
