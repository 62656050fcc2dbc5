"""The attributes every module of the collection declares (what each one supports is its own)."""

from __future__ import annotations


class ModuleDocFragment:
    # Check mode and diff mode: every module says its support (and details) under attributes.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
"""

    # For a module that says whether a second identical call changes anything.
    IDEMPOTENT = r"""
options: {}
attributes:
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
"""

    # A module that runs on POSIX hosts (all of them).
    PLATFORM = r"""
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

    # A module with an action plugin of the same name (which says its support).
    ACTION = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
"""
