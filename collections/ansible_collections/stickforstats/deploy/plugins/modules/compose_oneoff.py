#!/usr/bin/python
"""Runs a one-off command of a Compose service with a time limit (the migration)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compose_oneoff
short_description: Run a one-off command of a Compose service, stopped and removed at a time limit
version_added: 0.1.0
author: stickforstats-deploy engineers
description:
  - Runs C(docker compose run --rm -T --name <name> <service> <argv>) on the target, as the
    migration of a release does, and waits at most O(timeout) seconds for it.
  - When the limit passes, the container (found by the name the module gave it) is stopped
    (O(stop_grace) seconds, then killed) and removed, the C(docker compose) client is ended,
    and the module fails with C(timed_out=true); no container of the run keeps running.
  - The same happens when the module itself is told to stop (SIGTERM, SIGHUP).
  - Nothing secret goes on the command line, Compose reads the env files itself. The output
    may hold what the command printed (secrets included); hide the result with C(no_log) and
    show it redacted.
options:
  project_src:
    description: Directory of the release (the Compose project directory).
    type: path
    required: true
  project_name:
    description: Compose project name.
    type: str
    required: true
  files:
    description: Compose files, relative to O(project_src).
    type: list
    elements: str
    default: [docker-compose.yml]
  service:
    description: Service whose image and settings run the command.
    type: str
    required: true
  argv:
    description: The command, one argument per element (it replaces the service's command).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds the whole run may take, starting the services it depends on included.
    type: int
    required: true
  no_deps:
    description:
      - Start none of the services the command's service depends on. Compose's C(run) otherwise
        starts them, and recreates one whose settings changed (a data service, before anything
        was checked); the deploy sets it once a release serves, whose data services run.
    type: bool
    default: false
  stop_grace:
    description: Seconds the command gets to stop after SIGTERM, once the limit passed, before it is killed.
    type: int
    default: 10
  redact:
    description:
      - Secret values (the vault's) masked in the command's output lines and in the message,
        in every form the collection writes them (see the C(redact) filter). ansible-core
        prints a failed task's message even under C(no_log).
    type: list
    elements: str
    default: []
  output_lines:
    description: How many of the last output lines (stdout and stderr, without Compose's progress) to return.
    type: int
    default: 10
extends_documentation_fragment:
  - stickforstats.deploy.attributes
  - stickforstats.deploy.attributes.idempotent
  - stickforstats.deploy.attributes.platform
attributes:
  check_mode:
    support: none
    details: Runs nothing in check mode (skipped).
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every call runs the command.
"""

EXAMPLES = r"""
- name: The migration has run within 10 minutes
  stickforstats.deploy.compose_oneoff:
    project_src: /opt/stickforstats/releases/c0ffee2
    project_name: stickforstats
    service: backend
    argv: [python, manage.py, migrate, --noinput]
    timeout: 600
  register: migration
  no_log: true  # what the command printed may hold secrets
"""

RETURN = r"""
rc:
  description: Exit code of C(docker compose run) (the command's own, when it ran); V(null) when the limit passed.
  type: int
  returned: always
timed_out:
  description: Whether the limit passed (the container was then stopped and removed).
  type: bool
  returned: always
elapsed:
  description: Seconds the run took.
  type: float
  returned: always
container:
  description: Name given to the one-off container.
  type: str
  returned: always
removed:
  description: Whether no container of that name is left on the host.
  type: bool
  returned: always
output_lines:
  description: The last output lines, Compose's progress lines left out, each cut at 300 characters.
  type: list
  elements: str
  returned: always
"""

import collections  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._redact import (  # noqa: E402
    redact,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "project_src": {"type": "path", "required": True},
    "project_name": {"type": "str", "required": True},
    "files": {"type": "list", "elements": "str", "default": ["docker-compose.yml"]},
    "service": {"type": "str", "required": True},
    "argv": {"type": "list", "elements": "str", "required": True},
    "timeout": {"type": "int", "required": True},
    "stop_grace": {"type": "int", "default": 10},
    "no_deps": {"type": "bool", "default": False},
    "output_lines": {"type": "int", "default": 10},
    "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
}

PROGRESS = re.compile(
    r"^\s*(Container|Network|Volume) \S+\s+"
    r"(Running|Started|Starting|Creating|Created|Waiting|Healthy|Recreated?|Stopping|Stopped)$"
)


class StopRequestedError(Exception):
    """The module was told to stop (SIGTERM, SIGHUP) while the command ran."""


@dataclass
class Outcome:
    rc: int | None
    timed_out: bool
    elapsed: float
    lines: list[str] = field(default_factory=list)


