"""Wait until the deployed application is healthy, or fail early when it cannot become so."""

# Ansible wants the documentation before the imports.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
---
module: health_check
version_added: 0.1.0
author: stickforstats-deploy engineers
short_description: Wait until the application answers healthy and its containers run
description:
  - Requests the application's health endpoint on the managed host again and again, until the
    answer is healthy or O(deadline) has passed.
  - An answer is healthy when its HTTP status is in O(expected_status) and every one of
    O(assertions) holds for its JSON body.
  - With O(project_name), every attempt also lists the containers of that Docker Compose
    project (C(docker compose -p PROJECT ps --all) and C(docker inspect)). They must all be
    running, and healthy when they have a health check.
  - A container that exited, is dead, is restarting, has restarted since O(since), or is
    unhealthy, and a service of O(services) without a container, make the module fail at once
    rather than at the deadline, as waiting will not help. A container only created, or whose
    health check is still starting, is waited for.
  - Restarts are judged against a baseline, O(since). A container whose current run started
    before it, and that runs now (healthy where it has a health check), restarted in the past
    (say, killed once by the kernel's OOM killer and brought back by its restart policy), so its
    restarts are reported in RV(notes) and do not fail the check. A container that (re)started
    at or after O(since) with restarts, or that exits or restarts during the check, fails it.
  - A container of a one-shot service (a job that runs and ends, such as C(collectstatic)),
    listed in O(oneshot_services) or labelled C(stickforstats.deploy.oneshot=true) in the
    compose file, may have exited with code 0; another exit code fails the check. Any other
    container that exited fails it, whatever its exit code and restart policy.
  - With O(rollout_state), a stopped container of a release that does not serve (its
    C(org.stickforstats.config) label is not the serving release's) is a leftover, named in
    RV(leftovers) and RV(notes), not a failure. A run killed after its switch leaves them; the
    next deploy or rollback removes them.
  - With O(stable_for), the checks must keep passing for that long before the module succeeds;
    a single unhealthy attempt starts the wait over.
  - >-
    The failure message is one line, with the first reasons, such as
    C(unhealthy after 7 attempts in 12.3 s: checks.database is "error", expected "ok").
notes:
  - Runs on the managed host, with the Python standard library only; the container checks need
    the C(docker) CLI with its Compose plugin there.
  - Proxy environment variables are ignored and redirects are not followed; a redirect is
    judged by its status like any other answer.
  - The last attempt starts at the latest at O(deadline), and may take up to O(timeout) more.
  - Container command lines are never returned, as they can hold secrets.
options:
  url:
    description:
      - URL of the health endpoint, C(http) or C(https), as reached from the managed host,
        for instance V(http://127.0.0.1/api/v1/health/).
    type: str
    required: true
  host_header:
    description:
      - Value of the C(Host) header, for an application that only answers for its own names,
        like Django with C(ALLOWED_HOSTS).
      - By default the host of O(url).
    type: str
  expected_status:
    description: HTTP statuses of a healthy answer.
    type: list
    elements: int
    default: [200]
  assertions:
    description:
      - Conditions on the JSON body of the answer, all of which must hold.
      - Each reads C(path == value), C(path != value) or C(path exists). The path is a dotted
        list of keys; a key made of digits also indexes a list, as in C(items.0.name). The value
        is a JSON literal, a string in double quotes, a number, V(true), V(false) or V(null).
      - The field must exist for any assertion to hold, C(!=) included.
      - An answer that is not JSON fails every assertion.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 3
  interval:
    description: Seconds to wait after an unhealthy attempt before the next one.
    type: float
    default: 1
  deadline:
    description: Seconds after which the module gives up and fails.
    type: float
    default: 120
  project_name:
    description:
      - Docker Compose project whose containers are checked at every attempt.
      - Containers are not checked when omitted.
    type: str
  services:
    description:
      - Services of O(project_name) that must have a container; the module fails at once when
        one has none.
      - Other containers of the project are checked too, whether listed here or not.
    type: list
    elements: str
  stable_for:
    description:
      - Seconds for which the checks must keep passing before the module succeeds.
      - V(0) succeeds on the first healthy attempt.
    type: float
    default: 0
  since:
    description:
      - The baseline, in seconds since the epoch on the managed host's clock, such as when the
        run took its deploy lock (RV(stickforstats.deploy.deploy_lock#module:lock.since_epoch)).
      - Restarts of a container that started before it and runs now (healthy where it has a
        health check) are history, reported in RV(notes); restarts of a container that
        (re)started at or after it fail the check.
      - By default the time the module starts, which forgives any restart before the check.
        V(0) counts every restart a container ever had.
      - A container whose start time Docker does not tell has all its restarts counted.
    type: float
  oneshot_services:
    description:
      - Services of O(project_name) whose containers run a job and end, such as an init or
        C(collectstatic) job; their containers may have exited with code 0.
      - A container labelled C(stickforstats.deploy.oneshot=true) (the compose file's
        C(labels) of the service) is one-shot too.
      - An exit with another code fails the check, as does a restart since O(since).
    type: list
    elements: str
    default: []
  rollout_state:
    description:
      - The rolling strategy's state file on the managed host (C(proxy/state.json), written by
        M(stickforstats.deploy.compose_rollout)), which names the containers the proxy sends the
        traffic to and the serving release's digest of each web and worker service.
      - A container of O(project_name) that is stopped (exited, dead, or created and never
        started), whose C(org.stickforstats.config) label is not the serving release's for its
        service, and whose service has another container, is a leftover of a release that does
        not serve (RV(leftovers)). Every other container is judged as usual, so the serving
        release's containers, data services and one-shot services are never leftovers.
      - Omitted, or a file that is missing or not a rolling strategy's state, every container is
        judged. The deploy's health gate omits it (the rollout removed what it replaced).
    type: path
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: full
    details: The checks only read, so they run in check mode as well.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The module only reads, so it never reports C(changed).
seealso:
  - module: ansible.builtin.uri
  - module: ansible.builtin.wait_for
"""

EXAMPLES = r"""
- name: Wait until the new release is healthy, failing at once if a container crashes
  stickforstats.deploy.health_check:
    url: http://127.0.0.1/api/v1/health/
    host_header: stickforstats.example.org
    assertions:
      - status == "ok"
      - checks.database == "ok"
      - checks.cache != "error"
      - version == "{{ stickforstats_version }}"
      - uptime_s exists
    project_name: stickforstats
    services: [db, redis, backend, asgi, worker, beat, frontend, nginx]
    deadline: 180
    stable_for: 10
  register: health

- name: The deploy is healthy; restarts before this run took its lock are history
  stickforstats.deploy.health_check:
    url: http://127.0.0.1/api/v1/health/
    project_name: stickforstats
    since: "{{ deploy_lock.lock.since_epoch }}"  # registered by stickforstats.deploy.deploy_lock
    oneshot_services: [collectstatic]  # may have exited 0

- name: Health now; stopped containers of a release that does not serve are leftovers
  stickforstats.deploy.health_check:
    url: http://127.0.0.1/api/v1/health/
    project_name: stickforstats
    rollout_state: /opt/stickforstats/proxy/state.json
    deadline: 5

- name: Show how long it took
  ansible.builtin.debug:
    msg: "healthy after {{ health.attempts }} attempts in {{ health.elapsed }} s"

- name: Only check that the endpoint answers 200 or 204, for half a minute
  stickforstats.deploy.health_check:
    url: http://127.0.0.1:8000/api/v1/health/
    expected_status: [200, 204]
    deadline: 30
    interval: 2
"""

RETURN = r"""
healthy:
  description: Whether the checks passed.
  returned: always
  type: bool
  sample: true
attempts:
  description: How many attempts were made.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds from the first attempt to the end of the last one.
  returned: always
  type: float
  sample: 2.147
last_status:
  description: HTTP status of the last answer, V(null) when there was none.
  returned: always
  type: int
  sample: 200
last_body:
  description: Body of the last answer, cut to its first 2000 characters.
  returned: always
  type: str
  sample: '{"status": "ok", "version": "c0ffee2", "checks": {"database": "ok", "cache": "ok"}}'
last_json:
  description: Body of the last answer parsed as JSON, V(null) when it is not JSON.
  returned: always
  type: raw
  sample:
    status: ok
    version: c0ffee2
    checks:
      database: ok
      cache: ok
reasons:
  description: Why the last attempt was not healthy; empty when it was.
  returned: always
  type: list
  elements: str
  sample:
    - HTTP status 503, expected 200
    - 'checks.database is "error: OperationalError", expected "ok"'
containers:
  description:
    - The containers of O(project_name) seen by the last attempt; empty without O(project_name).
    - Their command lines are left out, as they can hold secrets.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: Compose service of the container.
      type: str
      sample: backend
    name:
      description: Container name.
      type: str
      sample: stickforstats-backend-1
    state:
      description: Container state, such as V(running), V(exited) or V(restarting).
      type: str
      sample: running
    health:
      description: Health check status, V(healthy), V(unhealthy), V(starting), or empty without a health check.
      type: str
      sample: healthy
    exit_code:
      description: Exit code of the container's last run.
      type: int
      sample: 0
    restart_count:
      description: How often Docker restarted the container, V(null) when unknown.
      type: int
      sample: 0
    started_at:
      description: When the container's current run started (Docker's time, UTC), V(null) when unknown.
      type: str
      sample: "2026-12-03T09:00:00.123456789Z"
notes:
  description:
    - What the last attempt forgave; empty when nothing. Restarts before O(since) of containers
      that run now, and one-shot services that exited 0.
  returned: always
  type: list
  elements: str
  sample:
    - "container stickforstats_redis (redis) restarted 1 times before the baseline 2026-12-03T10:00:00Z;
      running since 2026-12-03T09:00:00Z"
leftovers:
  description:
    - With O(rollout_state), the stopped containers of a release that does not serve, left out of
      the judgement (same fields as RV(containers)); empty otherwise.
  returned: always
  type: list
  elements: dict
since:
  description: The baseline used, in seconds since the epoch (the host's clock).
  returned: always
  type: float
  sample: 1796292000.0
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.stickforstats.deploy.plugins.module_utils._health_check import (
    HealthCheck,
    validate,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "url": {"type": "str", "required": True},
    "host_header": {"type": "str"},
    "expected_status": {"type": "list", "elements": "int", "default": [200]},
    "assertions": {"type": "list", "elements": "str", "default": []},
    "timeout": {"type": "float", "default": 3},
    "interval": {"type": "float", "default": 1},
    "deadline": {"type": "float", "default": 120},
    "project_name": {"type": "str"},
    "services": {"type": "list", "elements": "str"},
    "stable_for": {"type": "float", "default": 0},
    "since": {"type": "float"},
    "oneshot_services": {"type": "list", "elements": "str", "default": []},
    "rollout_state": {"type": "path"},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    _, problems = validate(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    docker = "docker"
    if module.params["project_name"]:
        docker = module.get_bin_path("docker", required=True)

    def run_command(args: list[str]) -> tuple[int, str, str]:
        return module.run_command(args)

    result, message = HealthCheck(module.params, run_command=run_command, docker=docker).run()
    if message is not None:
        module.fail_json(msg=message, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
