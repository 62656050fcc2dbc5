#!/usr/bin/python
"""The deploy lock on a host: one deploy or rollback at a time."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take, release or inspect the deploy lock of a host
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - The lock is a JSON file (who holds it, for what version, since when, the run's token)
    created atomically with O_CREAT|O_EXCL, so two deploys can never both take it.
  - Taking a lock that another run holds fails at once, naming the holder, the version and
    since when.
  - A lock older than O(stale_after) seconds is stale. It is broken only when
    O(break_stale=true), and the result then says whose lock was broken; never silently.
  - Releasing removes the lock only when it carries this run's O(token).
options:
  path:
    description: The lock file.
    type: path
    required: true
  state:
    description:
      - V(present) takes the lock (or keeps it, if this run's O(token) already holds it).
      - V(absent) releases it, if this run holds it.
      - V(query) only reports it.
    type: str
    choices: [present, absent, query]
    default: present
  token:
    description: Identifies this run (the same for every host of one playbook run).
    type: str
  holder:
    description: Who deploys (user, CI job), shown to whoever finds the lock held.
    type: str
    default: unknown
  purpose:
    description: What the lock is taken for, for example C(deploy c0ffee2).
    type: str
    default: deploy
  stale_after:
    description: Age in seconds after which a lock counts as stale.
    type: int
    default: 3600
  directories:
    description:
      - Directories made (mode 0750, with their parents) when missing, once the lock is held,
        such as the deploy root, its C(releases/) and the new release's directory, so that
        taking the lock is the run's only round trip before staging. Never made when the lock
        is refused, nor in check mode. The lock file's own directory is made when missing.
    type: list
    elements: path
    default: []
  history_last:
    description:
      - How many of the last events of C(history.jsonl) (beside the lock file) to return in
        RV(history), so that a rollback knows what to go back to without another round trip.
    type: int
    default: 0
  break_stale:
    description: Break a stale lock held by another run, and say so.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: In check mode the lock is inspected and neither taken nor released.
  diff_mode:
    support: none
    description: No diff.
  idempotent:
    support: full
    description: Taking a lock this run holds, or releasing one it does not, changes nothing.
"""

EXAMPLES = r"""
- name: This run holds the deploy lock
  stickforstats.deploy.deploy_lock:
    path: /opt/stickforstats/lock
    token: "{{ deploy_run_token }}"
    holder: "{{ lookup('ansible.builtin.env', 'GITHUB_ACTOR', default='operator') }}"
    purpose: deploy {{ app_version }}
"""

RETURN = r"""
lock:
  description: The lock as found or as taken; empty when there is none.
  type: dict
  returned: always
  sample: {holder: ci, purpose: deploy c0ffee2, since: "2026-11-26T10:00:00Z", since_epoch: 1795600000, token: abc}
broken:
  description: The stale lock that was broken, if any.
  type: dict
  returned: when a stale lock was broken
made:
  description: Directories of O(directories) that were missing and were made.
  type: list
  elements: str
  returned: when the lock is held by this run, not in check mode
current:
  description: The release C(current) (beside the lock file) points at; empty when none.
  type: str
  returned: always
kept:
  description: Releases under C(releases/) beside the lock file that have a manifest (C(release.json)), sorted.
  type: list
  elements: str
  returned: always
history:
  description: The last O(history_last) events of C(history.jsonl) beside the lock file, oldest first.
  type: list
  elements: dict
  returned: always
age:
  description: Age of the lock found, in seconds.
  type: float
  returned: when a lock was found
"""

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._history import (  # noqa: E402
    read_events,
)


def read_lock(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError:
        return {"holder": "unknown (unreadable lock file)", "since_epoch": os.path.getmtime(path)}


def write_lock(path: str, lock: dict) -> bool:
    """Creates the lock file atomically; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(lock, handle)
        handle.write("\n")
    return True


def make_directories(paths: list[str]) -> list[str]:
    """Makes each missing directory (mode 0750); returns those made."""
    made = []
    for directory in paths:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o750, exist_ok=True)
            os.chmod(directory, 0o750)
            made.append(directory)
    return made


def current_release(lock_path: str) -> str:
    """The release the `current` link beside LOCK_PATH points at ('' when none)."""
    try:
        return os.path.basename(os.readlink(os.path.join(os.path.dirname(lock_path), "current")))
    except OSError:
        return ""


def kept_releases(lock_path: str) -> list[str]:
    """Releases beside LOCK_PATH (releases/<version>/release.json) that were recorded."""
    releases = os.path.join(os.path.dirname(lock_path), "releases")
    try:
        names = os.listdir(releases)
    except OSError:
        return []
    return sorted(n for n in names if os.path.isfile(os.path.join(releases, n, "release.json")))


def describe(lock: dict, age: float) -> str:
    return (
        f"held by {lock.get('holder', 'unknown')} for {lock.get('purpose', '?')} "
        f"since {lock.get('since', '?')} ({age:.0f} s ago)"
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {
                "type": "str",
                "default": "present",
                "choices": ["present", "absent", "query"],
            },
            "token": {"type": "str", "no_log": False},
            "holder": {"type": "str", "default": "unknown"},
            "purpose": {"type": "str", "default": "deploy"},
            "stale_after": {"type": "int", "default": 3600},
            "break_stale": {"type": "bool", "default": False},
            "directories": {"type": "list", "elements": "path", "default": []},
            "history_last": {"type": "int", "default": 0},
        },
        required_if=[("state", "present", ["token"]), ("state", "absent", ["token"])],
        supports_check_mode=True,
    )
    p = module.params
    path, now = p["path"], time.time()
    found = read_lock(path)
    age = now - float(found.get("since_epoch", now)) if found else None
    result: dict = {
        "changed": False,
        "lock": found or {},
        "current": current_release(path),
        "kept": kept_releases(path),
        "history": (
            read_events(os.path.join(os.path.dirname(path), "history.jsonl"))[-p["history_last"] :]
            if p["history_last"] > 0
            else []
        ),
    }
    if age is not None:
        result["age"] = round(age, 1)

    if p["state"] == "query":
        module.exit_json(**result)

    if p["state"] == "absent":
        if found and found.get("token") == p["token"]:
            if not module.check_mode:
                os.unlink(path)
            result.update(changed=True, lock={})
        module.exit_json(**result)

    if found and found.get("token") == p["token"]:
        held(module, result)
    if found:
        stale = age is not None and age > p["stale_after"]
        if not (stale and p["break_stale"]):
            hint = (
                f" It is stale (older than {p['stale_after']} s): break it with"
                " -e deploy_break_stale_lock=true."
                if stale
                else " Wait for it to finish, or find out why it is still there."
            )
            module.fail_json(msg=f"Deploy lock {path} is {describe(found, age)}.{hint}", **result)
        result["broken"] = found
        module.warn(f"Broke the stale deploy lock {path}, {describe(found, age)}")
        if not module.check_mode:
            os.unlink(path)
    lock = {
        "holder": p["holder"],
        "purpose": p["purpose"],
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "since_epoch": now,
        "token": p["token"],
    }
    if not module.check_mode:
        make_directories([os.path.dirname(path)])
    if not module.check_mode and not write_lock(path, lock):
        again = read_lock(path) or {}
        module.fail_json(
            msg=f"Deploy lock {path} was just taken: {describe(again, 0)}.", lock=again
        )
    result.update(changed=True, lock=lock)
    held(module, result)


def held(module: AnsibleModule, result: dict) -> None:
    """Exits with the lock held by this run, its directories made."""
    if not module.check_mode:
        result["made"] = make_directories(module.params["directories"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
