"""Callback deploy_summary: a table at the end of every deploy and rollback, and the same
to a Slack-compatible webhook when one is set."""

from __future__ import annotations

from typing import Any

from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    payload,
    summary_lines,
    url_label,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._summary_collector import (
    SummaryCollector,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._webhook import post

DOCUMENTATION = r"""
name: deploy_summary
type: aggregate
short_description: Summary of a StickForStats deploy or rollback, printed and sent to a webhook
description:
  - At the end of C(deploy.yml) and C(rollback.yml), prints one line for the run (event,
    versions, environment, who, outcome, duration) and a table with one row per host, the
    version that served before and serves after, the outcome (C(success), C(failed),
    C(rolled_back)), the seconds spent in each phase (pull, migrate, switch, verify, and the
    automatic rollback), the total and the attempts of the health check.
  - Phases are timed per host, once per task, from the tags of each task (the table in
    C(plugins/plugin_utils/_phases.py), shared with the repository's bench; C(deploy_pull)
    is the pull, C(release_verify) the health gate, C(deploy_recover) the automatic
    rollback). A task without a phase tag counts in the phase of the host's previous task.
    Renaming or moving a task file changes no figure. Versions, outcome and health attempts
    come from the C(stickforstats_summary) statistics that the deploy and rollback roles
    publish with M(ansible.builtin.set_stats).
  - When O(url) is set, POSTs the same summary as one JSON message to a webhook - Slack's
    incoming webhooks and the receivers that accept their format (Mattermost, Rocket.Chat,
    ...) - after every deploy and rollback (success, failure, automatic or requested
    rollback).
  - "The message has Slack's C(text) and C(attachments), and the same facts as fields:
    C(event) (deploy, rollback), C(outcome) (success, failed, rolled_back), C(version),
    C(environment), C(who), C(duration_seconds) and C(hosts) (per host: versions before and
    after, outcome, health attempts, seconds per phase)."
  - Nothing else is sent, never a variable's or a result's content, so never a secret.
  - The whole POST is bounded by O(timeout). A webhook that fails, answers an error or does
    not answer in time gives one warning line starting with C(deploy_notify:) (naming only
    its scheme, host and port, as the path of a Slack webhook is its secret); the run's
    outcome and exit code are unchanged.
  - Prints and sends nothing for other playbooks; sends nothing for C(--check) runs.
  - Reads task tags, hosts and statuses, never the content of a result.
version_added: 0.1.0
author: stickforstats-deploy engineers
requirements:
  - enabled in C(callbacks_enabled) (this repository's C(ansible.cfg) does)
options:
  url:
    description:
      - The webhook URL (C(https://hooks.slack.com/services/...)); empty sends nothing.
      - Give it through the environment (a CI secret), not on a command line.
      - The C(callback_deploy_notify) section is the one the former C(deploy_notify)
        callback read; it still works.
    type: str
    default: ""
    env:
      - name: STICKFORSTATS_NOTIFY_URL
    ini:
      - section: callback_deploy_notify
        key: url
      - section: callback_deploy_summary
        key: url
  timeout:
    description: Seconds the POST may take in all (connection, request and answer).
    type: float
    default: 5
    env:
      - name: STICKFORSTATS_NOTIFY_TIMEOUT
    ini:
      - section: callback_deploy_notify
        key: timeout
      - section: callback_deploy_summary
        key: timeout
notes:
  - Hosts that fail before the roles publish anything (preflight, unreachable) are shown as
    C(failed) with the version asked for.
  - The former C(stickforstats.deploy.deploy_notify) callback is this one (a deprecated
    redirect in C(meta/runtime.yml)); enable only C(deploy_summary).
"""


class CallbackModule(SummaryCollector):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "stickforstats.deploy.deploy_summary"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats: Any) -> None:
        duration = self.duration()
        try:
            rows = self.rows(stats)
            if not rows:
                return
            lines = summary_lines(rows, duration, self.check_mode())
        except Exception as error:  # noqa: BLE001 (a summary never breaks a run)
            problem = f"{type(error).__name__}: {error}"
            self._display.warning(f"deploy_summary: no summary ({problem})")
            self._notify(None, duration, problem)
            return
        self._display.banner("STICKFORSTATS SUMMARY")
        for line in lines:
            self._display.display(line)
        self._notify(rows, duration)

    def _notify(
        self, rows: list[dict[str, Any]] | None, duration: float, problem: str = ""
    ) -> None:
        """POST the summary ROWS to the webhook, when one is set and the run is not --check;
        a PROBLEM (no ROWS) or one sending is one warning line (its `deploy_notify:` start is
        what operators and tests/integration/test_summary_notify.py look for)."""
        url = ""
        try:
            url = str(self.get_option("url") or "").strip()
            timeout = float(self.get_option("timeout"))
            if not url or self.check_mode():  # a --check run changes nothing: no message
                return
            if rows is not None:
                problem = post(url, payload(rows, duration), timeout) or ""
        except Exception as error:  # noqa: BLE001 (a notification never breaks a run)
            reason = str(error).replace(url, url_label(url)) if url else str(error)
            problem = f"{type(error).__name__}: {reason[:200]}"
        if problem:
            self._display.warning(
                f"deploy_notify: the webhook at {url_label(url)} was not notified ({problem});"
                " the run's outcome is unchanged."
            )
