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

import json
import os
import time

from ansible_collections.stickforstats.deploy.plugins.module_utils._durable import (
    write_atomically,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import Layout
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import read_state


def serving_release(root: str, proxy_state: str) -> str:
    """The release the front door's state names, when its directory is there ('' otherwise)."""
    release = os.path.normpath(str(read_state(proxy_state).get("release") or ""))
    releases = Layout(root).releases
    if os.path.dirname(release) != releases or not os.path.isdir(release):
        return ""
    return os.path.basename(release)


def reconcile(root: str, proxy_state: str, by: str, write: bool) -> dict:
    """{} when the records name what serves; otherwise {'from', 'to', 'event'}, written when WRITE."""
    layout = Layout(root)
    recorded, serving = layout.current(), serving_release(root, proxy_state)
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
        manifest = layout.manifest(serving)
        if not os.path.exists(manifest):
            # Kept (a rollback target, pruned by the history) like any recorded release.
            write_atomically(manifest, json.dumps({
                "version": serving, "git_sha": serving, "images": {}, "files": {},
                "deployed_by": by, "deployed_at": event["at"], "previous": recorded,
                "outcome": "reconciled", "note": event["reason"],
            }, sort_keys=True, indent=4) + "\n")  # fmt: skip
        layout.switch_current(serving)
        layout.append(event)
    return {"from": recorded, "to": serving, "event": event}
