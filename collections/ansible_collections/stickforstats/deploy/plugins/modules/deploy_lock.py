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
  - The lock is a JSON file saying who holds it (holder, controller, the controller's
    C(ansible-playbook) pid, the run's token), for what and since when, and the seconds of its
    O(lease). It is written aside and linked into place, under C(flock) on a guard file beside it,
    so two runs can never both take it, nor both take over the same dead one, and a crash never
    leaves an empty lock.
  - The lease runs from the lock file's modification time. Taking the lock starts a keeper
    process on the host that renews it while the run's SSH connection (its sshd session) lives
    and the lock carries the run's O(token).
  - A lock whose run is dead is taken over without any flag, and the result says so
    (RV(taken_over)); a run is dead when its lease lapsed, or at once when its controller is the
    caller's (O(controller)) and its pid is not among O(live_pids). A live lock is never broken.
    With O(wait), a run queues behind a live lock for that many seconds; otherwise it fails at
    once, naming the holder and the command that would queue (O(command)).
  - A lock file without a lease (written by an older version) counts as renewed at its
    modification time with a lease of O(stale_after) seconds; O(break_stale=true) breaks it sooner.
  - Before anything else, unless another live run holds the lock, the records are compared with
    what serves (the front door's O(proxy_state)); where a run that did not finish left C(current)
    elsewhere, C(current) is pointed at what serves, a manifest is written for it when it has none,
    and a C(reconcile) event is appended to the history (RV(reconciled)). Not in check mode.
  - The stickforstats.deploy.deploy_lock action plugin fills O(controller), O(pid) and
    O(live_pids) on the controller.
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
      - V(query) only reports it (and reconciles the records when no live run holds it).
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
  lease:
    description: Seconds a renewal of the lock holds; the keeper renews it six times per lease.
    type: int
    default: 60
  wait:
    description: Seconds to queue behind a live lock before failing (0 fails at once).
    type: int
    default: 0
  command:
    description: The command that would queue behind a live lock, named in the refusal.
    type: str
    default: ""
  controller:
    description: The controller's name (C(STICKFORSTATS_CONTROLLER), or its host name).
    type: str
    default: ""
  pid:
    description: This run's C(ansible-playbook) pid on the controller (0 when unknown).
    type: int
    default: 0
  live_pids:
    description: The C(ansible-playbook) pids running on the controller now; omitted when unknown.
    type: list
    elements: int
  proxy_state:
    description: The front door's state file (what serves); default C(proxy/state.json) beside the lock.
    type: path
  stale_after:
    description: The lease of a lock file written without one (an older version's), in seconds.
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
    description: Break a lock written without a lease that is older than O(stale_after), and say so.
    type: bool
    default: false
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.action
  - stickforstats.deploy.attributes.platform
attributes:
  action:
    support: full
    details: The action plugin fills O(controller), O(pid) and O(live_pids) on the controller.
  check_mode:
    support: full
    details: In check mode the lock is inspected and neither taken nor released, nothing reconciled.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: Taking a lock this run holds, or releasing one it does not, changes nothing.
"""

EXAMPLES = r"""
- name: This run holds the deploy lock
  stickforstats.deploy.deploy_lock:
    path: /opt/stickforstats/lock
    token: "{{ release_run_token }}"
    holder: "{{ lookup('ansible.builtin.env', 'GITHUB_ACTOR', default='operator') }}"
    purpose: deploy {{ app_version }}
    wait: 600  # queue behind a live deploy for up to 10 minutes
"""

RETURN = r"""
lock:
  description: The lock as found or as taken; empty when there is none.
  type: dict
  returned: always
  sample:
    holder: ci
    purpose: deploy c0ffee2
    since: "2026-11-26T10:00:00Z"
    since_epoch: 1795600000
    token: abc
    controller: runner-7
    pid: 4242
    lease: 60
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
lock_state:
  description:
    - What the lock found is to this run, V(free), V(mine), V(live) or V(dead) (taken over by the
      next run that asks for it, without any flag); C(lock_why) says why.
  type: str
  returned: always
  sample: dead
lock_why:
  description: Why the lock found counts as live or dead, such as C(its run (ansible-playbook pid 42 on vm) is gone).
  type: str
  returned: always
serving:
  description:
    - The release the front door sends the traffic to (O(proxy_state)), read even while a live run
      holds the lock (nothing is written then); C(current) when the state names none.
  type: str
  returned: always
taken_over:
  description: The lock of a dead run that this run took over, with why it counted as dead (C(why)).
  type: dict
  returned: when a dead run's lock was taken over
reconciled:
  description:
    - When the records did not name what serves, C(from) (what C(current) said), C(to) (what
      serves) and the C(event) appended; empty otherwise.
  type: dict
  returned: always
waited:
  description: Seconds spent queueing behind a live lock.
  type: float
  returned: when the lock was taken after waiting
"""

from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._lock_request import (  # noqa: E402
    Host,
    LockRequest,
    answer,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "path": {"type": "path", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent", "query"]},
    "token": {"type": "str", "no_log": False},
    "holder": {"type": "str", "default": "unknown"},
    "purpose": {"type": "str", "default": "deploy"},
    "lease": {"type": "int", "default": 60},
    "wait": {"type": "int", "default": 0},
    "command": {"type": "str", "default": ""},
    "controller": {"type": "str", "default": ""},
    "pid": {"type": "int", "default": 0},
    "live_pids": {"type": "list", "elements": "int"},
    "proxy_state": {"type": "path"},
    "stale_after": {"type": "int", "default": 3600},
    "break_stale": {"type": "bool", "default": False},
    "directories": {"type": "list", "elements": "path", "default": []},
    "history_last": {"type": "int", "default": 0},
}
REQUIRED_IF = [("state", "present", ["token"]), ("state", "absent", ["token"])]


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True
    )
    host = Host(check_mode=module.check_mode, warn=module.warn)
    done = answer(LockRequest.from_params(module.params), host)
    if done.failure is not None:
        module.fail_json(msg=done.failure, **done.result)
    module.exit_json(**done.result)


if __name__ == "__main__":
    main()
