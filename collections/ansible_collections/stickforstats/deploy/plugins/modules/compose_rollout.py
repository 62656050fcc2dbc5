#!/usr/bin/python
"""Bring a release's Compose services up without dropping a request."""

# Ansible wants the documentation before the imports.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compose_rollout
short_description: Bring a release's Compose services up, rolling the web services behind nginx
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - Makes the release in O(project_src) the one that serves, in one call on the host.
  - "O(strategy=rolling): services in O(keep) (the database, the cache) are never
    recreated by a release: they are created or started when missing, and recreated
    only when their image, environment or mounted files differ. Web services in
    O(rolling) get new containers beside the old ones (C(up --scale --no-recreate));
    once all of them pass their healthcheck (or, without one, accept connections on
    their port), one write of the proxy's upstream files and one graceful nginx reload
    move the traffic. The old containers stay running, out of the traffic, for
    O(warm_window) seconds (a rollback within it is a traffic switch), then a detached
    job stops them with a bound of O(drain_timeout) seconds for the requests in flight;
    with O(warm_window=0) they are stopped before the call returns. Services in
    O(overlap) (workers) get a new container before the old one stops. Every other
    service is recreated by Compose, which stops the old container first (Celery beat
    never runs twice at once)."
  - If a new web container does not become ready within O(start_timeout), exits, or
    fails its healthcheck O(unhealthy_streak) times in a row, every container this call
    created is removed and the traffic never moved.
  - "O(strategy=recreate), or no service in any class: C(up) as Compose does it (each
    changed service is stopped, then started)."
  - The proxy service mounts O(proxy_dir) at O(proxy_mount) through a Compose override
    file this module writes there; the app's nginx config includes C(upstreams*.conf)
    and C(<service>*.map) from it (see the collection README, "Zero downtime"). A reload is one
    C(docker exec) of C(sh -c "nginx -t -q && nginx -s reload") in the proxy container (its image
    needs a shell); a configuration that does not pass C(nginx -t) fails the call, and the route
    files are put back.
  - A release's containers are told from the others by a label holding a digest of the
    service's resolved settings (image, environment, command, mounts...).
