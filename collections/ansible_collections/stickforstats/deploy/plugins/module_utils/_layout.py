"""The release layout of a host: what lives under its deploy root, by name.

    <root>/lock                       the deploy lock (_lock.py)
    <root>/current -> releases/<v>    the release the records name, switched atomically
    <root>/releases/<v>/              a staged release; kept once it has release.json
    <root>/releases/<v>/release.json  its manifest (owner only)
    <root>/history.jsonl              the append-only history (_history.py)
    <root>/proxy/                     the front door's files; proxy/state.json names what
                                      serves (its content belongs to compose_rollout)

Everything that builds one of these paths, reads ``current``, the kept releases or
the history, or switches ``current`` does it here; switch_current() is the one
switch of ``current``, for a deploy's record, a rollback and a reconcile alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import (
    replace_symlink,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._history import (
    append_event,
    read_events,
)

LOCK = "lock"
CURRENT = "current"
RELEASES = "releases"
MANIFEST = "release.json"
HISTORY = "history.jsonl"
PROXY = "proxy"
PROXY_STATE = "state.json"


@dataclass(frozen=True)
class Layout:
    """The deploy root ROOT of a host and the names under it."""

    root: str

    @classmethod
    def of_lock(cls, lock: str) -> Layout:
        """The layout whose lock file is LOCK (the root is its directory)."""
        return cls(os.path.dirname(lock))

    @property
    def lock(self) -> str:
        return os.path.join(self.root, LOCK)

    @property
    def current_link(self) -> str:
        return os.path.join(self.root, CURRENT)

    @property
    def releases(self) -> str:
        return os.path.join(self.root, RELEASES)

    @property
    def history(self) -> str:
        return os.path.join(self.root, HISTORY)

    @property
    def proxy(self) -> str:
        return os.path.join(self.root, PROXY)

    @property
    def proxy_state(self) -> str:
        return os.path.join(self.root, PROXY, PROXY_STATE)

    def release_dir(self, version: str) -> str:
        return os.path.join(self.root, RELEASES, version)

    def manifest(self, version: str) -> str:
        return os.path.join(self.root, RELEASES, version, MANIFEST)

    @staticmethod
    def link_target(version: str) -> str:
        """What ``current`` holds when it names VERSION (relative: the root may move)."""
        return os.path.join(RELEASES, version)

    def current(self) -> str:
        """The release ``current`` points at ('' when none)."""
        try:
            return os.path.basename(os.readlink(self.current_link))
        except OSError:
            return ""

    def release_names(self) -> list[str]:
        """Every directory name under releases/, sorted ([] when there is none)."""
        try:
            return sorted(os.listdir(self.releases))
        except OSError:
            return []

    def kept(self) -> list[str]:
        """The releases that were recorded (have a manifest), sorted."""
        return [n for n in self.release_names() if os.path.isfile(self.manifest(n))]

    def events(self, last: int | None = None) -> list[dict]:
        """The history's events, oldest first; only the LAST ones when given (0: none)."""
        return last_events(self.history, last)

    def append(self, event: dict) -> None:
        """Appends EVENT to the history, synced to disk."""
        append_event(self.history, event)

    def would_switch(self, version: str) -> bool:
        """Whether switch_current(VERSION) would point ``current`` elsewhere (for check mode)."""
        try:
            return os.readlink(self.current_link) != self.link_target(version)
        except OSError:
            return True

    def switch_current(self, version: str) -> bool:
        """Points ``current`` at VERSION: a new link renamed over it, then the root synced,
        so that a crash or a power cut leaves the old link or the new one. False when it
        already pointed there (nothing written)."""
        return replace_symlink(self.current_link, self.link_target(version))


def last_events(path: str, last: int | None = None) -> list[dict]:
    """The events of the history file PATH, oldest first; the LAST ones when given (0: none)."""
    events = read_events(path)
    if last is None:
        return events
    return events[-last:] if last > 0 else []
