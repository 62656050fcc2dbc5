"""Filters that render Compose env files; documented in env_*.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import (
    EnvFileError,
    problems,
    render,
)


def env_file_render(entries: Mapping[str, Any]) -> str:
    """The text of an env file holding `entries`, quoted for Compose."""
    if not isinstance(entries, Mapping):
        raise AnsibleFilterError("env_file_render: expected a mapping of KEY: value")
    try:
        return render(entries)
    except EnvFileError as exc:
        raise AnsibleFilterError(f"env_file_render: {exc}") from None


def env_file_problems(files: list[Mapping[str, Any]]) -> list[str]:
    """Every reason the env files cannot be written (names only, no values)."""
    if not isinstance(files, list):
        raise AnsibleFilterError("env_file_problems: expected a list of env file specs")
    return problems(files)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"env_file_render": env_file_render, "env_file_problems": env_file_problems}
