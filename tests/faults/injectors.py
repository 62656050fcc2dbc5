"""The faults, each a function of the campaign that returns an injector for run_case.

Everything acts on the campaign's target container only: its ansible-playbook
runs from this controller, its sshd sessions, its Docker engine, its redis
container, small tmpfs mounts inside it.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ansible_run import ROOT, on_target
from campaign import Campaign, Fault, outcome, switched_from
from phases import ROOM_FOR_PULL, Phase, phase
from runner import Run, kill_at, wait_until
from target_state import answering, fresh

Injector = Callable[[Path], Fault]
ENGINE_BOUND = 180.0  # seconds for the target's engine to stop, or to answer again


def deploy_run(
    campaign: Campaign, logs: Path, version: str = "", extra: tuple[str, ...] = (), **kw
) -> Run:
    """deploy.yml of VERSION (by default a good one neither serving nor the rollback target)."""
    version = version or fresh(campaign.target)
    return Run.start(
        campaign.target["inventory"], "deploy.yml", "-e", f"app_version={version}", *extra,
        logs=logs, **kw,
    )  # fmt: skip


def _start(campaign: Campaign, playbook: str, logs: Path, **kw) -> Run:
    if playbook == "deploy.yml":
        return deploy_run(campaign, logs, **kw)
    return Run.start(campaign.target["inventory"], "rollback.yml", logs=logs, **kw)


def kill(
    campaign: Campaign, playbook: str, phase: Phase, controller: str | None = None
) -> Injector:
    """PLAYBOOK (from CONTROLLER, when given) killed (SIGKILL, whole tree) at PHASE."""

    def inject(logs: Path) -> Fault:
        before = answering(campaign.target)
        run = _start(campaign, playbook, logs, controller=controller)
        kill_at(run, phase, switched_from(campaign.target, before))
        return Fault(run.killed_at or time.monotonic(), f"{outcome(run)} at {phase.name}")

    return inject


def finished(campaign: Campaign, version: str) -> Injector:
    """A deploy of VERSION run to its end (a crashing or unhealthy release)."""

    def inject(logs: Path) -> Fault:
        run = deploy_run(campaign, logs, version)
        code = run.wait()
        flat = " ".join(run.output().split())
        said = next(
            (
                s
                for s in (
                    "Rolled back",
                    "Nothing was switched",
                    "fails its healthcheck",
                    "stopped (status exited",
                )
                if s in flat
            ),
            "no reason found",
        )
        return Fault(time.monotonic(), f"deploy.yml of {version} exit {code} ({said})")

    return inject


def _engine_pid(container: str) -> str:
    return subprocess.run(
        ["docker", "exec", container, "pidof", "dockerd"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip


def _running(container: str) -> bool:
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.Running}}", container],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return out.strip() == "true"


def engine_stopped(campaign: Campaign, phase: Phase) -> Injector:
    """The target's dockerd stopped (SIGTERM, as `systemctl stop docker`: it stops
    the containers) at PHASE of a deploy, then started again. dockerd is the
    target's main process (under tini): the target container stops with it, sshd
    included, and `docker start` runs its init again (sshd, then dockerd, which
    restarts the containers whose policy says so): the host's engine restart."""
    container = campaign.target["container"]

    def inject(logs: Path) -> Fault:
        run = deploy_run(campaign, logs)
        try:
            wait_until(phase.banner, lambda: run.seen(phase.banner), 600, run)
            assert run.running(), f"the deploy ended before {phase.name}\n{run.tail()}"
            time.sleep(phase.delay)
            subprocess.run(
                ["docker", "exec", container, "kill", "-TERM", _engine_pid(container)], check=True
            )
            assert wait_until("the engine stopped", lambda: not _running(container), ENGINE_BOUND)
            code = run.wait()
        finally:
            if not _running(container):
                subprocess.run(["docker", "start", container], check=True, capture_output=True)
        ready = wait_until(
            "the engine",
            lambda: subprocess.run(
                ["docker", "exec", container, "docker", "info"], capture_output=True, check=False
            ).returncode == 0,
            ENGINE_BOUND,
        )  # fmt: skip
        assert ready, f"the engine in {container} did not answer within {ENGINE_BOUND:.0f} s"
        return Fault(time.monotonic(), f"deploy.yml exit {code} (engine stopped at {phase.name})")

    return inject


def ssh_cut(campaign: Campaign, playbook: str, phase: Phase) -> Injector:
    """The controller's SSH sessions cut at PHASE: their sshd session processes
    (`sshd: root@...`) killed inside the target; sshd's listener stays."""

    def inject(logs: Path) -> Fault:
        before = answering(campaign.target)
        run = _start(campaign, playbook, logs)
        wait_until(phase.banner, lambda: run.seen(phase.banner), 600, run)
        assert run.running(), f"{playbook} ended before {phase.name}\n{run.tail()}"
        if phase.after_switch:
            wait_until("the switch", switched_from(campaign.target, before), phase.delay, run)
        else:
            time.sleep(phase.delay)
        sessions = on_target(
            campaign.target,
            "ps -eo pid=,args= | awk '$2 == \"sshd:\" && $3 ~ /^root@/ {print $1}'",
        ).split()
        assert sessions, "no sshd session of the controller found in the target"
        on_target(campaign.target, f"kill -KILL {' '.join(sessions)}")
        cut = time.monotonic()
        code = run.wait()
        return Fault(
            cut, f"{playbook} exit {code} ({len(sessions)} sshd sessions killed at {phase.name})"
        )

    return inject


