#!/usr/bin/python
"""The append-only history of a host's deploys and rollbacks."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_history
short_description: Append to, or read, the deploy history of a host
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - The history is a JSON Lines file, one event per line (deploy, rollback, their outcome),
    only ever appended to.
  - The file is owner only (mode 0600), whatever the umask; one with another mode gets 0600
    at the next append.
  - With O(entry), appends it with the time (C(at), UTC) and returns it, synced to disk. A last
    line left torn (a full disk, a crash mid-write) is ended first, so the new event reads back.
  - A line that is not JSON is returned as an event C(unreadable) with the line (its first 200
    characters); the events after it are kept.
  - Without O(entry), returns the last O(last) events and, for each version, its last outcome.
options:
  path:
    description: The history file.
    type: path
    required: true
  entry:
    description: The event to append (never a secret).
    type: dict
  last:
    description: How many of the latest events to return.
    type: int
    default: 10
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: full
    details: In check mode nothing is appended.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every call with O(entry) appends an event.
"""

EXAMPLES = r"""
- name: The deploy is in the history
  stickforstats.deploy.release_history:
    path: /opt/stickforstats/history.jsonl
    entry: {event: deploy, version: c0ffee2, outcome: success}

- name: History is read
  stickforstats.deploy.release_history:
    path: /opt/stickforstats/history.jsonl
    last: 5
  register: history
"""

RETURN = r"""
events:
  description: The last O(last) events, oldest first (after the append, if any).
  type: list
  elements: dict
  returned: always
appended:
  description: The event appended, with its time.
  type: dict
  returned: when O(entry) is given
"""

from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._history import (  # noqa: E402
    append_event,
    now_utc,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._layout import (  # noqa: E402
    last_events,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "entry": {"type": "dict"},
    "last": {"type": "int", "default": 10},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    path, entry, last = module.params["path"], module.params["entry"], module.params["last"]
    result: dict = {"changed": False}
    if entry is not None:
        appended = {"at": now_utc(), **entry}
        if not module.check_mode:
            append_event(path, appended)
        result.update(changed=True, appended=appended)
    events = last_events(path)
    if entry is not None and module.check_mode:
        events.append(result["appended"])
    result["events"] = events[-last:] if last > 0 else []
    module.exit_json(**result)


if __name__ == "__main__":
    main()
