"""What serves on a host, against what its records say.

The rollout writes the front door's state (``proxy/state.json``: the release
whose containers the proxy sends the traffic to) right after every switch,
before anything else can fail. A run killed between that switch and its
record (``current``, ``release.json``, the history) leaves them apart: the
state names the release that serves, ``current`` the one before. reconcile()
writes the truth back and records it as an event, so that the next run's
``before -> after``, status and rollback target are right.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from ansible_collections.stickforstats.deploy.plugins.module_utils._history import append_event
from ansible_collections.stickforstats.deploy.plugins.module_utils._lock import fsync_dir


def current_release(root: str) -> str:
    """The release ROOT/current points at ('' when none)."""
    try:
        return os.path.basename(os.readlink(os.path.join(root, "current")))
    except OSError:
        return ""


def serving_release(root: str, proxy_state: str) -> str:
    """The release the front door's state names, when its directory is there ('' otherwise)."""
    try:
        with open(proxy_state, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return ""
    release = os.path.normpath(str(state.get("release") or ""))
    releases = os.path.join(root, "releases")
    if os.path.dirname(release) != releases or not os.path.isdir(release):
        return ""
    return os.path.basename(release)


def point_current(root: str, release: str) -> None:
    """ROOT/current -> releases/RELEASE, atomically and durably."""
    link = os.path.join(root, "current")
    aside = f"{link}.reconcile.new"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(aside)
    os.symlink(os.path.join("releases", release), aside)
    os.replace(aside, link)
    fsync_dir(root)


def reconcile(root: str, proxy_state: str, by: str, write: bool) -> dict:
    """{} when the records name what serves; otherwise {'from', 'to', 'event'}, written when WRITE."""
    recorded, serving = current_release(root), serving_release(root, proxy_state)
    if not serving or serving == recorded:
        return {}
    now = time.time()
    event = {
        "event": "reconcile",
        "version": serving,
        "previous": recorded,
        "outcome": "success",
        "by": by,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "reason": (
            f"a deploy or rollback that did not finish left current at {recorded or 'nothing'}"
            f" while the front door sends the traffic to {serving}"
        ),
    }
    if write:
        manifest = os.path.join(root, "releases", serving, "release.json")
        if not os.path.exists(manifest):
            # Kept (a rollback target, pruned by the history) like any recorded release.
            aside = manifest + ".new"
            with open(aside, "w", encoding="utf-8") as handle:
                json.dump(
                    {"version": serving, "git_sha": serving, "images": {}, "files": {},
                     "deployed_by": by, "deployed_at": event["at"], "previous": recorded,
                     "outcome": "reconciled", "note": event["reason"]},
                    handle, sort_keys=True, indent=2,
                )  # fmt: skip
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(aside, manifest)
            fsync_dir(os.path.dirname(manifest))
        point_current(root, serving)
        append_event(os.path.join(root, "history.jsonl"), event)
    return {"from": recorded, "to": serving, "event": event}
