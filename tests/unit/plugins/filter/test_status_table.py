"""The status_table filter (plugins/filter/status_table.py); status.yml shows it
on a real target in tests/integration/test_status.py."""

from __future__ import annotations

from ansible_collections.stickforstats.deploy.plugins.filter.status_table import (
    history_line,
    status_table,
)

ROW = {
    "host": "web-1",
    "serving": "c0ffee2",
    "since": "2026-11-26T10:00:00Z",
    "health": "ok",
    "next_rollback": "c0ffee1",
    "kept": ["c0ffee1"],
    "warm_until": "",
    "lock": "free",
    "history": [
        {"at": "2026-11-26T10:00:00Z", "event": "deploy", "version": "c0ffee2",
         "outcome": "success", "previous": "c0ffee1", "by": "ci"},
    ],
}  # fmt: skip


def test_columns_line_up_and_empty_values_show() -> None:
    other = {**ROW, "host": "web-10", "serving": "nothing", "next_rollback": "", "kept": [],
             "history": []}  # fmt: skip
    lines = status_table([ROW, other])
    header, first, second = lines[:3]
    assert header.split()[:2] == ["HOST", "SERVING"]
    for column in ("SERVING", "HEALTH", "LOCK"):
        assert first.index(
            ROW["serving"] if column == "SERVING" else "ok" if column == "HEALTH" else "free"
        ) == header.index(column)
    assert "none" in second and "  -  " in second  # no rollback target, no warm containers
    assert lines[3:] == [
        "web-1: last events",
        "  2026-11-26T10:00:00Z deploy c0ffee2 success from c0ffee1 by ci",
        "web-10: last events",
        "  none",
    ]


def test_next_rollback_target_has_its_column_none_when_there_is_none() -> None:
    nothing_left = {**ROW, "host": "web-2", "next_rollback": "", "kept": ["c0ffee1", "c0ffee3"]}
    header, first, second = status_table([ROW, nothing_left])[:3]
    column = header.index("NEXT ROLLBACK")
    assert header.index("HEALTH") < column < header.index("KEPT")
    assert first[column:].split()[0] == "c0ffee1"
    assert second[column:].split()[0] == "none"
    assert second[header.index("KEPT") :].startswith("c0ffee1, c0ffee3")


def test_history_line_cuts_long_reasons() -> None:
    line = history_line(
        {"at": "t", "event": "deploy", "version": "v", "outcome": "failed", "reason": "x" * 500}
    )
    assert line.startswith("t deploy v failed (") and len(line) < 160


def test_leftovers_are_named_under_the_table_not_in_the_health_column() -> None:
    row = {**ROW, "leftovers": ["stickforstats-frontend-6", "stickforstats-backend-6"]}
    lines = status_table([row])
    assert lines[1].split()[3] == "ok"
    assert lines[2] == (
        "web-1: 2 stopped containers of a release that does not serve (stickforstats-backend-6,"
        " stickforstats-frontend-6): removed by the next deploy or rollback"
    )
    assert lines[3] == "web-1: last events"
    assert not any("does not serve" in line for line in status_table([ROW]))
