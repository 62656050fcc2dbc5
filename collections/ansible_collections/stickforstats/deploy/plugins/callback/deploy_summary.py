"""Callback deploy_summary: a table at the end of every deploy and rollback."""

from __future__ import annotations

from typing import Any

from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    summary_lines,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._summary_collector import (
    SummaryCollector,
)

DOCUMENTATION = r"""
name: deploy_summary
type: aggregate
short_description: Summary table at the end of a StickForStats deploy or rollback
description:
  - At the end of C(deploy.yml) and C(rollback.yml), prints one line for the run (event,
    versions, environment, who, outcome, duration) and a table with one row per host, the
    version that served before and serves after, the outcome (C(success), C(failed),
    C(rolled_back)), the seconds spent in each phase (pull, migrate, switch, verify, and the
    automatic rollback), the total and the attempts of the health check.
  - Phases are timed per host from the task file each task comes from
    (C(roles/deploy/tasks/pull.yml) is the pull); the health role counts in the phase that
    included it. Versions, outcome and health attempts come from the C(stickforstats_summary)
    statistics that the deploy and rollback roles publish with M(ansible.builtin.set_stats).
  - Prints nothing for other playbooks. Reads task paths, actions, hosts and statuses, never
    the content of a result.
version_added: 0.1.0
author: stickforstats-deploy engineers
requirements:
  - enabled in C(callbacks_enabled) (this repository's C(ansible.cfg) does)
notes:
  - Hosts that fail before the roles publish anything (preflight, unreachable) are shown as
    C(failed) with the version asked for.
seealso:
  - plugin: stickforstats.deploy.deploy_notify
    plugin_type: callback
"""


class CallbackModule(SummaryCollector):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "stickforstats.deploy.deploy_summary"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats: Any) -> None:
        try:
            rows = self.rows(stats)
            if not rows:
                return
            lines = summary_lines(rows, self.duration(), self.check_mode())
        except Exception as error:  # noqa: BLE001 (a summary never breaks a run)
            self._display.warning(f"deploy_summary: no summary ({type(error).__name__}: {error})")
            return
        self._display.banner("STICKFORSTATS SUMMARY")
        for line in lines:
            self._display.display(line)