def container_name(project: str, service: str) -> str:
    """A name no other run picks, in Compose's style for one-off containers."""
    return f"{project}-{service}-oneoff-{secrets.token_hex(6)}"


def compose_run_argv(
    project_src: str, project_name: str, files: list[str], service: str, name: str,
    argv: list[str], no_deps: bool = False,
) -> list[str]:  # fmt: skip
    compose = ["docker", "compose", "-p", project_name, "--project-directory", project_src]
    for path in files:
        compose += ["-f", os.path.join(project_src, path)]
    deps = ["--no-deps"] if no_deps else []
    return [*compose, "run", "--rm", "-T", *deps, "--name", name, service, *argv]


def last_lines(lines: list[str], count: int) -> list[str]:
    """The last COUNT lines that are not empty nor Compose's progress, each cut at 300 characters."""
    kept = [line.rstrip() for line in lines if line.strip() and not PROGRESS.match(line.rstrip())]
    return [line[:300] for line in kept[-count:]] if count > 0 else []


def run_limited(
    argv: list[str], timeout: float, on_timeout: Callable[[], None], grace: float = 10
) -> Outcome:
    """Runs ARGV (its own session, output read as it comes); past TIMEOUT seconds, calls
    ON_TIMEOUT (which should make it end), then ends its process group, GRACE seconds
    between the steps: on its own, SIGTERM, SIGKILL."""
    started = time.monotonic()
    lines: collections.deque[str] = collections.deque(maxlen=500)
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, env={**os.environ, "COMPOSE_PROGRESS": "quiet"},
    )  # fmt: skip

    def read() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            lines.append(raw.decode("utf-8", "replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, StopRequestedError):
        timed_out = True
        try:
            on_timeout()
        finally:
            end_group(proc, grace)
    reader.join(timeout=5)
    rc = None if timed_out else proc.returncode
    return Outcome(rc, timed_out, round(time.monotonic() - started, 1), list(lines))


def end_group(proc: subprocess.Popen, grace: float = 10) -> None:
    """Ends PROC and its group: a moment to exit on its own, then SIGTERM, then SIGKILL."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def remove_container(name: str, grace: int) -> bool:
    """Stops (GRACE seconds, then killed) and removes container NAME; True when none is left."""
    subprocess.run(
        ["docker", "stop", "--time", str(grace), name],
        capture_output=True, timeout=grace + 60, check=False,
    )  # fmt: skip
    subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60, check=False)
    return not container_exists(name)


def container_exists(name: str) -> bool:
    listed = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"name=^/?{re.escape(name)}$"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return bool(listed.stdout.strip()) or listed.returncode != 0


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP (a cancelled run, a cut connection) end the wait as a timeout does."""

    def stop(signum: int, frame: object) -> None:
        raise StopRequestedError(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, stop)
        except ValueError:  # not the main thread (an in-process runner): the limit still holds
            pass


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=False)
    p = module.params
    if p["timeout"] <= 0:
        module.fail_json(msg=f"timeout must be a number of seconds above 0, not {p['timeout']}")
    if not p["argv"]:
        module.fail_json(msg="argv must name a command")
    name = container_name(p["project_name"], p["service"])
    argv = compose_run_argv(
        p["project_src"], p["project_name"], p["files"], p["service"], name, p["argv"],
        no_deps=p["no_deps"],
    )  # fmt: skip
    removed: list[bool] = []
    stop_on_signals()
    try:
        outcome = run_limited(
            argv, p["timeout"], lambda: removed.append(remove_container(name, p["stop_grace"]))
        )
    except OSError as exc:
        module.fail_json(msg=f"docker compose run could not start: {exc}", container=name)
    if outcome.timed_out:
        # the client may have created the container just before it ended
        removed.append(remove_container(name, p["stop_grace"]))
    else:
        removed.append(not container_exists(name))
    lines = [redact(line, p["redact"]) for line in last_lines(outcome.lines, p["output_lines"])]
    result = {
        "changed": True,
        "rc": outcome.rc,
        "timed_out": outcome.timed_out,
        "elapsed": outcome.elapsed,
        "container": name,
        "removed": removed[-1],
        "output_lines": lines,
    }
    output = "last output: " + " | ".join(lines) if lines else "no output"
    if outcome.timed_out:
        left = "removed" if removed[-1] else f"NOT removed (docker rm -f {name})"
        module.fail_json(
            msg=f"the command was stopped after {p['timeout']} s and its container {left}; {output}",
            **result,
        )
    if outcome.rc != 0:
        module.fail_json(msg=output, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
