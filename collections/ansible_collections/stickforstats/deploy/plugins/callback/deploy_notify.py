"""Callback deploy_notify: a Slack-compatible webhook after every deploy and rollback."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    payload,
    url_label,
)
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._summary_collector import (
    SummaryCollector,
)

DOCUMENTATION = r"""
name: deploy_notify
type: notification
short_description: Slack-compatible webhook after a StickForStats deploy or rollback
description:
  - At the end of C(deploy.yml) and C(rollback.yml) (success, failure, automatic or requested
    rollback), POSTs one JSON message to a webhook URL - Slack's incoming webhooks and the
    receivers that accept their format (Mattermost, Rocket.Chat, ...).
  - "The message has Slack's C(text) and C(attachments), and the same facts as fields:
    C(event) (deploy, rollback), C(outcome) (success, failed, rolled_back), C(version),
    C(environment), C(who), C(duration_seconds) and C(hosts) (per host: versions before and
    after, outcome, health attempts, seconds per phase)."
  - Nothing else is sent, never a variable's or a result's content, so never a secret.
  - The whole POST is bounded by O(timeout). A webhook that fails, answers an error or does
    not answer in time gives one warning line (naming only its scheme, host and port, as the
    path of a Slack webhook is its secret); the run's outcome and exit code are unchanged.
  - Does nothing when no URL is set, for C(--check) runs, and for other playbooks.
version_added: 0.1.0
author: stickforstats-deploy engineers
requirements:
  - enabled in C(callbacks_enabled) (this repository's C(ansible.cfg) does)
options:
  url:
    description:
      - The webhook URL (C(https://hooks.slack.com/services/...)); empty sends nothing.
      - Give it through the environment (a CI secret), not on a command line.
    type: str
    default: ""
    env:
      - name: STICKFORSTATS_NOTIFY_URL
    ini:
      - section: callback_deploy_notify
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
seealso:
  - plugin: stickforstats.deploy.deploy_summary
    plugin_type: callback
"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would re-send the POST as a GET
    without its body and report the redirect target's 200 as success."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, message: dict[str, Any], timeout: float) -> str | None:
    """POST MESSAGE as JSON to URL within TIMEOUT seconds in all; None when the webhook
    answered 2xx, else why not (without the URL's path, its credential)."""
    outcome: list[str | None] = []
    try:
        parts = urlsplit(url)
        bad = parts.scheme.lower() not in ("http", "https") or not parts.hostname
    except ValueError:
        bad = True
    if bad or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "the URL is not a valid http(s) URL"
    # Whatever an error message quotes of the URL, its path and query never show.
    hidden = [x for x in (url, parts.path, parts.query) if len(x) > 1]

    def send() -> None:
        try:
            request = urllib.request.Request(
                url,
                data=json.dumps(message).encode(),
                headers={"Content-Type": "application/json", "User-Agent": "stickforstats-deploy"},
                method="POST",
            )
            # The socket's own timeout is longer than the join below: a webhook that
            # does not answer is always reported as such, whichever thread wakes first.
            with _OPENER.open(request, timeout=timeout + 1) as answer:
                answer.read(65536)
                outcome.append(None)
        except urllib.error.HTTPError as error:
            outcome.append(f"it answered HTTP {error.code}")
        except Exception as error:  # noqa: BLE001 (reported, never raised)
            reason = str(getattr(error, "reason", None) or error)
            for text in hidden:
                reason = reason.replace(text, url_label(url) if text == url else "...")
            outcome.append(f"{type(error).__name__}: {reason[:200]}")

    # A thread bounds the whole exchange: urllib's timeout is per socket operation, and a
    # webhook that answers one byte at a time would hold it much longer.
    worker = threading.Thread(target=send, name="deploy_notify", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return f"no answer within {timeout:g}s"
    return outcome[0]


class CallbackModule(SummaryCollector):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "stickforstats.deploy.deploy_notify"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats: Any) -> None:
        url = ""
        try:
            url = str(self.get_option("url") or "").strip()
            timeout = float(self.get_option("timeout"))
            if not url or self.check_mode():  # a --check run changes nothing: no message
                return
            rows = self.rows(stats)
            if not rows:
                return
            message = payload(rows, self.duration())
            problem = post(url, message, timeout)
        except Exception as error:  # noqa: BLE001 (a notification never breaks a run)
            reason = str(error).replace(url, url_label(url)) if url else str(error)
            problem = f"{type(error).__name__}: {reason[:200]}"
        if problem:
            self._display.warning(
                f"deploy_notify: the webhook at {url_label(url)} was not notified ({problem});"
                " the run's outcome is unchanged."
            )
