"""The status_table filter; documented in status_table.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# title, key of the row, what an empty value shows
COLUMNS = (
    ("HOST", "host", "-"),
    ("SERVING", "serving", "-"),
    ("SINCE", "since", "-"),
    ("HEALTH", "health", "-"),
    ("NEXT ROLLBACK", "next_rollback", "none"),
    ("KEPT", "kept", "none"),
    ("WARM UNTIL", "warm_until", "-"),
    ("LOCK", "lock", "-"),
)


def _cell(value: Any, empty: str) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or empty
    return str(value if value not in (None, "") else empty)


def history_line(event: dict[str, Any]) -> str:
    """One history event on one line: when, what, version, outcome, from, who, why."""
    parts = [
        str(event.get("at", "?")),
        str(event.get("event", "?")),
        str(event.get("version", "?")),
        str(event.get("outcome", "?")),
    ]
    if event.get("previous"):
        parts.append(f"from {event['previous']}")
    if event.get("by"):
        parts.append(f"by {event['by']}")
    if event.get("reason"):
        parts.append(f"({str(event['reason'])[:120]})")
    return " ".join(parts)


def leftovers_line(host: str, names: Sequence[str]) -> str:
    """The stopped containers of a release that does not serve, on one line ('' for none)."""
    if not names:
        return ""
    count = len(names)
    return (
        f"{host}: {count} stopped container{'s' if count != 1 else ''} of a release that does"
        f" not serve ({', '.join(sorted(names))}): removed by the next deploy or rollback"
    )


def status_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """ROWS (one dict per host) as aligned lines, then each host's leftovers (stopped
    containers of a release that does not serve) if any, and its last history events."""
    rows = list(rows)  # iterated twice
    cells = [[title for title, _, _ in COLUMNS]] + [
        [_cell(row.get(key), empty) for _, key, empty in COLUMNS] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    for row in rows:
        leftovers = leftovers_line(str(row.get("host", "?")), row.get("leftovers") or [])
        lines += [leftovers] if leftovers else []
        lines.append(f"{row.get('host', '?')}: last events")
        lines += [f"  {history_line(e)}" for e in row.get("history") or []] or ["  none"]
    return lines


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"status_table": status_table}
