"""The deploy_summary callback's webhook: one bounded POST that never raises (the
network part; what is sent is _deploy_summary.payload)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    url_label,
)


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
    worker = threading.Thread(target=send, name="deploy_summary_webhook", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return f"no answer within {timeout:g}s"
    return outcome[0]
