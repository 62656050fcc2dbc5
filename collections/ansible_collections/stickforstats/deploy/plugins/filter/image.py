"""Filters to parse and build Docker image references.

Each filter is documented in the YAML file of the same name next to this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stickforstats.deploy.plugins.module_utils._image_reference import (
    ImageReference,
    ImageReferenceError,
)


def _parse(value: Any, filter_name: str) -> ImageReference:
    if not isinstance(value, str):
        raise AnsibleFilterError(
            f"{filter_name}: expected an image reference string, got "
            f"{type(value).__name__} {value!r}"
        )
    try:
        return ImageReference.parse(str(value))
    except ImageReferenceError as exc:
        raise AnsibleFilterError(f"{filter_name}: {exc}") from None


def image_parse(value: str) -> dict[str, str | None]:
    """Split an image reference into its parts."""
    reference = _parse(value, "image_parse")
    return {
        "registry": reference.registry,
        "repository": reference.repository,
        "path": reference.path,
        "tag": reference.tag,
        "digest": reference.digest,
        "canonical": reference.canonical,
    }


def image_with_tag(value: str, tag: str | None) -> str:
    """Return the reference with its tag replaced."""
    reference = _parse(value, "image_with_tag")
    try:
        return reference.with_tag(None if tag is None else str(tag)).format()
    except ImageReferenceError as exc:
        raise AnsibleFilterError(f"image_with_tag: {exc}") from None


def image_with_digest(value: str, digest: str | None) -> str:
    """Return the reference with its digest replaced."""
    reference = _parse(value, "image_with_digest")
    try:
        return reference.with_digest(None if digest is None else str(digest)).format()
    except ImageReferenceError as exc:
        raise AnsibleFilterError(f"image_with_digest: {exc}") from None


def image_repository(value: str) -> str:
    """Return the registry and path of the reference, without tag or digest."""
    return _parse(value, "image_repository").repository


class FilterModule:
    """Docker image reference filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "image_parse": image_parse,
            "image_with_tag": image_with_tag,
            "image_with_digest": image_with_digest,
            "image_repository": image_repository,
        }
