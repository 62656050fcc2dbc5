"""The steps both strategies of ``compose_rollout`` (``_rollout``) are made of.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice. :class:`RolloutSteps` holds one run's
options and what it did, the seams to Docker (tests replace them), readiness,
and the data services' comparison with the release; it builds on ``_compose``
(the CLI), ``_containers`` (listing and judging) and ``_proxy_routes``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible_collections.stickforstats.deploy.plugins.module_utils._compose import (
    OVERRIDE,
    Compose,
    RolloutError,
    config_digest,
    override_text,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import (
    FATAL,
    GOOD,
    Container,
    Verdict,
    accepts,
    judge,
    list_project,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._data_services import (
    changed_settings,
    data_settings,
    drifted,
    readable_changes,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import (
    MARK,
    ProxyDir,
)

STOPPED = ("exited", "dead", "restarting", "restarted", "paused")
"""Causes of :func:`judge` the rollout words as a container that stopped."""


def by_service(containers: list[Container], running_only: bool = False) -> dict[str, list]:
    """Service -> its containers (the running ones only, with RUNNING_ONLY)."""
    found: dict[str, list[Container]] = {}
    for c in containers:
        if c.running or not running_only:
            found.setdefault(c.service, []).append(c)
    return found


class RolloutSteps:
    """One run of the module: its options, what it did, and the steps of a strategy."""

    def __init__(self, module: Any) -> None:
        self.m = module
        self.p = module.params
        self.src = self.p["project_src"]
        self.project = self.p["project_name"]
        self.proxy = self.p["proxy_service"]
        self.dir = self.p["proxy_dir"]
        self.files = ProxyDir(self.dir)
        self.cli = Compose(
            module, self.project, self.src, self.p["files"], os.path.join(self.dir, OVERRIDE)
        )
        self.started: list[str] = []
        self.recreated: list[str] = []
        self.changed = False
        self.data_settled_at = 0.0  # when the clients of a recreated data service settled
        self.pull = ["--pull", self.p["pull"]]
        self.t0 = time.monotonic()
        self.timeline: list[list] = []

    def mark(self, what: str) -> None:
        self.timeline.append([what, round(time.monotonic() - self.t0, 2)])

    # -- the seams (tests replace these) ---------------------------------------------------
    def run(self, argv: list[str], check: bool = True) -> str:
        return self.cli.run(argv, check)

    def compose(self, *args: str) -> str:
        return self.cli.compose(*args)

    def containers(self) -> list[Container]:
        return list_project(self.run, self.project)

    def config(self) -> tuple[dict, dict]:
        """The release's services as Compose resolves them, and a digest of each."""
        self.write_override({})
        services = self.cli.services()
        return services, {name: config_digest(spec) for name, spec in services.items()}

    def write_override(
        self, labels: dict[str, str], settings: dict[str, str] | None = None
    ) -> None:
        """The proxy's mount of proxy_dir, and the labels on the containers a release runs."""
        mount = {"type": "bind", "source": self.dir, "target": self.p["proxy_mount"],
                 "read_only": True}  # fmt: skip
        self.files.write(OVERRIDE, override_text(MARK, self.proxy, mount, labels, settings))

    def routes(self, targets: dict[str, list[str]]) -> bool:
        return self.files.routes(targets, self.p["rolling"])

    def read_state(self) -> dict:
        return self.files.read_state()

    # -- containers --------------------------------------------------------------------------
    def proxy_container(self, containers: list[Container]) -> Container | None:
        return next((c for c in containers if c.service == self.proxy and c.running), None)

    def stop_containers(self, containers: list[Container]) -> None:
        if containers:
            drain = str(self.p["drain_timeout"])
            self.run(["docker", "stop", "--time", drain, *[c.id for c in containers]])
            self.run(["docker", "rm", *[c.id for c in containers]])
            self.changed = True

    def remove_containers(self, containers: list[Container]) -> None:
        if containers:
            self.run(["docker", "rm", "--force", *[c.id for c in containers]])
            self.changed = True

    def wait_ready(
        self, names: list[str], ports: dict[str, int], what: str, new: set[str]
    ) -> list[Container]:
        """Until every named container is healthy (or serves its port), bounded.

        :func:`judge` with every restart of a NEW container counted, and none of an
        older one (warm, or serving already: it only has to run and be healthy now).
        Without a healthcheck: running (and accepting on its port, if it has one) for
        three polls in a row when new (1.5 s), for one when it was.
        """
        deadline = time.monotonic() + self.p["start_timeout"]
        seen_open: dict[str, int] = {}
        while True:
            listed = self.containers()
            found = {c.name: c for c in listed}
            pending = []
            for name in names:
                c = found.get(name)
                if c is None:
                    raise RolloutError(f"{what}: container {name} disappeared")
                verdict = judge(c, count_restarts=name in new,
                                unhealthy_streak=self.p["unhealthy_streak"])  # fmt: skip
                if verdict.verdict == FATAL:
                    raise RolloutError(f"{what}: {self.fatal_reason(c, verdict)}")
                if verdict.cause == "healthy":
                    continue
                port = ports.get(c.service)
                if verdict.verdict == GOOD and (not port or accepts(c.ip, port)):
                    seen_open[name] = seen_open.get(name, 0) + 1
                    if seen_open[name] >= (3 if name in new else 1):
                        continue
                else:
                    seen_open[name] = 0
                pending.append(f"{name} ({c.health or c.state})")
            if not pending:
                return listed
            if time.monotonic() > deadline:
                raise RolloutError(
                    f"{what}: not ready after {self.p['start_timeout']} s: {', '.join(pending)}"
                )
            time.sleep(0.5)

    @staticmethod
    def fatal_reason(c: Container, verdict: Verdict) -> str:
        """The rollout's wording of a fatal :class:`Verdict` (as before the rules were shared)."""
        if verdict.cause in STOPPED or verdict.restarted:
            return f"container {c.name} stopped (status {c.state}, exit code {c.exit_code})"
        return f"container {c.name} fails its healthcheck ({c.streak} times in a row" + (
            f", last: {c.probe})" if c.probe else ")"
        )

    # -- data services -------------------------------------------------------------------------
    def settings(self, spec: dict) -> dict[str, str]:
        """{setting: digest} of a data service: what Compose would recreate it for."""
        return data_settings(spec, self.p["proxy_mount"])

    def drifted(self, svc: str, spec: dict, running: list[Container]) -> bool:
        """A kept service's container differs from the release in what matters to it."""
        if not running:
            return False
        c = running[0]
        if svc == self.proxy and (self.dir, self.p["proxy_mount"]) not in c.mounts:
            return True  # created by something else (a compose up by hand): no upstream files
        return drifted(spec, c, self.p["proxy_mount"])

    def differing_data(self, services: dict, found: dict[str, list]) -> dict[str, list[str]]:
        """Running data services that differ from the release -> the settings that differ."""
        changed: dict[str, list[str]] = {}
        for svc in [s for s in self.p["keep"] if s != self.proxy]:
            running = [c for c in found.get(svc, []) if c.running]
            if not running:
                continue
            have = running[0].settings
            if have:
                differs = changed_settings(json.loads(have), self.settings(services[svc]))
            else:  # created without the label (by a migration's dependencies, or before it existed)
                c = running[0]
                readable = {"command": c.command, "healthcheck": c.healthcheck, "ports": c.ports}
                differs = readable_changes(services[svc], readable)
                if not differs and self.drifted(svc, services[svc], running):
                    differs = ["image, environment or mounted files"]
            if differs:
                changed[svc] = differs
        return changed

    def data_changes(self, services: dict, found: dict[str, list]) -> dict[str, list[str]]:
        """Running data services that differ from the release -> what differs; refused when asked."""
        changed = self.differing_data(services, found)
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
            now = sorted((c.id, c.restarts, c.running) for c in self.containers())
            quiet = quiet + 1 if now == last else 0
            last = now
            time.sleep(1)
        return time.time()

    # -- the rollout ---------------------------------------------------------------------------
    def check_services(self, services: dict) -> None:
        """The options name services of the compose file that the strategy can replace."""
        p = self.p
        unknown = sorted((set(p["rolling"]) | set(p["overlap"]) | set(p["keep"])) - set(services))
        if self.proxy and self.proxy not in services:
            unknown.append(self.proxy)
        if unknown:
            raise RolloutError(
                f"not services of the compose file: {', '.join(sorted(set(unknown)))}"
            )
        named = [s for s in list(p["rolling"]) + p["overlap"] if services[s].get("container_name")]
        if p["rolling"] and not self.proxy and p["strategy"] == "rolling":
            raise RolloutError(
                "the rolling strategy needs the proxy service in front of the web services"
            )
        if named and p["strategy"] == "rolling":
            raise RolloutError(
                "container_name forbids a second container of "
                + ", ".join(named)
                + ": remove container_name from these services, or deploy them with the recreate strategy"
            )

    def result(
        self, containers: list[Container], switched: list[str], warm: list[str], warm_until: float
    ) -> dict:
        releases = os.path.dirname(os.path.normpath(self.src))
        mounted = sorted({
            os.path.relpath(src, releases).split(os.sep)[0]
            for c in containers if c.running
            for src, _dst in c.mounts if src.startswith(releases + os.sep)
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
