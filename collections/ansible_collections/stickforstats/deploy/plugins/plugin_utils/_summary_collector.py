"""What the deploy_summary callback collects during a run: the time each host spends
in each phase (from the tags of each task, _phases.py), the playbook's event, and at
the end the rows of the summary (set_stats entries of the roles, see
_deploy_summary.py). Reads task tags, hosts and statuses, never the content of a
result. Each task is timed once per host."""

from __future__ import annotations

import getpass
import os
import time
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    STATS_KEY,
    host_rows,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._phases import phase_of


def _plain(value: Any) -> Any:
    """Stats as plain JSON types (templated values may be str subclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


class SummaryCollector(CallbackBase):
    """Times tasks per host and phase; rows() gives the summary at the end."""

    CALLBACK_VERSION = 2.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._started = time.monotonic()
        self._task_started: dict[str, float] = {}
        self._host_started: dict[tuple[str, str], float] = {}
        self._timings: dict[str, dict[str, float]] = {}
        self._last_phase: dict[str, str] = {}
        self._fallback: dict[str, str] = {}

    # -- what the run is ------------------------------------------------------
    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._started = time.monotonic()

    def v2_playbook_on_play_start(self, play: Any) -> None:
        try:
            roles = {role.get_name() for role in play.get_roles()}
            extra = play.get_variable_manager().extra_vars
        except Exception:  # noqa: BLE001 (a summary never breaks a run)
            return
        if "deploy" in roles:
            self._fallback.update(event="deploy", version=str(extra.get("app_version", "?")))
        elif "rollback" in roles:
            self._fallback.update(event="rollback", version=str(extra.get("rollback_to") or "?"))
        if self._fallback and "by" not in self._fallback:
            self._fallback["by"] = (
                os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or getpass.getuser()
            )
        if self._fallback and "environment" not in self._fallback:
            self._fallback["environment"] = self._environment(play)

    @staticmethod
    def _environment(play: Any) -> str:
        """The inventory's release_environment, when it is plain text (for hosts
        that fail before the roles say it)."""
        try:
            manager = play.get_variable_manager()
            hosts = manager._inventory.get_hosts(play.hosts)
            value = manager.get_vars(play=play, host=hosts[0]).get("release_environment")
        except Exception:  # noqa: BLE001 (a summary never breaks a run)
            return ""
        return str(value) if isinstance(value, str) and "{" not in value else ""

    def relevant(self) -> bool:
        """The run was a deploy or a rollback."""
        return "event" in self._fallback

    # -- timing ---------------------------------------------------------------
    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._task_started[task._uuid] = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self._task_started[task._uuid] = time.monotonic()

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        self._host_started[(host.get_name(), task._uuid)] = time.monotonic()

    def _timed(self, result: Any) -> None:
        try:
            host = result._host.get_name()
            task = result._task
            now = time.monotonic()
            start = self._host_started.pop(
                (host, task._uuid), self._task_started.get(task._uuid, now)
            )
            self.add_time(host, task.tags, max(0.0, now - start))
        except Exception:  # noqa: BLE001 (a summary never breaks a run)
            return

    def add_time(self, host: str, tags: Any, seconds: float) -> None:
        """Count SECONDS of HOST's task carrying TAGS in its phase (a task without a phase
        tag in the phase of the host's previous task)."""
        phase = phase_of(tags, previous=self._last_phase.get(host))
        self._last_phase[host] = phase
        phases = self._timings.setdefault(host, {})
        phases[phase] = phases.get(phase, 0.0) + seconds

    def timings(self) -> dict[str, dict[str, float]]:
        """Seconds per phase per host so far."""
        return {host: dict(phases) for host, phases in self._timings.items()}

    def v2_runner_on_ok(self, result: Any) -> None:
        self._timed(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._timed(result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._timed(result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._timed(result)

    # -- the end --------------------------------------------------------------
    @staticmethod
    def check_mode() -> bool:
        """The run is --check."""
        return bool(context.CLIARGS.get("check", False))

    def duration(self) -> float:
        return time.monotonic() - self._started

    def rows(self, stats: Any) -> list[dict[str, Any]]:
        """One row per host, from the roles' stats, this run's timings, and the hosts
        that failed or were unreachable without publishing anything."""
        entries = _plain((getattr(stats, "custom", {}) or {}).get("_run", {}).get(STATS_KEY, {}))
        failed = sorted(
            h for h in getattr(stats, "processed", {}) if stats.failures.get(h) or stats.dark.get(h)
        )
        if not entries and not (failed and self.relevant()):
            return []
        return host_rows(entries, self._timings, failed, self._fallback)
