"""The five measures on one sandbox, in the order run.py runs them.

1. deploy time of a version change on a warm host: ours, the floor, the old pipeline,
   interleaved, without the prober (in --quick with it, doing measure 2 as well);
2. failed requests: the same three, again, with the prober running through each;
3. rollback: the old pipeline's manual procedure (right after it deployed), rollback.yml
   on a warm host (each run right after a deploy of ours) and the automatic rollback (or,
   rolling, the refusal) of a deploy of the unhealthy version;
5. Ansible's own overhead: tasks, SSH connections, Mitogen, pipelining, connection reuse;
4. fleet scale: one deploy to 1, 2, 4, 8 targets (more targets are started for it, last).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench import fidelity, machine, methods, sandbox
from bench.config import (
    DEPLOY_ROOT,
    HEALTHY_VERSIONS,
    OLD_PIPELINE_SLEEP,
    UNHEALTHY_VERSION,
    Target,
)
from bench.envfiles import SecretLines, sandbox_env_files
from bench.measure import Result, measured
from bench.prober import Prober, kept_serving, summarize
from bench.shell import docker_exec, progress
from bench.timeline import auto_rollback

PAIR = HEALTHY_VERSIONS[:2]  # measure 1 alternates c0ffee1 / c0ffee2


@dataclass
class Plan:
    quick: bool
    rounds: int  # measure 1: runs of each method (no prober, except in --quick)
    probe_rounds: int  # measure 2: runs of each method with the prober (0: measure 1's)
    rollback_runs: int  # rollback.yml (each after a deploy of ours) and the old manual one
    auto_rollback_runs: int  # deploys of badbad1: refused or rolled back automatically
    overhead_runs: int  # per Ansible setting (0: counts only, from measure 1)
    fleet_sizes: tuple[int, ...]
    fleet_sweeps: int  # ascending, then descending, ...
    idle_probe_s: float
    old_sleep: int = OLD_PIPELINE_SLEEP

    @classmethod
    def make(cls, quick: bool, rounds: int | None = None, rollbacks: bool = False) -> Plan:
        if rollbacks:  # issue 7's figures: medians of 5 rollbacks, each kind
            return cls(True, rounds or 1, 0, 5, 2, 0, (1,), 1, 5.0)
        if quick:
            return cls(True, rounds or 1, 0, 1, 1, 0, (1, 2), 1, 5.0)
        return cls(False, rounds or 5, 2, 5, 2, 2, (1, 2, 4, 8), 2, 10.0)


@dataclass
class Bench:
    plan: Plan
    results: list[Result] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    inventories: dict[int, Path] = field(default_factory=dict)
    secrets: SecretLines | None = None
    old_state: dict[str, str] = field(default_factory=dict)  # what the old dir deployed
    last_on_t1: str = ""  # the method that last changed what serves on target 1

    # -- bookkeeping -------------------------------------------------------------------
    def keep(self, result: Result, what: str) -> Result:
        """Records RESULT; a run of ours right after the old pipeline is marked, to show
        whether ours copes with containers it did not create."""
        if result.method.startswith("ours") and self.last_on_t1.startswith("old"):
            result.extra["after_old_pipeline"] = True
        self.last_on_t1 = result.method
        self.results.append(result)
        probe = result.probe or {}
        failed = f", {probe['failed']} failed requests" if probe else ""
        why = result.extra.get("invalid") or f"exit {result.rc}"
        status = "ok" if result.ok else f"UNEXPECTED: {why}"
        progress(f"  {what}: {result.seconds:.1f} s{failed} ({status})")
        if not result.ok:
            self.failures.append(f"{what}: {why} (log {result.log})")
        return result

    @property
    def t1(self) -> Target:
        return self.targets[0]

    def inventory(self, count: int) -> Path:
        if count not in self.inventories:
            self.inventories[count] = sandbox.write_inventory(f"n{count}", self.targets[:count])
        return self.inventories[count]

    def other(self, target: Target, versions: Sequence[str] = PAIR) -> tuple[str, str | None]:
        """The version to deploy next (one that does not serve now) and the serving one."""
        serving = sandbox.serving_version(target)
        choice = next(v for v in versions if v != serving)
        return choice, serving

    @property
    def rolling(self) -> bool:
        return self.info.get("deploy_strategy", {}).get("deploy_strategy") == "rolling"

    def not_rolling(self, warm: Sequence[str] | None = None) -> str:
        """Why a run of ours on target 1 would not measure the rolling strategy ('' when it
        would, or when the strategy is not rolling): the proxy is not ours (the old pipeline
        or the floor created it: nginx sends by DNS name to every web container), or (WARM
        given) no container of the release rolled back to still runs."""
        if not self.rolling:
            return ""
        if not sandbox.proxy_is_ours(self.t1):
            return (f"the proxy container does not mount {DEPLOY_ROOT}/proxy (the old pipeline"
                    " or the floor created it), so nginx sends to every web container by"
                    " name: not a rolling switch")  # fmt: skip
        if warm is not None and not warm:
            return "the host was not warm (no container of the release rolled back to runs)"
        return ""

    def invalid(self, result: Result, why: str) -> None:
        """Marks RESULT as not measuring what it should (excluded from the figures)."""
        if why and result.ok:
            result.ok = False
            result.extra["invalid"] = why

    def expect_serving(self, target: Target, version: str, what: str) -> None:
        serving = sandbox.serving_version(target)
        if serving != version:
            self.failures.append(f"{what}: {target.name} serves {serving}, expected {version}")
            progress(f"  ! {what}: {target.name} serves {serving}, expected {version}")

    # -- set-up --------------------------------------------------------------------------
    def setup(self, count: int) -> None:
        self.info["deploy_strategy"] = machine.deploy_strategy()
        progress(f"set-up: {count} sandbox target(s), images in the registry;"
                 f" deploy strategy {self.info['deploy_strategy']}")  # fmt: skip
        self.targets = sandbox.targets_up(count)
        sandbox.push_images()
        for target in self.targets:
            sandbox.ensure_ssh_counter(target)
            sandbox.prepare_old_root(target)
        self.cold_deploy(self.targets)
        files = sandbox_env_files()  # secrets: never printed
        self.secrets = SecretLines(files, compose_quoted=True)
        progress("set-up: what the old pipeline's literal steps would do (sed, echo)")
        self.info["fidelity"] = {
            "sed": fidelity.sed_check(self.t1, PAIR[0]),
            "echo_raw": fidelity.env_check(self.t1, files, compose_quoted=False),
            "echo_quoted": fidelity.env_check(self.t1, files, compose_quoted=True),
        }
        del files
        self.idle_probe()

    def idle_probe(self) -> None:
        """The prober's baseline: failed requests with no deploy running, and what the
        probing costs (CPU of target 1 without and with it; the prober's own CPU)."""
        seconds = self.plan.idle_probe_s
        progress(f"set-up: target 1 idle, then probed with no deploy ({2 * seconds:.0f} s)")
        quiet_before = sandbox.cpu_seconds(self.t1)
        time.sleep(seconds)
        quiet_after = sandbox.cpu_seconds(self.t1)
        prober = Prober(self.t1.http_port, max_duration=seconds + 5)
        own_before, busy_before = time.process_time(), sandbox.cpu_seconds(self.t1)
        prober.start()
        time.sleep(seconds)
        samples = prober.stop()
        own_after, busy_after = time.process_time(), sandbox.cpu_seconds(self.t1)
        idle = summarize(samples, prober.started, prober.stopped, prober.started).as_dict()

        def per_s(a: float | None, b: float | None) -> float | None:
            return round((b - a) / seconds, 2) if a is not None and b is not None else None

        idle["extra"] = {
            "target_cpus_quiet": per_s(quiet_before, quiet_after),
            "target_cpus_probed": per_s(busy_before, busy_after),
            "prober_cpus": per_s(own_before, own_after),
            "cpus": os.cpu_count(),
        }
        self.info["idle_probe"] = idle
        progress(f"  idle: {idle['failed']} failed of {idle['requests']},"
                 f" longest gap {idle['longest_gap_s']} s, CPU {idle['extra']}")  # fmt: skip

    def cold_deploy(self, targets: Sequence[Target]) -> None:
        """Our deploy of the first version to targets that serve nothing yet (untimed
        for the comparisons; its time is reported as information)."""
        todo = [t for t in targets if sandbox.serving_version(t) is None]
        if not todo:
            return
        progress(f"set-up: first deploy of {PAIR[0]} to {', '.join(t.name for t in todo)}")
        inventory = sandbox.write_inventory(f"cold{len(todo)}", todo)
        result = measured("setup", "ours (cold)", PAIR[0], None, todo,
                          lambda: methods.ours_deploy(inventory, PAIR[0]), probe=False)  # fmt: skip
        self.keep(result, f"cold deploy to {len(todo)} target(s)")
        if not result.ok:
            raise RuntimeError(f"the first deploy failed; see {result.log}")

    # -- measure 1 (and 2) ---------------------------------------------------------------
    def deploys(self, probed: bool = False) -> None:
        """Measure 1 (no prober, so that its load does not slow the deploys: on this
        machine the app's health endpoint at 50 requests/s takes most of a CPU), or
        measure 2 (PROBED). In --quick one round does both, with the prober. A probed run
        of ours starts from a host ours deployed last (an untimed deploy first, when the
        old pipeline or the floor was last), and does not count when it did not go through
        ours' proxy (rolling strategy)."""
        rounds = self.plan.probe_rounds if probed else self.plan.rounds
        probe = probed or self.plan.probe_rounds == 0
        measure = "probe" if probed else "deploy"
        for round_no in range(1, rounds + 1):
            for method in ("ours", "floor", "old"):
                if probe and method == "ours" and not self.last_on_t1.startswith("ours"):
                    self.settle()  # failed requests of ours' deploys from ours' own state
                version, serving = self.other(self.t1)
                progress(f"{measure} {round_no}/{rounds}: {method} {serving} -> {version}")
                sandbox.remove_app_images(self.t1, version)
                result = self.deploy(measure, method, version, serving, probe)
                if method == "ours" and probe:
                    self.invalid(result, self.not_rolling())
                self.keep(result, f"{method} {version}")
                if result.ok:
                    self.expect_serving(self.t1, version, f"{method} {version}")

    def settle(self, why: str = "after the other methods") -> Result:
        """An untimed deploy of ours without the prober (the other version), so that what
        follows starts from a host ours deployed last."""
        version, serving = self.other(self.t1)
        progress(f"  ours deploys {serving} -> {version} first, untimed ({why})")
        inventory = self.inventory(1)
        result = measured("setup", "ours (untimed)", version, serving, [self.t1],
                          lambda: methods.ours_deploy(inventory, version), probe=False)  # fmt: skip
        return self.keep(result, f"ours {version} (untimed, {why})")

    def deploy(
        self, measure: str, method: str, version: str, serving: str | None, probe: bool
    ) -> Result:
        t1 = self.t1
        if method == "ours":
            inventory = self.inventory(1)
            return measured(measure, "ours", version, serving, [t1],
                            lambda: methods.ours_deploy(inventory, version), probe=probe)  # fmt: skip
        if method == "floor":
            staged = docker_exec(t1.name, f"test -f {DEPLOY_ROOT}/releases/{version}/.env")
            if staged.rc != 0:
                raise RuntimeError(f"floor: release {version} is not staged on {t1.name}")
            return measured(measure, "floor", version, serving, [t1],
                            lambda: methods.floor_deploy(t1, version), probe=probe)  # fmt: skip
        assert self.secrets is not None
        paths = self.secrets.paths
        result = measured(measure, "old", version, serving, [t1],
                          lambda: methods.old_deploy(t1, version, paths, self.plan.old_sleep),
                          probe=probe)  # fmt: skip
        sleep = result.phases.get("sleep")
        result.extra["sleep_s"] = sleep
        result.extra["seconds_without_sleep"] = (
            round(result.seconds - sleep, 3) if sleep is not None else None
        )
        self.old_state = {"version": version, "previous": serving or ""}
        return result

    # -- measure 3 -------------------------------------------------------------------------
    def old_rollbacks(self) -> None:
        """The old pipeline's manual rollback; the old pipeline deployed last."""
        t1 = self.t1
        for i in range(1, self.plan.rollback_runs + 1):
            # what answers; when the health request finds no answer (a loaded machine),
            # what the old pipeline deployed last
            from_v = sandbox.serving_version(t1) or self.old_state.get("version", "")
            to_v = self.old_state.get("previous", "")
            if self.old_state.get("version") != from_v or to_v not in PAIR:
                to_v = next(v for v in PAIR if v != from_v)
            progress(f"rollback {i}/{self.plan.rollback_runs}: old manual {from_v} -> {to_v}")
            result = measured("rollback", "old manual", to_v, from_v, [t1],
                              lambda f=from_v, t=to_v: methods.old_rollback(t1, f, t))  # fmt: skip
            self.keep(result, f"old manual rollback to {to_v}")
            self.expect_serving(t1, to_v, "old manual rollback")
            self.old_state = {"version": to_v, "previous": from_v}

    def ours_rollbacks(self) -> None:
        """rollback.yml on a warm host, then deploys of the unhealthy version (refused, or
        rolled back automatically)."""
        t1 = self.t1
        inventory = self.inventory(1)
        if sandbox.current_release(t1) != sandbox.serving_version(t1):
            self.settle("rollback.yml needs ours serving")
        # c) rollback.yml on a warm host: ours deploys the other version right before
        # (untimed, no prober), so the release rolled back to still runs (rolling: warm)
        for i in range(1, self.plan.rollback_runs + 1):
            progress(f"rollback {i}/{self.plan.rollback_runs}: rollback.yml on a warm host")
            deployed = self.settle("before rollback.yml")
            if not deployed.ok:
                continue
            serving, expected = deployed.previous, sandbox.previous_release(t1)
            warm = sandbox.warm_containers(t1)
            why = self.not_rolling(warm)
            if expected != serving:
                why = f"it goes back to {expected!r}, not to {serving}, which served before"
            progress(f"rollback {i}/{self.plan.rollback_runs}: rollback.yml {deployed.version}"
                     f" -> {expected} ({len(warm)} warm container(s))")  # fmt: skip
            result = measured("rollback", "rollback.yml", expected, deployed.version, [t1],
                              lambda: methods.ours_rollback(inventory))  # fmt: skip
            result.extra["warm_containers"] = len(warm)
            self.invalid(result, why)
            self.keep(result, f"rollback.yml to {expected}")
            self.expect_serving(t1, expected, "rollback.yml")
        # d) a deploy of the unhealthy version: refused (rolling) or rolled back by itself
        for i in range(1, self.plan.auto_rollback_runs + 1):
            serving = sandbox.serving_version(t1)
            progress(f"rollback {i}/{self.plan.auto_rollback_runs}: deploy {UNHEALTHY_VERSION}"
                     f" (unhealthy), refused or rolled back to {serving}")  # fmt: skip
            sandbox.remove_app_images(t1, UNHEALTHY_VERSION)
            why = self.not_rolling()
            result = measured("rollback", "automatic (failed deploy)", serving or "", serving,
                              [t1], lambda: methods.ours_deploy(inventory, UNHEALTHY_VERSION),
                              expect_success=False)  # fmt: skip
            self.auto_rollback_details(result)
            # "Rolled back: X is serving ..." or "Nothing was switched: X is serving."
            if result.ok and f": {serving} is serving" not in result.run.output:
                result.ok = False
            self.invalid(result, why)
            self.keep(result, f"deploy {UNHEALTHY_VERSION}, {serving} serving")
            self.expect_serving(t1, serving or "", "automatic rollback")

    @staticmethod
    def auto_rollback_details(result: Result) -> None:
        """Moments of the automatic rollback (timeline) and when the prober saw the previous
        version answer again after the new release was found unhealthy, in s after the
        command start; none when the previous version kept answering throughout (a refused
        rolling deploy never moves the traffic)."""
        moments = auto_rollback(result.run.events) if result.run is not None else {}
        start = result.started

        def rel(t: float | None) -> float | None:
            return round(t - start, 3) if t is not None else None

        gate = moments.get("gate_failed")
        restore = moments.get("restore_start")
        back = [
            s.done for s in result.samples
            if s.ok and s.version == result.version and gate is not None and s.sent >= gate
        ]  # fmt: skip
        kept = kept_serving(result.samples, result.version, start)
        first_back = min(back) if back and not kept else None
        result.extra.update({
            "previous_kept_serving": kept,
            "gate_failed_s": rel(gate),
            "restore_start_s": rel(restore),
            "restored_healthy_s": rel(moments.get("restored_healthy")),
            "restore_to_healthy_check_s": (
                round(moments["restored_healthy"] - restore, 3)
                if restore and moments.get("restored_healthy") else None
            ),
            "restore_to_first_good_answer_s": (
                round(first_back - restore, 3) if restore and first_back else None
            ),
            "previous_version_answers_again_s": rel(first_back),
        })  # fmt: skip

    # -- measure 5 -------------------------------------------------------------------------
    def overhead(self) -> None:
        if self.plan.overhead_runs == 0:
            self.notes.append(
                "Ansible overhead: tasks and SSH connections are taken from measure 1's runs of"
                " ours; the pipelining / connection reuse comparison is skipped (--quick)."
            )
            return
        inventory = self.inventory(1)
        settings = list(methods.ANSIBLE_SETTINGS.items())
        for i in range(1, self.plan.overhead_runs + 1):
            for label, env in settings if i % 2 else reversed(settings):
                version, serving = self.other(self.t1)
                progress(f"overhead {i}/{self.plan.overhead_runs}: {label}, {serving} -> {version}")
                sandbox.remove_app_images(self.t1, version)
                result = measured("overhead", label, version, serving, [self.t1],
                                  lambda e=env, v=version: methods.ours_deploy(inventory, v, e),
                                  probe=False)  # fmt: skip
                self.keep(result, f"ours {version}, {label}")

    # -- measure 4 -------------------------------------------------------------------------
    def fleet(self) -> None:
        """Measure 4: one deploy of ours to 1, 2, 4, 8 targets (more targets started)."""
        largest = max(self.plan.fleet_sizes)
        if len(self.targets) < largest:
            progress(f"fleet: starting sandbox targets up to {largest}")
            self.targets = sandbox.targets_up(largest)
            for target in self.targets:
                sandbox.ensure_ssh_counter(target)
            self.cold_deploy(self.targets)
        for sweep in range(1, self.plan.fleet_sweeps + 1):
            sizes = self.plan.fleet_sizes if sweep % 2 else tuple(reversed(self.plan.fleet_sizes))
            for count in sizes:
                group = self.targets[:count]
                serving = {sandbox.serving_version(t) for t in group}
                version = next((v for v in HEALTHY_VERSIONS if v not in serving), None)
                if version is None:
                    raise RuntimeError(f"fleet: no version free on {count} targets: {serving}")
                progress(f"fleet {sweep}/{self.plan.fleet_sweeps}: ours to {count} target(s),"
                         f" {'/'.join(sorted(str(s) for s in serving))} -> {version}")  # fmt: skip
                for target in group:
                    sandbox.remove_app_images(target, version)
                inventory = self.inventory(count)
                result = measured("fleet", f"ours x{count}", version, None, group,
                                  lambda i=inventory, v=version: methods.ours_deploy(i, v),
                                  probe=False)  # fmt: skip
                self.keep(result, f"ours {version} to {count} target(s)")
                for target in group:
                    self.expect_serving(target, version, f"fleet x{count}")

    # -- the end ---------------------------------------------------------------------------
    def cleanup(self, keep_targets: bool) -> None:
        if self.secrets is not None:
            self.secrets.cleanup()
            self.secrets = None
        if keep_targets:
            for target in self.targets:
                sandbox.remove_ssh_counter(target)
            progress("targets kept (--keep): make sandbox-down removes them")
        else:
            progress("taking the sandbox targets down")
            sandbox.targets_down()
