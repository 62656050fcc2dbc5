"""The pure parts of the deploy_summary callback and its webhook
(plugins/plugin_utils/_deploy_summary.py); the phase of a task: test__phases.py;
tests/integration/test_summary_notify.py shows them on a real target."""

from __future__ import annotations

import json

import pytest
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._deploy_summary import (
    host_rows,
    overall,
    payload,
    summary_lines,
    url_label,
)

ENTRY = {
    "event": "deploy",
    "version": "c0ffee2",
    "previous": "c0ffee1",
    "after": "c0ffee2",
    "outcome": "success",
    "health_attempts": "3",
    "environment": "staging",
    "by": "octocat",
}
TIMINGS = {"web-1": {"stage": 1.0, "pull": 2.04, "migrate": 1.5, "switch": 6.26, "verify": 2.2}}


def test_host_rows_merge_stats_timings_and_hosts_that_failed_early():
    rows = host_rows(
        {"web-1": ENTRY},
        TIMINGS,
        failed=["web-2"],
        fallback={"event": "deploy", "version": "c0ffee2", "environment": "staging", "by": "ci"},
    )
    assert rows[0] == {
        "host": "web-1",
        "event": "deploy",
        "version": "c0ffee2",
        "before": "c0ffee1",
        "after": "c0ffee2",
        "outcome": "success",
        "phases": {"pull": 2.0, "migrate": 1.5, "switch": 6.3, "verify": 2.2},
        "total": 13.0,
        "health_attempts": 3,
        "rollback_health_attempts": None,
        "environment": "staging",
        "by": "octocat",
    }
    # failed before publishing anything: what the run was asked to do, outcome failed
    assert rows[1]["host"] == "web-2" and rows[1]["outcome"] == "failed"
    assert (rows[1]["version"], rows[1]["before"], rows[1]["after"]) == ("c0ffee2", "?", "?")
    assert rows[1]["health_attempts"] is None and rows[1]["phases"] == {}


def test_overall_takes_the_worst_outcome():
    rows = host_rows(
        {
            "a": ENTRY,
            "b": {**ENTRY, "outcome": "rolled_back", "after": "c0ffee1"},
        },
        {},
    )
    assert overall(rows, 12.34)["outcome"] == "rolled_back"
    rows = host_rows({"a": ENTRY}, {}, failed=["b"])
    assert overall(rows, 1)["outcome"] == "failed"
    assert overall(host_rows({"a": ENTRY}, {}), 1)["outcome"] == "success"


def test_summary_table():
    rows = host_rows(
        {
            "web-1": ENTRY,
            "web-2": {
                **ENTRY,
                "version": "badbad1",
                "previous": "c0ffee2",
                "outcome": "rolled_back",
                "after": "c0ffee2",
                "health_attempts": 0,
                "rollback_health_attempts": 2,
            },
        },
        {**TIMINGS, "web-2": {"pull": 1.0, "rollback": 7.25}},
    )
    lines = summary_lines(rows, 31.04)
    assert lines[0] == "deploy badbad1, c0ffee2 in staging by octocat: rolled_back in 31.0s"
    assert lines[1].split() == [
        "HOST", "EVENT", "VERSION", "BEFORE", "->", "AFTER", "OUTCOME", "PULL", "MIGRATE",
        "SWITCH", "VERIFY", "ROLLBACK", "TOTAL", "HEALTH", "ATTEMPTS",
    ]  # fmt: skip
    assert lines[2].split() == [
        "web-1", "deploy", "c0ffee2", "c0ffee1", "->", "c0ffee2", "success",
        "2.0s", "1.5s", "6.3s", "2.2s", "-", "13.0s", "3",
    ]  # fmt: skip
    assert lines[3].split() == [
        "web-2", "deploy", "badbad1", "c0ffee2", "->", "c0ffee2", "rolled_back",
        "1.0s", "-", "-", "-", "7.2s", "8.2s", "0,", "rollback", "2",
    ]  # fmt: skip
    # columns are aligned
    assert len({line.index("OUTCOME") for line in lines[1:2]}) == 1
    assert lines[2].index("success") == lines[1].index("OUTCOME") == lines[3].index("rolled_back")


def test_values_stay_on_one_line():
    rows = host_rows({"a": {**ENTRY, "by": "evil\nname\x1b[31m"}}, {})
    assert rows[0]["by"] == "evil?name??31m"


@pytest.mark.parametrize(
    "entry,event,outcome,words",
    [
        (ENTRY, "deploy", "success", "deploy of c0ffee2 succeeded on web-1 (c0ffee1 -> c0ffee2)"),
        (
            {
                **ENTRY,
                "version": "badbad1",
                "previous": "c0ffee2",
                "after": "c0ffee2",
                "outcome": "rolled_back",
            },
            "deploy",
            "rolled_back",
            "deploy of badbad1 failed, the previous release was brought back on web-1 (c0ffee2 -> c0ffee2)",
        ),
        (
            {
                **ENTRY,
                "event": "rollback",
                "version": "c0ffee1",
                "previous": "c0ffee2",
                "after": "c0ffee1",
            },
            "rollback",
            "success",
            "rollback to c0ffee1 succeeded on web-1 (c0ffee2 -> c0ffee1)",
        ),
    ],
    ids=["success", "rolled_back", "rollback"],
)
def test_payload(entry, event, outcome, words):
    message = payload(host_rows({"web-1": entry}, TIMINGS), 25.44)
    assert message["text"] == f"StickForStats staging: {words} in 25s, by octocat"
    assert (message["event"], message["outcome"]) == (event, outcome)
    assert message["version"] == entry["version"]
    assert (message["environment"], message["who"], message["duration_seconds"]) == (
        "staging",
        "octocat",
        25.4,
    )
    assert message["hosts"][0]["phases"] == {
        "pull": 2.0,
        "migrate": 1.5,
        "switch": 6.3,
        "verify": 2.2,
    }
    fields = {f["title"]: f["value"] for f in message["attachments"][0]["fields"]}
    assert fields["Version"] == entry["version"] and fields["Outcome"] == outcome
    json.dumps(message)  # plain JSON


def test_payload_carries_only_what_the_entries_say():
    """Anything else a role might put in its entry (a secret by mistake) is not sent."""
    message = payload(host_rows({"web-1": {**ENTRY, "password": "SFSsecret-x"}}, {}), 1)
    assert "SFSsecret" not in json.dumps(message)


@pytest.mark.parametrize(
    "url,label",
    [
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com"),
        ("http://127.0.0.1:8099/hook?token=abc", "http://127.0.0.1:8099"),
        ("http://[::1]:99999/x", "an invalid URL"),
        ("not a url", "?://?"),
    ],
)
def test_url_label_never_shows_the_path(url, label):
    assert url_label(url) == label
