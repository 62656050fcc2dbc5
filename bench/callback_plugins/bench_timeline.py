"""Ansible callback for the bench: one JSON line per task start and per host result.

Loaded only when the bench puts this directory on ANSIBLE_CALLBACK_PLUGINS; writes
to the file named by SFS_BENCH_TIMELINE (nothing when unset). It records task
names, tags (bench/timeline.py reads the phases from them), file paths, hosts,
statuses and epoch timestamps, never a result's content (results can hold secrets).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_timeline
type: aggregate
short_description: Timeline of task starts and host results, for bench/
description:
  - Appends one JSON line per task start and per host result (with an epoch timestamp)
    to the file named by the environment variable C(SFS_BENCH_TIMELINE).
  - Writes names, tags, paths, hosts and statuses only, never the content of a result.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get("SFS_BENCH_TIMELINE", "")

    def _emit(self, event: str, **fields: Any) -> None:
        if not self._path:
            return
        line = json.dumps({"event": event, "t": time.time(), **fields})
        with open(self._path, "a", encoding="utf-8") as out:
            out.write(line + "\n")

    @staticmethod
    def _task_fields(task: Any) -> dict[str, Any]:
        role = getattr(task, "_role", None)
        return {
            "task": task.get_name(),
            "path": task.get_path() or "",
            "role": role.get_name() if role else "",
            "action": task.action or "",
            # its own and inherited tags (blocks, imports, apply), once each
            "tags": sorted({str(tag) for tag in task.tags or ()}),
        }

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._emit("playbook_start")

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._emit("task_start", **self._task_fields(task))

    def _result(self, status: str, result: Any) -> None:
        self._emit("result", host=result.host.get_name(), status=status,
                   **self._task_fields(result.task))  # fmt: skip

    def v2_runner_on_ok(self, result: Any) -> None:
        self._result("changed" if result.is_changed() else "ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._result("skipped", result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._result("unreachable", result)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._emit("stats")
