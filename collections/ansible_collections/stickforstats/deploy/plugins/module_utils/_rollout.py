"""The strategies of ``compose_rollout``: rolling (behind nginx) and recreate.

This is a private module utility of the ``stickforstats.deploy`` collection; its
interface may change without notice. The module's documentation says what each
strategy does to each class of service; :class:`Rollout` does it with the steps
of ``_rollout_steps``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from ansible_collections.stickforstats.deploy.plugins.module_utils._compose import RolloutError
from ansible_collections.stickforstats.deploy.plugins.module_utils._containers import Container
from ansible_collections.stickforstats.deploy.plugins.module_utils._proxy_routes import (
    STATE_FILE,
    drained,
    recreate_state,
    reload,
    retire_later,
    rolling_state,
)
from ansible_collections.stickforstats.deploy.plugins.module_utils._rollout_steps import (
    RolloutSteps,
    by_service,
)


@dataclass
class WebPlan:
    """Per rolling service: what serves before the switch, what will, and what goes."""

    targets: dict[str, list[str]] = field(default_factory=dict)
    """Containers of this release's config, the proxy's after the switch."""
    previous: dict[str, list[Container]] = field(default_factory=dict)
    """Serving now, replaced by the switch (warm afterwards)."""
    stale: dict[str, list[Container]] = field(default_factory=dict)
    """Neither: leftovers, and warm containers of an older release."""
    serving_before: dict[str, list[str]] = field(default_factory=dict)
    scale: dict[str, int] = field(default_factory=dict)
    """Services that need new containers -> how many containers Compose counts in all."""
    new: list[Container] = field(default_factory=list)
    """Containers this run created."""


class Rollout(RolloutSteps):
    """One run of the module: :meth:`apply` returns its result or raises RolloutError."""

    def apply(self) -> dict:
        os.makedirs(self.dir, mode=0o750, exist_ok=True)
        services, digests = self.config()
        self.mark("config read")
        self.check_services(services)
        p = self.p
        keep_settings = {
            s: json.dumps(self.settings(services[s]), sort_keys=True)
            for s in p["keep"]
            if s != self.proxy
        }
        if p["strategy"] == "recreate" or not (p["rolling"] or p["overlap"] or p["keep"]):
            # A running data service whose settings did not change is kept as it runs (its
            # label, with or without it, and its container): Compose recreates only the others.
            running = by_service(self.containers(), running_only=True)
            changed = self.differing_data(services, running)
            unchanged = sorted(s for s in keep_settings if s in running and s not in changed)
            unlabelled = {s for s in unchanged if not running[s][0].settings}
            self.write_override({}, {s: v for s, v in keep_settings.items() if s not in unlabelled})
            return self.recreate(services, unchanged)
        self.write_override(
            {s: digests[s] for s in list(p["rolling"]) + p["overlap"]}, keep_settings
        )
        if p["plan_only"]:
            changed = self.data_changes(services, by_service(self.containers()))
            return {"changed": False, "data_changes": changed, "timeline": self.timeline}
        return self.rolling(services, digests)

    # -- recreate --------------------------------------------------------------------------
    def recreate(self, services: dict, unchanged: list[str]) -> dict:
        """`up` as Compose does it, except for the running data services in UNCHANGED:
        Compose would recreate them for any difference in its own hash (a label, an
        image pulled again under the same tag); they stay as they run."""
        before = {c.id: c.compose_hash for c in self.containers()}
        changed_routes = self.routes({})
        if unchanged:
            rest = [s for s in services if s not in unchanged]
            self.compose("up", "--detach", "--no-deps", "--remove-orphans", "--no-build",
                         *self.pull, *rest)  # fmt: skip
        else:
            self.compose("up", "--detach", "--remove-orphans", "--no-build", *self.pull)
        after = self.containers()
        self.recreated = sorted({c.service for c in after if before.get(c.id) != c.compose_hash})
        self.changed = bool(self.recreated) or changed_routes
        front = self.proxy_container(after)
        was_rolling = self.read_state().get("strategy") == "rolling"
        if front and (changed_routes or was_rolling) and front.service not in self.recreated:
            reload(self.run, front.id)  # back to Docker's DNS
        self.files.write(STATE_FILE, recreate_state(self.src))
        return self.result(after, [], [], 0.0)

    # -- rolling ---------------------------------------------------------------------------
    def rolling(self, services: dict, digests: dict) -> dict:
        p = self.p
        state = self.read_state()
        containers = self.containers()
        found = by_service(containers)
        changed_data = self.start_data(services, found)
        plan = self.plan_web(state, found, digests)
        front = self.proxy_container(containers)
        if plan.scale and front is not None and not self.files.has_routes():
            # nginx resolves the services through Docker's DNS until the upstream files
            # exist, and DNS names a new container as soon as it starts: pin what serves.
            if self.routes(
                {s: plan.serving_before[s] for s in p["rolling"] if plan.serving_before[s]}
            ):
                reload(self.run, front.id)
        switched, front = self.switch(services, plan)
        warm = [c for s in switched for c in plan.previous[s]]
        serving_now = {n for names in plan.targets.values() for n in names}
        warm_names = sorted({c.name for c in warm}) if warm else [
            n for n in state.get("warm") or []
            if n not in serving_now and n in {c.name for c in self.containers() if c.running}
        ]  # fmt: skip
        warm_until = time.time() + p["warm_window"] if warm else float(state.get("warm_until") or 0)
        configs = {s: digests[s] for s in list(p["rolling"]) + p["overlap"]}
        # What serves now, before anything else can fail.
        self.save_state(plan.targets, warm_names, warm_until, configs)

        # Warm containers of an older release go once another release is warm; they
        # get no traffic, but a websocket may still be open through an old nginx worker.
        # Of a service that did not switch, only the warm ones listed stay (a failed
        # run may have left others).
        gone = [c for svc in p["rolling"] for c in plan.stale[svc]
                if svc in switched or c.name not in warm_names]  # fmt: skip
        self.stop_containers([c for c in gone if c.running])
        self.remove_containers([c for c in gone if not c.running])
        self.apply_data(changed_data)
        self.others(services, digests)

        # The replaced web containers stay warm, then stop (the requests in flight finish).
        if warm and p["warm_window"] <= 0:
            if front is not None:
                drained(self.run, front.id, p["drain_timeout"])  # old workers are done
            self.stop_containers(warm)
            self.mark("replaced web containers drained and stopped")
            warm_names, warm_until = [], 0.0
            self.save_state(plan.targets, warm_names, warm_until, configs)
        if warm_names:
            self.retire_later(warm_names, max(0, int(warm_until - time.time())))
        return self.result(self.containers(), switched, warm_names, warm_until)

    def start_data(self, services: dict, found: dict[str, list]) -> dict[str, list[str]]:
        """Data services: created or started if missing, never recreated for a release.
        What differs from the release (refused, or warned about, as asked)."""
        changed_data = self.data_changes(services, found)
        for svc in [s for s in self.p["keep"] if s != self.proxy]:
            if not [c for c in found.get(svc, []) if c.running]:
                self.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull,
                             "--wait", "--wait-timeout", str(self.p["start_timeout"]), svc)  # fmt: skip
                self.recreated.append(svc)
        return changed_data

    def plan_web(self, state: dict, found: dict[str, list], digests: dict) -> WebPlan:
        """Web services: targets are running containers of this release's config; the
        others that serve now stay until the switch; the rest go."""
        active_names = (state.get("active") or {}) if state.get("strategy") == "rolling" else {}
        plan = WebPlan()
        for svc in self.p["rolling"]:
            running = [c for c in found.get(svc, []) if c.running]
            mine = [c for c in running if c.digest == digests[svc]]
            # What serves now: the containers the upstream files name; when none of
            # them runs (the state is stale: something else ran `compose up`), every
            # running one, as Docker's DNS sends traffic to all of them.
            active = [c for c in running if c.name in active_names.get(svc, [])]
            plan.serving_before[svc] = [c.name for c in (active or running)]
            serving = [c for c in (active or running) if c not in mine]
            plan.stale[svc] = [c for c in found.get(svc, []) if c not in mine and c not in serving]
            plan.previous[svc] = serving
            plan.targets[svc] = [c.name for c in mine]
            if not mine:
                # Compose counts every container of a service when it scales:
                # the ones kept (serving, warm) plus as many new as serve now.
                plan.scale[svc] = len(running) + max(1, len(serving))
        return plan

    def start_web(self, plan: WebPlan) -> None:
        """New containers of the services to scale, beside the ones that serve."""
        before = {c.id for c in self.containers()}
        args = [a for svc, n in plan.scale.items() for a in ("--scale", f"{svc}={n}")]
        # Stopped leftovers go first (they would count); warm ones stay until the switch.
        self.remove_containers([c for svc in plan.scale for c in plan.stale[svc] if not c.running])
        for svc in plan.scale:
            plan.stale[svc] = [c for c in plan.stale[svc] if c.running]
        try:
            self.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull,
                         *args, *plan.scale)  # fmt: skip
        finally:
            plan.new = [c for c in self.containers() if c.id not in before]
            self.started += [c.name for c in plan.new]
        for c in plan.new:
            plan.targets.setdefault(c.service, []).append(c.name)

    def switch(self, services: dict, plan: WebPlan) -> tuple[list[str], Container | None]:
        """Once the targets are ready: one write of the route files, one graceful reload.
        On any failure the routes are put back and the new containers removed.

        The services switched, and the proxy container as it was before (it may have
        been started or recreated since)."""
        p = self.p
        routes_before = self.files.route_files()
        try:
            if plan.scale:
                self.start_web(plan)
            listed = self.wait_ready([n for names in plan.targets.values() for n in names],
                                     p["rolling"], "web containers",
                                     {c.name for c in plan.new})  # fmt: skip
            self.mark("web containers ready")
            switched = sorted(
                s for s in p["rolling"] if set(plan.serving_before[s]) != set(plan.targets[s])
            )
            routes_changed = self.routes(plan.targets)
            front = self.proxy_container(listed)
            self.point_proxy(services, front, routes_changed or bool(switched))
        except (RolloutError, OSError):
            # Nothing of the new release keeps running, the routes are as they were.
            self.files.put_back(routes_before)
            self.remove_containers(plan.new)  # they never had traffic
            raise
        self.mark("traffic switched")
        self.changed |= routes_changed or bool(self.started) or bool(self.recreated)
        return switched, front

    def point_proxy(self, services: dict, front: Container | None, moved: bool) -> None:
        """The proxy reads the route files: started, recreated when it drifted, or reloaded."""
        if self.proxy and front is None:
            self.compose("up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull,
                         self.proxy)  # fmt: skip
            self.recreated.append(self.proxy)
        elif self.proxy and self.drifted(self.proxy, services[self.proxy], [front]):
            self.m.warn(
                f"{self.proxy}: its image, environment or mounted files changed: recreated (a short gap)"
            )
            self.compose("up", "--detach", "--no-deps", "--force-recreate", "--no-build", *self.pull,
                         self.proxy)  # fmt: skip
            self.recreated.append(self.proxy)
        elif front is not None and moved:
            reload(self.run, front.id)

    def apply_data(self, changed_data: dict[str, list[str]]) -> None:
        """Data services whose change was to be applied: once the new web containers serve."""
        apply = self.p["data_changes"] == "apply"
        for svc in changed_data if apply else []:
            self.m.warn(
                f"{svc}: {', '.join(changed_data[svc])} changed: recreated (data_changes=apply)"
            )
            self.compose("up", "--detach", "--no-deps", "--force-recreate", "--no-build", *self.pull,
                         "--wait", "--wait-timeout", str(self.p["start_timeout"]), svc)  # fmt: skip
            self.recreated.append(svc)
            self.changed = True
        if changed_data and apply:
            self.data_settled_at = self.settled()
        if changed_data:
            self.mark("data services " + ("recreated" if apply else "left"))

    def others(self, services: dict, digests: dict) -> None:
        """Workers overlap; every other service is recreated by Compose (stop first)."""
        p = self.p
        self.overlap(digests)
        self.mark("workers replaced")
        others = [s for s in services if s not in p["rolling"] and s not in p["overlap"]
                  and s not in p["keep"] and s != self.proxy]  # fmt: skip
        if others:
            before = {
                c.id: c.compose_hash for c in self.containers() if c.service in others and c.running
            }
            self.compose("up", "--detach", "--no-deps", "--no-build", *self.pull, *others)
            after = [c for c in self.containers() if c.service in others]
            redone = sorted({c.service for c in after if before.get(c.id) != c.compose_hash})
            self.recreated += redone
            self.changed |= bool(redone)
        self.remove_containers([c for c in self.containers() if c.service not in services])
        self.mark("other services up")

    def overlap(self, digests: dict) -> None:
        """Each worker service in overlap gets its new container before the old one stops."""
        scale = {}
        old: list[Container] = []
        listed = self.containers()
        for svc in self.p["overlap"]:
            mine_all = [c for c in listed if c.service == svc]
            mine = [c for c in mine_all if c.digest == digests[svc] and c.running]
            others = [c for c in mine_all if c not in mine]
            if mine:
                self.stop_containers([c for c in others if c.running])  # they finish their job
                self.remove_containers([c for c in others if not c.running])
                continue
            self.remove_containers([c for c in others if not c.running])
            running = [c for c in others if c.running]
            old += running
            scale[svc] = len(running) + max(1, len(running))
        if not scale:
            return
        before = {c.id for c in self.containers()}
        args = [a for svc, n in scale.items() for a in ("--scale", f"{svc}={n}")]
        self.compose(
            "up", "--detach", "--no-deps", "--no-recreate", "--no-build", *self.pull, *args, *scale
        )
        new = [c for c in self.containers() if c.id not in before]
        self.started += [c.name for c in new]
        self.wait_ready([c.name for c in new], {}, "new worker containers", {c.name for c in new})
        self.stop_containers(old)
        self.recreated += sorted(scale)
        self.changed = True

    def save_state(
        self, targets: dict[str, list[str]], warm: list[str], warm_until: float, configs: dict
    ) -> None:
        """What serves: the release, the containers the proxy sends to, the warm ones, and the
        release's digest (LABEL) of each web and worker service (status tells leftovers by it)."""
        self.files.write(STATE_FILE, rolling_state(self.src, targets, warm, warm_until, configs))

    def retire_later(self, names: list[str], delay: int) -> None:
        """The retire job (``_proxy_routes.retire_later``) for the running ones of NAMES."""
        ids = {c.name: c.id for c in self.containers() if c.running}
        pairs = [f"{ids[n]}={n}" for n in names if n in ids]
        retire_later(self.files, pairs, delay, self.p["drain_timeout"], self.p["deploy_lock"])
