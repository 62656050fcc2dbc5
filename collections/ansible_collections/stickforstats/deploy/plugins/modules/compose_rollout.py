#!/usr/bin/python
"""Bring a release's Compose services up without dropping a request."""

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
    and C(<service>*.map) from it (see the collection README, "Zero downtime").
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

import fcntl  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shlex  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.stickforstats.deploy.plugins.module_utils._data_services import (  # noqa: E402
    CONFIG_LABEL,
    SETTINGS_LABEL,
    changed_settings,
    readable_changes,
    setting_digests,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._redact import (  # noqa: E402
    redact,
)

LABEL = CONFIG_LABEL  # a release's web containers: the digest of all their settings
MARK = "# Written by stickforstats.deploy.compose_rollout on every deploy: do not edit.\n"


class RolloutError(Exception):
    pass


class Rollout:
    def __init__(self, module: AnsibleModule) -> None:
        self.m = module
        self.p = module.params
        self.src = self.p["project_src"]
        self.project = self.p["project_name"]
        self.proxy = self.p["proxy_service"]
        self.dir = self.p["proxy_dir"]
        self.override = os.path.join(self.dir, "compose.override.yml")
        self.started: list[str] = []
        self.recreated: list[str] = []
        self.changed = False
        self.data_settled_at = 0.0  # when the clients of a recreated data service settled
        self.pull = ["--pull", module.params["pull"]]
        self.t0 = time.monotonic()
        self.timeline: list[list] = []

    def mark(self, what: str) -> None:
        self.timeline.append([what, round(time.monotonic() - self.t0, 2)])

    # -- commands ------------------------------------------------------------
    def run(self, argv: list[str], check: bool = True) -> str:
        rc, out, err = self.m.run_command(argv, environ_update={"COMPOSE_PROGRESS": "quiet"})
        if check and rc != 0:
            # Compose and Docker errors name files and services, never env values.
            last = [line for line in (err or out).strip().splitlines() if line.strip()][-1:]
            raise RolloutError(
                f"`{' '.join(shlex.quote(a) for a in argv[:6])} ...` exited {rc}: "
                + (last[0] if last else "no output")
            )
        return out

    def compose(self, *args: str) -> str:
        argv = [
            "docker",
            "compose",
            "--project-name",
            self.project,
            "--project-directory",
            self.src,
        ]
        for name in self.p["files"]:
            argv += ["--file", os.path.join(self.src, name)]
        argv += ["--file", self.override]
        return self.run(argv + list(args))

    # -- state on the host ---------------------------------------------------
    def config(self) -> tuple[dict, dict]:
        """The release's services as Compose resolves them, and a digest of each."""
        self.write_override({})
        services = json.loads(self.compose("config", "--format", "json"))["services"]
        return services, {name: config_digest(spec) for name, spec in services.items()}

    def write_override(
        self, labels: dict[str, str], settings: dict[str, str] | None = None
    ) -> None:
        """The proxy's mount of proxy_dir, and a label on the containers a release runs.

        The label (a digest of the service's resolved settings) tells the
        containers of this release from the others. Compose's own config-hash
        label cannot: it hashes a service without depends_on under --no-deps.
        """
        services: dict[str, dict] = {}
        if self.proxy:
            services[self.proxy] = {"volumes": [{
                "type": "bind", "source": self.dir, "target": self.p["proxy_mount"], "read_only": True,
            }]}  # fmt: skip
        for svc, value in labels.items():
            services.setdefault(svc, {})["labels"] = {LABEL: value}
        for svc, value in (settings or {}).items():
            services.setdefault(svc, {}).setdefault("labels", {})[SETTINGS_LABEL] = value
        self.write(
            "compose.override.yml",
            MARK + json.dumps({"services": services}, indent=2, sort_keys=True) + "\n",
        )

    def containers(self) -> list[dict]:
        ids = self.run(
            [
                "docker",
                "ps",
                "--all",
                "--quiet",
                "--no-trunc",
                "--filter",
                f"label=com.docker.compose.project={self.project}",
            ]
        ).split()
        if not ids:
            return []
        out = []
        for c in json.loads(self.run(["docker", "inspect", *ids])):
            labels = c["Config"].get("Labels") or {}
            if labels.get("com.docker.compose.oneoff") == "True":
                continue
            state = c["State"]
            nets = (c.get("NetworkSettings") or {}).get("Networks") or {}
            out.append({
                "id": c["Id"],
                "name": c["Name"].lstrip("/"),
                "service": labels.get("com.docker.compose.service", ""),
                "digest": labels.get(LABEL, ""),
                "settings": labels.get(SETTINGS_LABEL, ""),
                "command": c["Config"].get("Cmd"),
                "healthcheck": (c["Config"].get("Healthcheck") or {}).get("Test"),
                "ports": sorted(
                    f"{port.split('/')[0]}:{b.get('HostPort', '')}"
                    for port, binds in ((c.get("HostConfig") or {}).get("PortBindings") or {}).items()
                    for b in binds or [{}]
                ),
                "compose_hash": labels.get("com.docker.compose.config-hash", ""),
                "running": bool(state.get("Running")) and not state.get("Restarting"),
                "status": state.get("Status", ""),
                "exit_code": state.get("ExitCode", 0),
                "restarts": c.get("RestartCount", 0),
                "health": (state.get("Health") or {}).get("Status"),
                "streak": (state.get("Health") or {}).get("FailingStreak", 0),
                "probe": last_probe(state.get("Health") or {}),
                "ip": next((n.get("IPAddress") for n in nets.values() if n.get("IPAddress")), ""),
                "image": c["Config"].get("Image", ""),
                "env": sorted(c["Config"].get("Env") or []),
                "mounts": [(mt.get("Source", ""), mt.get("Destination", "")) for mt in c.get("Mounts") or []],
            })  # fmt: skip
        return out

    def read_state(self) -> dict:
        try:
            with open(os.path.join(self.dir, "state.json"), encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return {}

    def write(self, name: str, text: str) -> bool:
        """Atomically replace proxy_dir/name; True when its content changed."""
        path = os.path.join(self.dir, name)
        try:
            with open(path, encoding="utf-8") as fh:
                if fh.read() == text:
                    return False
        except OSError:
            pass
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)  # the override holds digests of the settings: not for everyone
        os.replace(tmp, path)
        return True

    def remove(self, name: str) -> bool:
        try:
            os.unlink(os.path.join(self.dir, name))
            return True
        except FileNotFoundError:
            return False

    # -- readiness -----------------------------------------------------------
    def wait_ready(
        self, names: list[str], ports: dict[str, int], what: str, new: set[str]
    ) -> list[dict]:
        """Until every named container is healthy (or serves its port), bounded.

        A new container that restarted fails at once; an older one (warm, or
        serving already) only has to run and be healthy now.
        """
        deadline = time.monotonic() + self.p["start_timeout"]
        seen_open: dict[str, int] = {}
        while True:
            listed = self.containers()
            by_name = {c["name"]: c for c in listed}
            pending = []
            for name in names:
                c = by_name.get(name)
                if c is None:
                    raise RolloutError(f"{what}: container {name} disappeared")
                restarted = c["restarts"] > 0 and name in new
                if c["status"] in ("exited", "dead", "restarting") or restarted:
                    raise RolloutError(
                        f"{what}: container {name} stopped (status {c['status']}, exit code {c['exit_code']})"
                    )
                if c["health"] == "unhealthy" or c["streak"] >= self.p["unhealthy_streak"]:
                    raise RolloutError(
                        f"{what}: container {name} fails its healthcheck ({c['streak']} times in a row"
                        + (f", last: {c['probe']})" if c["probe"] else ")")
                    )
                if c["health"] == "healthy":
                    continue
                # Without a healthcheck: running (and accepting on its port, if it has
                # one) for three polls in a row when new (1.5 s), for one when it was.
                port = ports.get(c["service"])
                if (
                    c["health"] is None
                    and c["running"]
                    and (not port or self.accepts(c["ip"], port))
                ):
                    seen_open[name] = seen_open.get(name, 0) + 1
                    if seen_open[name] >= (3 if name in new else 1):
                        continue
                else:
                    seen_open[name] = 0
                pending.append(f"{name} ({c['health'] or c['status']})")
            if not pending:
                return listed
            if time.monotonic() > deadline:
                raise RolloutError(
                    f"{what}: not ready after {self.p['start_timeout']} s: {', '.join(pending)}"
                )
            time.sleep(0.5)

    @staticmethod
    def accepts(ip: str, port: int) -> bool:
        if not ip:
            return False
        try:
            with socket.create_connection((ip, port), timeout=1):
                return True
        except OSError:
            return False

    # -- proxy ---------------------------------------------------------------
    def proxy_container(self, containers: list[dict]) -> dict | None:
        return next((c for c in containers if c["service"] == self.proxy and c["running"]), None)

    def reload_proxy(self, proxy: dict) -> None:
        self.run(["docker", "exec", proxy["id"], "nginx", "-t", "-q"])
        self.run(["docker", "exec", proxy["id"], "nginx", "-s", "reload"])

    def route_files(self) -> dict[str, str]:
        """The upstream and map files as they are now (to put back if a reload fails)."""
        files = {}
        for name in os.listdir(self.dir):
            if name == "upstreams.conf" or name.endswith(".map"):
                with open(os.path.join(self.dir, name), encoding="utf-8") as fh:
                    files[name] = fh.read()
        return files

    def put_back(self, files: dict[str, str]) -> None:
        for name in os.listdir(self.dir):
            if (name == "upstreams.conf" or name.endswith(".map")) and name not in files:
                self.remove(name)
        for name, text in files.items():
            self.write(name, text)

    def drained(self, proxy: dict) -> None:
        """Until nginx's old worker processes (after a reload) are gone, bounded."""
        deadline = time.monotonic() + self.p["drain_timeout"]
        while time.monotonic() < deadline:
            top = self.run(["docker", "top", proxy["id"], "-o", "args"], check=False)
            if "shutting down" not in top:
                return
            time.sleep(0.25)

    def routes(self, targets: dict[str, list[str]]) -> bool:
        """Upstream blocks and map lines for the rolling services; True if changed."""
        changed = False
        if targets:
            blocks = [
                f"upstream sfs_{svc} {{\n"
                + "".join(f"  server {name}:{self.p['rolling'][svc]};\n" for name in sorted(names))
                + "}\n"
                for svc, names in sorted(targets.items())
            ]
            changed |= self.write("upstreams.conf", MARK + "".join(blocks))
            for svc in targets:
                changed |= self.write(f"{svc}.map", MARK + f"http http://sfs_{svc};\n")
        else:
            for name in os.listdir(self.dir):
                if name == "upstreams.conf" or name.endswith(".map"):
                    changed |= self.remove(name)
        return changed

    # -- keep services -------------------------------------------------------
    def settings(self, spec: dict) -> dict[str, str]:
        """{setting: digest} of a data service: what Compose would recreate it for."""
        found = setting_digests(spec)
        for vol in spec.get("volumes") or []:
            if vol.get("type") == "bind" and vol.get("target") != self.p["proxy_mount"]:
                found[f"files at {vol['target']}"] = digest(vol["source"])[:12]
        return found

    def differing_data(
        self, services: dict, by_service: dict[str, list[dict]]
    ) -> dict[str, list[str]]:
        """Running data services that differ from the release -> the settings that differ."""
        changed: dict[str, list[str]] = {}
        for svc in [s for s in self.p["keep"] if s != self.proxy]:
            running = [c for c in by_service.get(svc, []) if c["running"]]
            if not running:
                continue
            have = running[0]["settings"]
            if have:
                differs = changed_settings(json.loads(have), self.settings(services[svc]))
            else:  # created without the label (by a migration's dependencies, or before it existed)
                differs = readable_changes(services[svc], running[0])
                if not differs and self.drifted(svc, services[svc], running):
                    differs = ["image, environment or mounted files"]
            if differs:
                changed[svc] = differs
        return changed

    def data_changes(
        self, services: dict, by_service: dict[str, list[dict]]
    ) -> dict[str, list[str]]:
        """Running data services that differ from the release -> what differs; refused when asked."""
        changed = self.differing_data(services, by_service)
        if changed and self.p["data_changes"] == "refuse":
            said = "; ".join(f"{svc}: {', '.join(keys)}" for svc, keys in sorted(changed.items()))
            raise RolloutError(
                f"Data services changed since the release that serves ({said}). The rolling strategy"
                " never restarts a data service under traffic, and nothing was changed. Apply it with"
                " -e deploy_data_service_changes=apply (recreated once the new web containers serve;"
                " its clients lose their connections while it restarts), or deploy with the recreate"
                " strategy."
            )
        for svc in changed if self.p["data_changes"] == "leave" else []:
            self.m.warn(
                f"{svc}: {', '.join(changed[svc])} differ from this release: left as it runs"
            )
        return changed

    def settled(self, quiet_polls: int = 3) -> float:
        """When the project's containers stopped restarting after a data service came back.

        Its clients may crash while it is away and be restarted by Docker: the time
        returned is after the last of those restarts (bounded by start_timeout).
        """
        deadline = time.monotonic() + self.p["start_timeout"]
        last, quiet = None, 0
        while time.monotonic() < deadline and quiet < quiet_polls:
            now = sorted((c["id"], c["restarts"], c["running"]) for c in self.containers())
            quiet = quiet + 1 if now == last else 0
            last = now
            time.sleep(1)
        return time.time()

    def drifted(self, svc: str, spec: dict, running: list[dict]) -> bool:
        """A kept service's container differs from the release in what matters to it."""
        if not running:
            return False
        c = running[0]
        if svc == self.proxy and (self.dir, self.p["proxy_mount"]) not in c["mounts"]:
            return True  # created by something else (a compose up by hand): no upstream files
        if spec.get("image") and spec["image"] != c["image"]:
            return True
        want_env = spec.get("environment") or {}
        have = dict(item.split("=", 1) for item in c["env"] if "=" in item)
        # `config` writes a literal $ as $$ (so that its output reads back the same).
        if any(
            v is not None and have.get(k) != str(v).replace("$$", "$") for k, v in want_env.items()
        ):
            return True
        want = {}
        for vol in spec.get("volumes") or []:
            if vol.get("type") == "bind" and vol["target"] != self.p["proxy_mount"]:
                want[vol["target"]] = digest(vol["source"])
        have_mounts = {dst: digest(src) for src, dst in c["mounts"] if dst in want}
        return want != have_mounts

    # -- the rollout ---------------------------------------------------------
    def apply(self) -> dict:
        os.makedirs(self.dir, mode=0o750, exist_ok=True)
        services, digests = self.config()
        self.mark("config read")
        unknown = sorted(
            (set(self.p["rolling"]) | set(self.p["overlap"]) | set(self.p["keep"])) - set(services)
        )
        if self.proxy and self.proxy not in services:
            unknown.append(self.proxy)
        if unknown:
            raise RolloutError(
                f"not services of the compose file: {', '.join(sorted(set(unknown)))}"
            )
        named = [
            s
            for s in list(self.p["rolling"]) + self.p["overlap"]
            if services[s].get("container_name")
        ]
        if self.p["rolling"] and not self.proxy and self.p["strategy"] == "rolling":
            raise RolloutError(
                "the rolling strategy needs the proxy service in front of the web services"
            )
        if named and self.p["strategy"] == "rolling":
            raise RolloutError(
                "container_name forbids a second container of "
                + ", ".join(named)
                + ": remove container_name from these services, or deploy them with the recreate strategy"
            )
        keep_settings = {
            s: json.dumps(self.settings(services[s]), sort_keys=True)
            for s in self.p["keep"]
            if s != self.proxy
        }
        if self.p["strategy"] == "recreate" or not (
            self.p["rolling"] or self.p["overlap"] or self.p["keep"]
        ):
            # A running data service whose settings did not change is kept as it runs (its
            # label, with or without it, and its container): Compose recreates only the others.
            by_service: dict[str, list[dict]] = {}
            for c in self.containers():
                if c["running"]:
                    by_service.setdefault(c["service"], []).append(c)
            changed = self.differing_data(services, by_service)
            unchanged = sorted(s for s in keep_settings if s in by_service and s not in changed)
            unlabelled = {s for s in unchanged if not by_service[s][0]["settings"]}
            self.write_override({}, {s: v for s, v in keep_settings.items() if s not in unlabelled})
            return self.recreate(services, unchanged)
        self.write_override(
            {s: digests[s] for s in list(self.p["rolling"]) + self.p["overlap"]},
            keep_settings,
        )  # fmt: skip
        if self.p["plan_only"]:
            containers = self.containers()
            by_service: dict[str, list[dict]] = {}
            for c in containers:
                by_service.setdefault(c["service"], []).append(c)
            changed = self.data_changes(services, by_service)
            return {"changed": False, "data_changes": changed, "timeline": self.timeline}
        return self.rolling(services, digests)

    def recreate(self, services: dict, unchanged: list[str]) -> dict:
        """`up` as Compose does it, except for the running data services in UNCHANGED:
        Compose would recreate them for any difference in its own hash (a label, an
        image pulled again under the same tag); they stay as they run."""
        before = {c["id"]: c["compose_hash"] for c in self.containers()}
        changed_routes = self.routes({})
        if unchanged:
            rest = [s for s in services if s not in unchanged]
            self.compose("up", "--detach", "--no-deps", "--remove-orphans", "--no-build",
                         *self.pull, *rest)  # fmt: skip
        else:
            self.compose("up", "--detach", "--remove-orphans", "--no-build", *self.pull)
        after = self.containers()
        self.recreated = sorted(
            {c["service"] for c in after if before.get(c["id"]) != c["compose_hash"]}
        )
        self.changed = bool(self.recreated) or changed_routes
        proxy = self.proxy_container(after)
        was_rolling = self.read_state().get("strategy") == "rolling"
        if proxy and (changed_routes or was_rolling) and proxy["service"] not in self.recreated:
            self.reload_proxy(proxy)  # back to Docker's DNS
        self.write("state.json", json.dumps({"strategy": "recreate", "release": self.src}) + "\n")
        return self.result(after, [], [], 0.0)

    def rolling(self, services: dict, digests: dict) -> dict:
        p = self.p
        state = self.read_state()
        containers = self.containers()
        by_service: dict[str, list[dict]] = {}
        for c in containers:
            by_service.setdefault(c["service"], []).append(c)

        # 1. Data services: created or started if missing, never recreated for a release.
        keep = [s for s in p["keep"] if s != self.proxy]
        changed_data = self.data_changes(services, by_service)
        for svc in keep:
            running = [c for c in by_service.get(svc, []) if c["running"]]
            if not running:
                self.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull,
                             "--wait", "--wait-timeout", str(p["start_timeout"]), svc)  # fmt: skip
                self.recreated.append(svc)

        # 2. Web services: targets are running containers of this release's config;
        #    the others that serve now stay until the switch; the rest go.
        active_names = (state.get("active") or {}) if state.get("strategy") == "rolling" else {}
        targets: dict[str, list[str]] = {}
        previous: dict[str, list[dict]] = {}
        scale: dict[str, int] = {}
        stale: dict[str, list[dict]] = {}
        serving_before: dict[str, list[str]] = {}
        for svc in p["rolling"]:
            mine = [
                c for c in by_service.get(svc, []) if c["digest"] == digests[svc] and c["running"]
            ]
            running = [c for c in by_service.get(svc, []) if c["running"]]
            # What serves now: the containers the upstream files name; when none of
            # them runs (the state is stale: something else ran `compose up`), every
            # running one, as Docker's DNS sends traffic to all of them.
            active = [c for c in running if c["name"] in active_names.get(svc, [])]
            serving_before[svc] = [c["name"] for c in (active or running)]
            serving = [c for c in (active or running) if c not in mine]
            stale[svc] = [c for c in by_service.get(svc, []) if c not in mine and c not in serving]
            previous[svc] = serving
            targets[svc] = [c["name"] for c in mine]
            if not mine:
                # Compose counts every container of a service when it scales:
                # the ones kept (serving, warm) plus as many new as serve now.
                scale[svc] = len(running) + max(1, len(serving))
        new: list[dict] = []
        proxy = self.proxy_container(containers)
        if (
            scale
            and proxy is not None
            and not os.path.exists(os.path.join(self.dir, "upstreams.conf"))
        ):
            # nginx resolves the services through Docker's DNS until the upstream files
            # exist, and DNS names a new container as soon as it starts: pin what serves.
            if self.routes(
                {svc: serving_before[svc] for svc in p["rolling"] if serving_before[svc]}
            ):
                self.reload_proxy(proxy)
        routes_before = self.route_files()
        try:
            if scale:
                before = {c["id"] for c in self.containers()}
                args = [a for svc, n in scale.items() for a in ("--scale", f"{svc}={n}")]
                # Stopped leftovers go first (they would count); warm ones stay until the switch.
                self.remove_containers([c for svc in scale for c in stale[svc] if not c["running"]])
                for svc in scale:
                    stale[svc] = [c for c in stale[svc] if c["running"]]
                try:
                    self.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull,
                                 *args, *scale)  # fmt: skip
                finally:
                    new = [c for c in self.containers() if c["id"] not in before]
                    self.started += [c["name"] for c in new]
                for c in new:
                    targets.setdefault(c["service"], []).append(c["name"])
            listed = self.wait_ready([n for names in targets.values() for n in names], p["rolling"],
                                     "web containers", {c["name"] for c in new})  # fmt: skip
            self.mark("web containers ready")

            # 3. The switch: one write, one graceful reload.
            switched = sorted(s for s in p["rolling"] if set(serving_before[s]) != set(targets[s]))
            routes_changed = self.routes(targets)
            proxy = self.proxy_container(listed)
            if self.proxy and proxy is None:
                self.compose(
                    "up",
                    "--detach",
                    "--no-deps",
                    "--no-recreate",
                    "--no-build",
                    *self.pull,
                    self.proxy,
                )
                self.recreated.append(self.proxy)
            elif self.proxy and self.drifted(self.proxy, services[self.proxy], [proxy]):
                self.m.warn(
                    f"{self.proxy}: its image, environment or mounted files changed: recreated (a short gap)"
                )
                self.compose(
                    "up",
                    "--detach",
                    "--no-deps",
                    "--force-recreate",
                    "--no-build",
                    *self.pull,
                    self.proxy,
                )
                self.recreated.append(self.proxy)
            elif proxy is not None and (routes_changed or switched):
                self.reload_proxy(proxy)
        except (RolloutError, OSError):
            # Nothing of the new release keeps running, the routes are as they were.
            self.put_back(routes_before)
            self.remove_containers(new)  # they never had traffic
            raise
        self.mark("traffic switched")
        self.changed |= routes_changed or bool(self.started) or bool(self.recreated)
        warm = [c for s in switched for c in previous[s]]
        serving_now = {n for names in targets.values() for n in names}
        warm_names = sorted({c["name"] for c in warm}) if warm else [
            n for n in state.get("warm") or []
            if n not in serving_now and n in {c["name"] for c in self.containers() if c["running"]}
        ]  # fmt: skip
        warm_until = time.time() + p["warm_window"] if warm else float(state.get("warm_until") or 0)
        configs = {s: digests[s] for s in list(p["rolling"]) + p["overlap"]}
        self.save_state(
            targets, warm_names, warm_until, configs
        )  # what serves now, before anything else can fail

        # Warm containers of an older release go once another release is warm; they
        # get no traffic, but a websocket may still be open through an old nginx worker.
        # Of a service that did not switch, only the warm ones listed stay (a failed
        # run may have left others).
        gone = [c for svc in p["rolling"] for c in stale[svc]
                if svc in switched or c["name"] not in warm_names]  # fmt: skip
        self.stop_containers([c for c in gone if c["running"]])
        self.remove_containers([c for c in gone if not c["running"]])

        # Data services whose change was to be applied: once the new web containers serve.
        for svc in changed_data if p["data_changes"] == "apply" else []:
            self.m.warn(
                f"{svc}: {', '.join(changed_data[svc])} changed: recreated (data_changes=apply)"
            )
            self.compose("up", "--detach", "--no-deps", "--force-recreate", "--no-build", *self.pull,
                         "--wait", "--wait-timeout", str(p["start_timeout"]), svc)  # fmt: skip
            self.recreated.append(svc)
            self.changed = True
        if changed_data and p["data_changes"] == "apply":
            self.data_settled_at = self.settled()
        if changed_data:
            self.mark("data services " + ("recreated" if p["data_changes"] == "apply" else "left"))

        # 4. Workers overlap; every other service is recreated by Compose (stop first).
        self.overlap(digests)
        self.mark("workers replaced")
        others = [s for s in services if s not in p["rolling"] and s not in p["overlap"]
                  and s not in p["keep"] and s != self.proxy]  # fmt: skip
        if others:
            before_hash = {
                c["id"]: c["compose_hash"]
                for c in self.containers()
                if c["service"] in others and c["running"]
            }
            self.compose("up", "--detach", "--no-deps", "--no-build", *self.pull, *others)
            after = [c for c in self.containers() if c["service"] in others]
            redone = sorted(
                {c["service"] for c in after if before_hash.get(c["id"]) != c["compose_hash"]}
            )
            self.recreated += redone
            self.changed |= bool(redone)
        self.remove_containers([c for c in self.containers() if c["service"] not in services])
        self.mark("other services up")

        # 5. The replaced web containers stay warm, then stop (the requests in flight finish).
        if warm and p["warm_window"] <= 0:
            if proxy is not None:
                self.drained(proxy)  # nginx's old workers have finished what they sent
            self.stop_containers(warm)
            self.mark("replaced web containers drained and stopped")
            warm_names, warm_until = [], 0.0
            self.save_state(targets, warm_names, warm_until, configs)
        if warm_names:
            self.retire_later(warm_names, max(0, int(warm_until - time.time())))
        return self.result(self.containers(), switched, warm_names, warm_until)

    def save_state(
        self,
        targets: dict[str, list[str]],
        warm: list[str],
        warm_until: float,
        configs: dict[str, str],
    ) -> None:
        """What serves: the release, the containers the proxy sends to, the warm ones, and the
        release's digest (LABEL) of each web and worker service (status tells leftovers by it)."""
        self.write("state.json", json.dumps({
            "strategy": "rolling", "release": self.src, "configs": configs,
            "active": {s: sorted(n) for s, n in targets.items()},
            "warm": warm, "warm_until": warm_until,
        }, sort_keys=True) + "\n")  # fmt: skip

    def overlap(self, digests: dict) -> None:
        scale = {}
        old: list[dict] = []
        listed = self.containers()
        for svc in self.p["overlap"]:
            mine_all = [c for c in listed if c["service"] == svc]
            mine = [c for c in mine_all if c["digest"] == digests[svc] and c["running"]]
            others = [c for c in mine_all if c not in mine]
            if mine:
                self.stop_containers([c for c in others if c["running"]])  # they finish their job
                self.remove_containers([c for c in others if not c["running"]])
                continue
            stale = [c for c in others if not c["running"]]
            self.remove_containers(stale)
            running = [c for c in others if c["running"]]
            old += running
            scale[svc] = len(running) + max(1, len(running))
        if not scale:
            return
        before = {c["id"] for c in self.containers()}
        args = [a for svc, n in scale.items() for a in ("--scale", f"{svc}={n}")]
        self.compose(
            "up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull, *args, *scale
        )
        new = [c for c in self.containers() if c["id"] not in before]
        self.started += [c["name"] for c in new]
        self.wait_ready(
            [c["name"] for c in new], {}, "new worker containers", {c["name"] for c in new}
        )
        self.stop_containers(old)
        self.recreated += sorted(scale)
        self.changed = True

    def stop_containers(self, containers: list[dict]) -> None:
        if containers:
            self.run(
                [
                    "docker",
                    "stop",
                    "--time",
                    str(self.p["drain_timeout"]),
                    *[c["id"] for c in containers],
                ]
            )
            self.run(["docker", "rm", *[c["id"] for c in containers]])
            self.changed = True

    def remove_containers(self, containers: list[dict]) -> None:
        if containers:
            self.run(["docker", "rm", "--force", *[c["id"] for c in containers]])
            self.changed = True

    def retire_later(self, names: list[str], delay: int) -> None:
        """A detached job: after the delay, stop warm containers the proxy no longer sends to.

        It names them by id (Compose may give a later container the same name), waits
        while a deploy or rollback holds the lock (bounded), then takes the rollout lock.
        """
        ids = {c["name"]: c["id"] for c in self.containers() if c["running"]}
        pairs = [f"{ids[n]}={n}" for n in names if n in ids]
        if not pairs:
            return
        script = os.path.join(self.dir, "retire.sh")
        self.write("retire.sh", RETIRE)
        lock = os.path.join(self.dir, "rollout.lock")
        argv = ["flock", lock, "sh", script, self.dir, str(self.p["drain_timeout"]),
                self.p["deploy_lock"], *pairs]  # fmt: skip
        wait = (
            f'n=0; while [ -e {shlex.quote(self.p["deploy_lock"])} ] && [ "$n" -lt 60 ]; '
            "do sleep 30; n=$((n + 1)); done; "
            if self.p["deploy_lock"]
            else ""
        )
        with (
            open(os.devnull, "rb") as null_in,
            open(os.path.join(self.dir, "retire.log"), "ab") as log,
        ):
            subprocess.Popen(
                ["sh", "-c", f"sleep {int(delay)}; {wait}exec " + " ".join(shlex.quote(x) for x in argv)],
                stdin=null_in, stdout=log, stderr=log, start_new_session=True, close_fds=True,
            )  # fmt: skip

    def result(
        self, containers: list[dict], switched: list[str], warm: list[str], warm_until: float
    ) -> dict:
        releases = os.path.dirname(os.path.normpath(self.src))
        mounted = sorted({
            os.path.relpath(src, releases).split(os.sep)[0]
            for c in containers if c["running"]
            for src, _dst in c["mounts"] if src.startswith(releases + os.sep)
        })  # fmt: skip
        return {
            "changed": self.changed,
            "switched": switched,
            "started": self.started,
            "warm": warm,
            "warm_until": warm_until,
            "recreated": sorted(set(self.recreated)),
            "mounted_releases": mounted,
            "data_settled_at": self.data_settled_at,
            "timeline": self.timeline,
        }


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