options:
  project_src:
    description: The release directory.
    type: path
    required: true
  project_name:
    description: Compose project name.
    type: str
    required: true
  files:
    description: Compose files in O(project_src).
    type: list
    elements: str
    default: [docker-compose.yml]
  pull:
    description: Whether C(up) pulls images missing on the host.
    type: str
    choices: [never, missing]
    default: never
  strategy:
    description: How changed services are replaced.
    type: str
    choices: [rolling, recreate]
    default: rolling
  rolling:
    description: Web service to the port the proxy sends its traffic to.
    type: dict
    default: {}
  overlap:
    description: Services whose new container starts before the old one stops.
    type: list
    elements: str
    default: []
  keep:
    description: Services never recreated by a release (data services).
    type: list
    elements: str
    default: []
  proxy_service:
    description: The nginx service in front of the O(rolling) services (required for them).
    type: str
    default: ""
  proxy_dir:
    description: Host directory for the upstream files, the rollout state and the Compose override.
    type: path
    required: true
  proxy_mount:
    description: Where the proxy container sees O(proxy_dir).
    type: str
    default: /etc/nginx/sfs
  start_timeout:
    description: Seconds for new containers to become ready.
    type: int
    default: 120
  unhealthy_streak:
    description: Failed healthchecks in a row that fail a new container early.
    type: int
    default: 8
  drain_timeout:
    description: Seconds a stopping container gets to finish its requests in flight.
    type: int
    default: 30
  warm_window:
    description: Seconds the replaced web containers keep running, out of the traffic.
    type: int
    default: 600
  data_changes:
    description:
      - What becomes of a change to a data service (O(keep)) that is running, for every setting
        Compose would recreate it for (image, command, environment, ports, healthcheck, volumes,
        the files it mounts...), told by a label of per-setting digests on its container.
      - V(refuse) fails before anything starts, naming the service, the settings that changed and
        how to apply them; the rolling strategy never restarts a data service under traffic.
      - V(apply) recreates the changed data services once the new web containers are ready and
        serve (their clients lose their connections while they restart).
      - V(leave) leaves them running as they are and warns (what a rollback does; an incident is
        no time to restart the database).
    type: str
    choices: [refuse, apply, leave]
    default: refuse
  plan_only:
    description:
      - Only compare the data services with the release and fail as O(data_changes=refuse) would;
        nothing is started, stopped or written but the Compose override. The deploy runs this
        before the migration, so that a refused change leaves the host as it was.
    type: bool
    default: false
  deploy_lock:
    description:
      - The deploy lock file; the detached job that stops warm containers leaves them alone
        while it exists (a deploy or rollback runs, and removes them itself when it switches).
    type: path
    default: ""
  redact:
    description:
      - Secret values (the vault's) masked in the failure message, in every form the collection
        writes them (see the C(redact) filter); ansible-core prints a failed task's message
        even under C(no_log).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: none
    details: Skipped in check mode; the deploy role does not run this step in check mode.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: The release's containers serve, rolled out without dropping a request
  stickforstats.deploy.compose_rollout:
    project_src: /opt/stickforstats/releases/c0ffee2
    project_name: stickforstats
    rolling: {backend: 8000, asgi: 8001, frontend: 80}
    overlap: [worker]
    keep: [db, redis]
    proxy_service: nginx
    proxy_dir: /opt/stickforstats/proxy
    warm_window: 600
  register: rollout
  no_log: true  # Compose's errors could quote the release's settings
"""

RETURN = r"""
switched: {description: Web services whose traffic moved to new or warm containers, type: list, returned: always}
started: {description: Containers this call created, type: list, returned: always}
warm: {description: Containers out of the traffic that keep running until warm_until, type: list, returned: always}
warm_until: {description: Unix time after which the warm containers are stopped, type: float, returned: always}
recreated: {description: Services Compose recreated or started, type: list, returned: always}
mounted_releases: {description: Release directories that running containers mount files from, type: list, returned: always}
data_settled_at: {description: "With data_changes=apply, when the project stopped restarting after the data services came back (0 otherwise)", type: float, returned: always}
data_changes: {description: "Data services that differ from the release -> the settings that differ", type: dict, returned: with plan_only}
timeline: {description: "Steps and the seconds into the call they ended at, e.g. [traffic switched, 2.1]", type: list, returned: always}
"""

import fcntl
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stickforstats.deploy.plugins.module_utils._compose import RolloutError
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import (
    ROLLOUT_LOCK,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._redact import redact
from ansible_collections.stickforstats.deploy.plugins.module_utils._rollout import Rollout

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "project_src": {"type": "path", "required": True},
    "project_name": {"type": "str", "required": True},
    "files": {"type": "list", "elements": "str", "default": ["docker-compose.yml"]},
    "pull": {"type": "str", "choices": ["never", "missing"], "default": "never"},
    "strategy": {"type": "str", "choices": ["rolling", "recreate"], "default": "rolling"},
    "rolling": {"type": "dict", "default": {}},
    "overlap": {"type": "list", "elements": "str", "default": []},
    "keep": {"type": "list", "elements": "str", "default": []},
    "proxy_service": {"type": "str", "default": ""},
    "proxy_dir": {"type": "path", "required": True},
    "proxy_mount": {"type": "str", "default": "/etc/nginx/sfs"},
    "start_timeout": {"type": "int", "default": 120},
    "unhealthy_streak": {"type": "int", "default": 8},
    "drain_timeout": {"type": "int", "default": 30},
    "warm_window": {"type": "int", "default": 600},
    "deploy_lock": {"type": "path", "default": ""},
    "data_changes": {"type": "str", "choices": ["refuse", "apply", "leave"], "default": "refuse"},
    "plan_only": {"type": "bool", "default": False},
    "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=False)
    module.params["rolling"] = {k: int(v) for k, v in module.params["rolling"].items()}
    rollout = Rollout(module)
    os.makedirs(module.params["proxy_dir"], mode=0o750, exist_ok=True)
    with open(os.path.join(module.params["proxy_dir"], ROLLOUT_LOCK), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            result = rollout.apply()
        except RolloutError as exc:
            # masked here: ansible-core prints a failed task's msg even under no_log
            module.fail_json(
                msg=redact(str(exc), module.params["redact"]),
                started=rollout.started,
                changed=rollout.changed,
            )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
