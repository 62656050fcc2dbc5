"""ansible-playbook in the background, its output in a file, killed at a phase.

`Run.start` starts deploy.yml or rollback.yml against a target (Popen, output
to a file, a session of its own, an ssh ControlPath directory of its own, the
banners of skipped tasks on: a banner marks the start of its task). `kill_at`
waits for a phase's banner, then its delay (or the traffic moving, for a phase
`after_switch`), and kills the whole tree (processes.kill_tree). Every wait is
bounded.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ansible_run import BIN, REPO, VAULT_PASSWORD_FILE
from phases import Phase
from processes import kill_tree

RUN_TIMEOUT = 600.0  # seconds: no run of the campaign takes longer
POLL = 0.05  # seconds between two readings of the output
_SEQUENCE = itertools.count(1)
RUNS: list[Run] = []  # every run started, to tell which ones a failed request overlapped


@dataclass
class Run:
    """One ansible-playbook process and where its output goes."""

    playbook: str
    args: tuple[str, ...]
    log: Path
    proc: subprocess.Popen
    control_dir: str
    started: float = field(default_factory=time.monotonic)
    killed_at: float | None = None
    ended_at: float | None = None
    wall: list[float] = field(default_factory=lambda: [time.time(), 0.0])  # start, end (epoch)

    @classmethod
    def start(
        cls,
        inventory: str,
        playbook: str,
        *args: str,
        logs: Path,
        controller: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> Run:
        """Starts PLAYBOOK against INVENTORY; CONTROLLER sets STICKFORSTATS_CONTROLLER."""
        logs.mkdir(parents=True, exist_ok=True)
        n = next(_SEQUENCE)
        log = (
            logs
            / f"{n:02d}-{playbook.removesuffix('.yml')}{'-' + controller if controller else ''}.log"
        )
        # short: a ControlPath is a unix socket name (at most 108 bytes)
        control_dir = tempfile.mkdtemp(prefix="sfs-cp-", dir="/tmp")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
        env.update(
            PYTHONUNBUFFERED="1",
            ANSIBLE_DISPLAY_SKIPPED_HOSTS="true",  # a banner as each task starts
            ANSIBLE_SSH_CONTROL_PATH_DIR=control_dir,
            ANSIBLE_FORCE_COLOR="false",
            ANSIBLE_NOCOLOR="true",
        )
        if controller:
            env["STICKFORSTATS_CONTROLLER"] = controller
        env.update(extra_env or {})
        argv = [
            str(BIN / "ansible-playbook"), "-i", inventory,
            "--vault-password-file", str(VAULT_PASSWORD_FILE), playbook, *args,
        ]  # fmt: skip
        with open(log, "w", encoding="utf-8") as out:
            out.write(f"$ {' '.join(argv[1:])}  (controller {controller or 'default'})\n")
            out.flush()
            proc = subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        run = cls(playbook, tuple(args), log, proc, control_dir)
        RUNS.append(run)
        return run

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.proc.poll() is None

    def seen(self, banner: str) -> bool:
        return banner in self.output()

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        """The exit code; a run still going after TIMEOUT is killed (and fails the case)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.playbook} ran over {timeout:.0f} s: killed") from None
        self.ended_at = self.ended_at or time.monotonic()
        self.wall[1] = self.wall[1] or time.time()
        shutil.rmtree(self.control_dir, ignore_errors=True)
        return code

    def kill(self) -> float:
        """SIGKILL the controller's whole tree; returns when (monotonic)."""
        kill_tree(self.proc.pid, marker=self.control_dir)
        self.killed_at = time.monotonic()
        self.proc.wait(timeout=30)
        self.ended_at = self.killed_at
        self.wall[1] = time.time()
        shutil.rmtree(self.control_dir, ignore_errors=True)
        return self.killed_at

    def tail(self, chars: int = 4000) -> str:
        return f"--- {self.log} (end)\n{self.output()[-chars:]}"


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, run: Run | None = None
) -> bool:
    """Polls CHECK until true (True), TIMEOUT passes or RUN ends (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if run is not None and not run.running():
            return check()
        time.sleep(POLL)
    return False


def kill_at(run: Run, phase: Phase, switched: Callable[[], bool] | None = None) -> None:
    """Kills RUN at PHASE: its banner, then its delay, or (after_switch) as soon as
    SWITCHED() tells the traffic moved, within the delay. Fails when the run ends first."""
    reached = wait_until(phase.banner, lambda: run.seen(phase.banner), RUN_TIMEOUT, run)
    assert reached and run.running(), (
        f"{run.playbook} ended (exit {run.proc.poll()}) before phase {phase.name} "
        f"({phase.banner}): nothing was killed\n{run.tail()}"
    )
    if phase.after_switch:
        assert switched is not None, f"phase {phase.name} needs a check of the traffic"
        moved = wait_until("the switch", switched, phase.delay, run)
        assert moved and run.running(), (
            f"the traffic did not move while {phase.banner} ran (moved: {moved})\n{run.tail()}"
        )
    elif phase.delay:
        wait_until("the delay", lambda: False, phase.delay, run)
        assert run.running(), f"{run.playbook} ended within the delay of {phase.name}\n{run.tail()}"
    run.kill()