def config_digest(spec: dict) -> str:
    """A digest of a service's resolved settings, leaving out how it is ordered and scaled."""
    spec = {k: v for k, v in spec.items() if k not in ("depends_on", "scale")}
    spec["labels"] = {k: v for k, v in (spec.get("labels") or {}).items() if k != LABEL}
    if isinstance(spec.get("deploy"), dict):
        spec["deploy"] = {k: v for k, v in spec["deploy"].items() if k != "replicas"}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def last_probe(health: dict) -> str:
    """The last failed healthcheck's output, one short line."""
    log = [entry for entry in health.get("Log") or [] if entry.get("ExitCode") != 0]
    if not log:
        return ""
    lines = [line.strip() for line in str(log[-1].get("Output") or "").splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit code {log[-1].get('ExitCode')}")[:200]


def digest(path: str) -> str:
    """Content digest of a file, or of a directory's files (names and contents)."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files)[:2000]:
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode() + b"\0")
                h.update(digest(full).encode())
        return h.hexdigest()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                h.update(chunk)
    except OSError:
        return "missing"
    return h.hexdigest()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
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
            "data_changes": {
                "type": "str",
                "choices": ["refuse", "apply", "leave"],
                "default": "refuse",
            },
            "plan_only": {"type": "bool", "default": False},
            "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
        },
        supports_check_mode=False,
    )
    module.params["rolling"] = {k: int(v) for k, v in module.params["rolling"].items()}
    rollout = Rollout(module)
    os.makedirs(module.params["proxy_dir"], mode=0o750, exist_ok=True)
    with open(os.path.join(module.params["proxy_dir"], "rollout.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the detached retire job takes it too
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
