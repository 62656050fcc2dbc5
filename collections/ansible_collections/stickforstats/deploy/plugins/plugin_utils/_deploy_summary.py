"""Pure parts of the deploy_summary callback and its webhook (unit-tested).

The roles publish, with ``ansible.builtin.set_stats`` (run-wide, aggregated),
one entry per host under ``stickforstats_summary``: event (deploy, rollback),
version, previous, after (what serves at the end), outcome (success, failed,
rolled_back), health_attempts, environment, by. The callback adds the time of
each phase, measured per host from the tags of the tasks that ran (_phases.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

STATS_KEY = "stickforstats_summary"
# The phases shown, in order (names of _phases.py's table); the others (preflight, lock,
# stage, record ...) count in the total.
PHASES = ("pull", "migrate", "switch", "verify", "rollback")
OUTCOMES = ("success", "rolled_back", "failed")  # worst last
_SAFE_TEXT = re.compile(r"[^A-Za-z0-9_.:@+/ -]")


def _text(value: Any, default: str = "") -> str:
    """A short, printable value (the stats are the roles' own, but stay on one line)."""
    if value in (None, ""):
        return default
    return _SAFE_TEXT.sub("?", str(value))[:80]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def host_rows(
    entries: Mapping[str, Mapping[str, Any]],
    timings: Mapping[str, Mapping[str, float]],
    failed: Sequence[str] = (),
    fallback: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per host: the published ENTRIES, the TIMINGS (seconds per phase), and
    hosts that FAILED without publishing anything (failed before the lock, or
    unreachable) with what FALLBACK knows (event, version, environment, by)."""
    fallback = dict(fallback or {})
    hosts = sorted(set(entries) | set(failed))
    rows = []
    for host in hosts:
        entry = dict(entries.get(host) or {})
        phases = {k: round(float(v), 1) for k, v in (timings.get(host) or {}).items()}
        outcome = _text(entry.get("outcome"), "failed")
        if host in failed and outcome == "success":
            outcome = "failed"  # failed after publishing (prune does not fail; be safe)
        rows.append(
            {
                "host": host,
                "event": _text(entry.get("event"), fallback.get("event", "?")),
                "version": _text(entry.get("version"), fallback.get("version", "?")),
                "before": _text(entry.get("previous"), "none" if entry else "?"),
                "after": _text(entry.get("after"), "?"),
                "outcome": outcome if outcome in OUTCOMES else "failed",
                "phases": {p: phases[p] for p in PHASES if p in phases},
                "total": round(sum(phases.values()), 1),
                "health_attempts": _int(entry.get("health_attempts")),
                "rollback_health_attempts": _int(entry.get("rollback_health_attempts")),
                "environment": _text(entry.get("environment"), fallback.get("environment", "")),
                "by": _text(entry.get("by"), fallback.get("by", "")),
            }
        )
    return rows


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _attempts(row: Mapping[str, Any]) -> str:
    """Health attempts of the release, then of the release brought back."""
    health, back = row.get("health_attempts"), row.get("rollback_health_attempts")
    text = "-" if health is None else str(health)
    return text if back is None else f"{text}, rollback {back}"


def overall(rows: Sequence[Mapping[str, Any]], duration: float) -> dict[str, Any]:
    """What the run did, over all hosts: event, worst outcome, versions, environment, who."""

    def joined(key: str) -> str:
        return (
            ", ".join(sorted({str(r[key]) for r in rows if r.get(key) not in (None, "", "?")}))
            or "?"
        )

    outcome = max((r["outcome"] for r in rows), key=OUTCOMES.index, default="failed")
    return {
        "event": joined("event"),
        "outcome": outcome,
        "version": joined("version"),
        "environment": joined("environment"),
        "by": joined("by"),
        "hosts": [r["host"] for r in rows],
        "duration": round(duration, 1),
    }


def summary_lines(
    rows: Sequence[Mapping[str, Any]], duration: float, check: bool = False
) -> list[str]:
    """The summary as the operator reads it: one line for the run, then a table with
    one row per host (before -> after is what served before and serves now). CHECK:
    the run was --check (it changed nothing)."""
    run = overall(rows, duration)
    head = [
        f"{run['event']} {run['version']} in {run['environment']} by {run['by']}:"
        f" {run['outcome']} in {run['duration']:.1f}s"
        + (" (check mode: nothing was changed)" if check else "")
    ]
    titles = ["HOST", "EVENT", "VERSION", "BEFORE -> AFTER", "OUTCOME"]
    titles += [p.upper() for p in PHASES] + ["TOTAL", "HEALTH ATTEMPTS"]
    cells = [titles]
    for r in rows:
        cells.append(
            [r["host"], r["event"], r["version"], f"{r['before']} -> {r['after']}", r["outcome"]]
            + [_seconds(r["phases"].get(p)) for p in PHASES]
            + [_seconds(r["total"]), _attempts(r)]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(titles))]
    table = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    return head + table


_VERBS = {
    ("deploy", "success"): "succeeded",
    ("deploy", "rolled_back"): "failed, the previous release was brought back",
    ("deploy", "failed"): "failed",
    ("rollback", "success"): "succeeded",
}


def payload(rows: Sequence[Mapping[str, Any]], duration: float) -> dict[str, Any]:
    """The webhook's JSON: Slack's `text` and `attachments`, plus the same facts as
    fields for other receivers. Only versions, outcome, environment, hosts, duration
    and who: nothing from a task's result, so never a secret."""
    run = overall(rows, duration)
    verb = _VERBS.get((run["event"], run["outcome"]), run["outcome"].replace("_", " "))
    what = (
        f"rollback to {run['version']}"
        if run["event"] == "rollback"
        else f"{run['event']} of {run['version']}"
    )
    hosts = ", ".join(f"{r['host']} ({r['before']} -> {r['after']})" for r in rows) or "no host"
    text = (
        f"StickForStats {run['environment']}: {what} {verb} on {hosts}"
        f" in {run['duration']:.0f}s, by {run['by']}"
    )
    color = {"success": "good", "rolled_back": "warning"}.get(run["outcome"], "danger")
    fields = [
        {"title": "Environment", "value": run["environment"], "short": True},
        {"title": "Version", "value": run["version"], "short": True},
        {"title": "Outcome", "value": run["outcome"], "short": True},
        {"title": "Who", "value": run["by"], "short": True},
        {"title": "Duration", "value": f"{run['duration']:.1f}s", "short": True},
        {"title": "Hosts", "value": hosts, "short": False},
    ]
    return {
        "text": text,
        "attachments": [{"color": color, "fallback": text, "fields": fields}],
        "event": run["event"],
        "outcome": run["outcome"],
        "version": run["version"],
        "environment": run["environment"],
        "who": run["by"],
        "duration_seconds": run["duration"],
        "hosts": [
            {
                "host": r["host"],
                "event": r["event"],
                "version": r["version"],
                "before": r["before"],
                "after": r["after"],
                "outcome": r["outcome"],
                "health_attempts": r["health_attempts"],
                "rollback_health_attempts": r["rollback_health_attempts"],
                "phases": dict(r["phases"]),
            }
            for r in rows
        ],
    }


def url_label(url: str) -> str:
    """Where a webhook URL points, for messages: scheme, host and port only (the path
    of a Slack webhook is its secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an invalid URL"
    return f"{parts.scheme or '?'}://{host}{port}"
