"""The rolling strategy's front door: nginx route files, reload, put-back, retire job, state.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice.

``compose_rollout`` keeps in its proxy directory (mounted into the nginx
container) the upstream blocks (``upstreams.conf``) and one map file per web
service (``<service>.map``) that send the traffic to named containers, the
state file (``state.json``: the release that serves, the containers the proxy
sends to, the warm ones) and the retire job that stops warm containers later.
:func:`read_state` is how others (``health_check``'s ``rollout_state``) read it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

MARK = "# Written by stickforstats.deploy.compose_rollout on every deploy: do not edit.\n"
STATE_FILE = "state.json"
ROLLOUT_LOCK = "rollout.lock"
"""Held while compose_rollout runs; the detached retire job takes it too."""
UPSTREAMS = "upstreams.conf"
RELOAD = "nginx -t -q && nginx -s reload"
"""One ``docker exec`` tests the configuration, then reloads only if it is valid."""

Runner = Callable[..., str]
"""Runs a command (``run(argv, check=True)``) and returns its output; raises when it fails."""


def read_state(path: str) -> dict[str, Any]:
    """The rollout's state file at PATH; ``{}`` when missing, unreadable or not an object.

    Keys: ``strategy`` (``rolling`` or ``recreate``), ``release`` (its directory)
    and, for ``rolling``, ``active`` (service to the containers the proxy sends
    to), ``warm``, ``warm_until`` and ``configs`` (service to the serving
    release's ``CONFIG_LABEL``).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def rolling_state(
    release: str,
    active: dict[str, list[str]],
    warm: list[str],
    warm_until: float,
    configs: dict[str, str],
) -> str:
    """The state file's text after a rolling switch."""
    return json.dumps({
        "strategy": "rolling", "release": release, "configs": configs,
        "active": {s: sorted(n) for s, n in active.items()},
        "warm": warm, "warm_until": warm_until,
    }, sort_keys=True) + "\n"  # fmt: skip


def recreate_state(release: str) -> str:
    """The state file's text after the recreate strategy ran (Docker's DNS routes)."""
    return json.dumps({"strategy": "recreate", "release": release}) + "\n"


def _is_route(name: str) -> bool:
    return name == UPSTREAMS or name.endswith(".map")


class ProxyDir:
    """The proxy directory on the host: atomic writes, the route files, the state."""

    def __init__(self, path: str) -> None:
        self.path = path

    def write(self, name: str, text: str) -> bool:
        """Atomically replace PATH/name; True when its content changed."""
        path = os.path.join(self.path, name)
        try:
            with open(path, encoding="utf-8") as fh:
                if fh.read() == text:
                    return False
        except OSError:
            pass
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)  # the override holds digests of the settings: not for everyone
        os.replace(tmp, path)
        return True

    def remove(self, name: str) -> bool:
        try:
            os.unlink(os.path.join(self.path, name))
            return True
        except FileNotFoundError:
            return False

    def read_state(self) -> dict[str, Any]:
        return read_state(os.path.join(self.path, STATE_FILE))

    def has_routes(self) -> bool:
        """Whether the upstream file exists (without it nginx goes by Docker's DNS)."""
        return os.path.exists(os.path.join(self.path, UPSTREAMS))

    def route_files(self) -> dict[str, str]:
        """The upstream and map files as they are now (to put back if a reload fails)."""
        files = {}
        for name in os.listdir(self.path):
            if _is_route(name):
                with open(os.path.join(self.path, name), encoding="utf-8") as fh:
                    files[name] = fh.read()
        return files

    def put_back(self, files: dict[str, str]) -> None:
        """The route files as :meth:`route_files` read them."""
        for name in os.listdir(self.path):
            if _is_route(name) and name not in files:
                self.remove(name)
        for name, text in files.items():
            self.write(name, text)

    def routes(self, targets: dict[str, list[str]], ports: dict[str, int]) -> bool:
        """Upstream blocks and map lines sending each service's traffic to the containers
        TARGETS names (on the service's port in PORTS); without targets, no route files
        (Docker's DNS). True if a file changed."""
        changed = False
        if targets:
            blocks = [
                f"upstream sfs_{svc} {{\n"
                + "".join(f"  server {name}:{ports[svc]};\n" for name in sorted(names))
                + "}\n"
                for svc, names in sorted(targets.items())
            ]
            changed |= self.write(UPSTREAMS, MARK + "".join(blocks))
            for svc in targets:
                changed |= self.write(f"{svc}.map", MARK + f"http http://sfs_{svc};\n")
        else:
            for name in os.listdir(self.path):
                if _is_route(name):
                    changed |= self.remove(name)
        return changed


def reload(run: Runner, proxy_id: str) -> None:
    """Test nginx's configuration and reload it gracefully, in one ``docker exec``.

    An invalid configuration fails the command (its last line in the error) and
    nginx keeps serving the one it has.
    """
    run(["docker", "exec", proxy_id, "sh", "-c", RELOAD])


def drained(run: Runner, proxy_id: str, timeout: float) -> None:
    """Until nginx's old worker processes (after a reload) are gone, bounded by TIMEOUT."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        top = run(["docker", "top", proxy_id, "-o", "args"], check=False)
        if "shutting down" not in top:
            return
        time.sleep(0.25)


RETIRE = (
    MARK
    + r"""# retire.sh DIR DRAIN LOCK ID=NAME...: stops each container (by id) unless
# upstreams.conf names it again (a rollback switched back to it). While a deploy
# or rollback holds LOCK it leaves them: that run removes the warm containers it
# no longer needs, or schedules this again.
dir=$1; drain=$2; lock=$3; shift 3
if [ -n "$lock" ] && [ -e "$lock" ]; then
  echo "$(date -u +%FT%TZ) a deploy or rollback runs: $* left to it"
  exit 0
fi
for pair in "$@"; do
  id=${pair%%=*}; name=${pair#*=}
  if grep -q "server $name:" "$dir/upstreams.conf" 2>/dev/null; then
    echo "$(date -u +%FT%TZ) $name serves again: kept"
    continue
  fi
  docker stop --time "$drain" "$id" >/dev/null 2>&1 && docker rm "$id" >/dev/null 2>&1 \
    && echo "$(date -u +%FT%TZ) $name retired"
done
"""
)


def retire_later(
    proxy: ProxyDir, pairs: list[str], delay: int, drain_timeout: int, deploy_lock: str
) -> None:
    """A detached job: after DELAY seconds, stop warm containers the proxy no longer sends to.

    PAIRS are ``id=name``: it names them by id (Compose may give a later container
    the same name), waits while a deploy or rollback holds DEPLOY_LOCK (bounded),
    then takes the rollout lock (``rollout.lock``, which the module holds while it runs).
    """
    if not pairs:
        return
    script = os.path.join(proxy.path, "retire.sh")
    proxy.write("retire.sh", RETIRE)
    lock = os.path.join(proxy.path, ROLLOUT_LOCK)
    argv = ["flock", lock, "sh", script, proxy.path, str(drain_timeout), deploy_lock, *pairs]
    wait = (
        f'n=0; while [ -e {shlex.quote(deploy_lock)} ] && [ "$n" -lt 60 ]; '
        "do sleep 30; n=$((n + 1)); done; "
        if deploy_lock
        else ""
    )
    log_path = os.path.join(proxy.path, "retire.log")
    with open(os.devnull, "rb") as null_in, open(log_path, "ab") as log:
        subprocess.Popen(
            ["sh", "-c", f"sleep {int(delay)}; {wait}exec " + " ".join(shlex.quote(x) for x in argv)],
            stdin=null_in, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        )  # fmt: skip
