"""The rollback_target filter (plugins/filter/history.py): where a rollback with no
rollback_to goes, from the history as history.jsonl holds it. rollback.yml pressed
again and again on a real target: tests/integration/test_rollback_walk.py."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.stickforstats.deploy.plugins.filter.history import (
    rollback_target,
    walk,
)

Z, A, B, C, X = "c0ffee0", "c0ffee1", "c0ffee2", "c0ffee3", "badbad1"


def deploy(version: str, previous: str = "", outcome: str = "success") -> dict[str, Any]:
    return {"event": "deploy", "version": version, "previous": previous, "outcome": outcome}


def rollback(version: str, previous: str, reason: str = "requested by an operator") -> dict:
    return {
        "event": "rollback",
        "version": version,
        "previous": previous,
        "outcome": "success",
        "reason": reason,
    }


def failed_deploy(version: str, previous: str) -> list[dict[str, Any]]:
    """A deploy that failed after the switch, and the automatic rollback (recover.yml)."""
    return [
        deploy(version, previous, outcome="failed"),
        rollback(previous, version, reason=f"deploy of {version} failed"),
    ]


def reconcile(version: str, previous: str) -> dict[str, Any]:
    """What serves written back after a killed run left `current` at PREVIOUS."""
    return {"event": "reconcile", "version": version, "previous": previous, "outcome": "success"}


ALL = [Z, A, B, C, X]

CASES: dict[str, tuple[list[Any], str, list[str], str]] = {
    # id: (history, serving, kept, expected target)
    "nothing-deployed": ([], "", [], ""),
    "one-release-nothing-before": ([deploy(A)], A, [A], ""),
    "A-B-goes-to-A": ([deploy(A), deploy(B, A)], B, [A, B], A),
    "Z-A-B-goes-to-A": ([deploy(Z), deploy(A, Z), deploy(B, A)], B, ALL, A),
    "after-rollback-to-A-goes-further-back-to-Z-not-B": (
        [deploy(Z), deploy(A, Z), deploy(B, A), rollback(A, B)], A, ALL, Z),
    "after-rollback-to-A-nothing-before-A": (
        [deploy(A), deploy(B, A), rollback(A, B)], A, [A, B], ""),
    "after-two-rollbacks-nothing-left": (
        [deploy(Z), deploy(A, Z), deploy(B, A), rollback(A, B), rollback(Z, A)], Z, ALL, ""),
    "failed-deploy-and-its-automatic-rollback-count-for-nothing": (
        [deploy(A), deploy(B, A), *failed_deploy(X, B)], B, ALL, A),
    "failed-deploy-never-a-target-even-where-it-served-before": (
        [deploy(A), deploy(X, A), deploy(B, X), *failed_deploy(X, B)], B, ALL, A),
    "failed-deploy-without-a-switch-never-a-target": (
        [deploy(A), deploy(B, A), deploy(X, B, outcome="failed")], B, ALL, A),
    "redeploy-after-rollback-clears-the-bar": (
        [deploy(A), deploy(B, A), rollback(A, B), deploy(B, A)], B, [A, B], A),
    "redeploy-after-rollback-then-rollback-again-nothing-left": (
        [deploy(A), deploy(B, A), rollback(A, B), deploy(B, A), rollback(A, B)], A, [A, B], ""),
    "a-deploy-after-rollback-goes-back-to-what-served-before-it": (
        [deploy(Z), deploy(A, Z), deploy(B, A), rollback(A, B), deploy(C, A)], C, ALL, A),
    "version-served-twice-walks-past-its-earlier-time": (
        [deploy(Z), deploy(A, Z), deploy(Z, A), deploy(B, Z)], B, ALL, Z),
    "version-served-twice-then-back-to-it-goes-to-what-served-before-it": (
        [deploy(Z), deploy(A, Z), deploy(Z, A), deploy(B, Z), rollback(Z, B)], Z, ALL, A),
    "explicit-rollback_to-far-back-unwinds-everything-after-it": (
        [deploy(Z), deploy(A, Z), deploy(B, A), rollback(Z, B)], Z, ALL, ""),
    "unreadable-lines-count-for-nothing": (
        [deploy(A), {"event": "unreadable", "line": "{\"ev"}, deploy(B, A), "junk", None],
        B, [A, B], A),
    "versions-not-kept-are-skipped": (
        [deploy(Z), deploy(A, Z), deploy(B, A)], B, [Z, B], Z),
    "nothing-kept-before": ([deploy(Z), deploy(A, Z), deploy(B, A)], B, [B], ""),
    "reconcile-counts-as-serving-and-is-no-rollback": (
        [deploy(A), deploy(B, A), reconcile(C, B)], C, ALL, B),
    "reconcile-to-what-a-killed-rollback-brought-back": (
        [deploy(Z), deploy(A, Z), deploy(B, A), reconcile(A, B)], A, ALL, B),
    "failed-hook-event-bars-nothing": (
        [deploy(A), deploy(B, A),
         {"event": "hook", "stage": "post_deploy", "version": A, "outcome": "failed"}],
        B, [A, B], A),
    "current-ahead-of-the-history-walks-the-whole-history": (
        [deploy(A), deploy(B, A)], C, ALL, B),
    "current-behind-the-history-walks-back-from-it": (
        [deploy(Z), deploy(A, Z), deploy(B, A)], A, ALL, Z),
    "events-without-a-version-count-for-nothing": (
        [deploy(A), {"event": "deploy", "outcome": "success"}, deploy(B, A)], B, [A, B], A),
}  # fmt: skip


@pytest.mark.parametrize("history,serving,kept,expected", CASES.values(), ids=CASES.keys())
def test_rollback_target(history: list[Any], serving: str, kept: list[str], expected: str):
    assert rollback_target(history, serving, kept) == expected


def test_walk_says_what_served_and_what_is_barred() -> None:
    state = walk([deploy(Z), deploy(A, Z), deploy(B, A), *failed_deploy(X, B), rollback(A, B)])
    assert state.served == [Z, A]
    assert state.barred == {X, B}


def test_pressing_rollback_again_and_again_walks_back_then_stops() -> None:
    """Each rollback's target, recorded as rollback.yml records it, feeds the next."""
    history: list[Any] = [deploy(Z), deploy(A, Z), deploy(B, A), deploy(C, B)]
    serving, visited = C, []
    while target := rollback_target(history, serving, ALL):
        history.append(rollback(target, serving))
        serving = target
        visited.append(target)
    assert visited == [B, A, Z]