def redis_restarted(campaign: Campaign) -> Callable[[Path], str]:
    """Before the case: redis-server killed once inside its container (as the OOM
    killer does); its restart policy brings it back, RestartCount 1."""

    def prepare(_logs: Path) -> str:
        target = campaign.target
        count = "docker inspect -f '{{.RestartCount}}' stickforstats_redis"
        before = int(on_target(target, count).strip() or 0)
        on_target(
            target, "docker exec stickforstats_redis sh -c 'kill -KILL $(pidof redis-server)'"
        )
        back = wait_until(
            "redis back",
            lambda: int(on_target(target, count).strip() or 0) > before
            and on_target(
                target, "docker inspect -f '{{.State.Health.Status}}' stickforstats_redis"
            ).strip() == "healthy"
            and answering(target) != "",
            60,
        )  # fmt: skip
        assert back, "redis did not come back healthy within 60 s"
        return f"redis-server killed once (RestartCount {before} -> {before + 1})"

    return prepare


def deploy_plain(campaign: Campaign) -> Injector:
    """A plain deploy: the fault happened before it (redis_restarted)."""

    def inject(logs: Path) -> Fault:
        run = deploy_run(campaign, logs)
        code = run.wait()
        return Fault(time.monotonic(), f"deploy.yml exit {code}")

    return inject


TMP = "/var/lib/docker/tmp"  # where the engine downloads layers before extracting them


def _fill(target: dict, where: str) -> None:
    """Writes zeros under WHERE until its filesystem is full (a tmpfs: bounded)."""
    on_target(target, f"dd if=/dev/zero of={where}/sfs-fill bs=64k 2>/dev/null || true")


def disk_full_at_pull(campaign: Campaign) -> Injector:
    """The disk where the engine downloads layers fills once the free-disk check
    passed: a full 1 MB tmpfs mounted at /var/lib/docker/tmp in the target (at the
    banner of the check that reads the measure), the version's images removed
    first so that the pull downloads. Unmounted after the run."""
    target = campaign.target

    def inject(logs: Path) -> Fault:
        version = unused_version(target)
        on_target(target, f"docker image rm {images(version)} >/dev/null 2>&1 || true")
        run = deploy_run(campaign, logs, version)
        banner = ROOM_FOR_PULL.banner
        try:
            wait_until(banner, lambda: run.seen(banner), 600, run)
            assert run.running(), f"the deploy ended before the pull\n{run.tail()}"
            on_target(target, f"mount -t tmpfs -o size=1m sfs-full {TMP}")
            _fill(target, TMP)
            code = run.wait()
        finally:
            on_target(target, f"umount {TMP} 2>/dev/null || umount -l {TMP} 2>/dev/null || true")
        return Fault(
            time.monotonic(), f"deploy.yml of {version} exit {code} (disk full at the pull)"
        )

    return inject


def disk_full_at_record(campaign: Campaign) -> Injector:
    """The release's directory fills before the record: a 4 MB tmpfs mounted on
    releases/<version> before the run (the stage writes there), filled at the
    banner of the health gate (after the rollout, before the record). Its files are
    copied back onto the directory after the run."""
    target = campaign.target

    def inject(logs: Path) -> Fault:
        version = fresh(target)
        release = f"{ROOT}/releases/{version}"
        on_target(target, f"mkdir -p {release} && mount -t tmpfs -o size=4m sfs-full {release}")
        run = deploy_run(campaign, logs, version)
        banner = phase("deploy.yml", "after-rollout").banner
        try:
            wait_until(banner, lambda: run.seen(banner), 600, run)
            assert run.running(), f"the deploy ended before the record\n{run.tail()}"
            _fill(target, release)
            code = run.wait()
        finally:
            on_target(
                target,
                f"rm -f {release}/sfs-fill; rm -rf /tmp/sfs-release && cp -a {release} /tmp/sfs-release"
                f" && (umount {release} || umount -l {release})"
                f" && cp -a /tmp/sfs-release/. {release}/ && rm -rf /tmp/sfs-release",
            )
        return Fault(
            time.monotonic(), f"deploy.yml of {version} exit {code} (disk full at the record)"
        )

    return inject


def images(version: str) -> str:
    return " ".join(f"registry:5000/stickforstats/{n}:{version}" for n in ("backend", "frontend"))


def unused_version(target: dict) -> str:
    """A good version no container runs (its images can be removed), the one
    neither serving nor the rollback target when it can be."""
    used = on_target(target, "docker ps -a --format '{{.Image}}'")
    serving = answering(target)
    for version in (fresh(target), "c0ffee3", "c0ffee1", "c0ffee2"):
        if version != serving and f":{version}" not in used:
            return version
    raise AssertionError(f"every good version is used by a container:\n{used}")
