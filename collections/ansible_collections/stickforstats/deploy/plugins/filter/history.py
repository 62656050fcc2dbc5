"""The rollback_target filter; documented in rollback_target.yml beside this file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Failed events of these kinds mean their version failed (a failed hook event does not:
# the release it names stays or came back healthy).
FAILING_EVENTS = frozenset({"deploy", "rollback"})


@dataclass
class Walk:
    """What served, in order (a stack), and the versions never to go back to."""

    served: list[str] = field(default_factory=list)
    barred: set[str] = field(default_factory=set)

    def serve(self, version: str) -> None:
        """VERSION serves from now on; a success clears what barred it."""
        self.barred.discard(version)
        if not self.served or self.served[-1] != version:
            self.served.append(version)

    def back_to(self, version: str, previous: str) -> None:
        """A rollback brought VERSION back: what served after its last time is unwound."""
        if version in self.served:
            del self.served[len(self.served) - self.served[::-1].index(version) :]
        self.serve(version)
        if previous and previous != version:
            self.barred.add(previous)

    def failed(self, version: str) -> None:
        self.barred.add(version)


def walk(history: Iterable[Any]) -> Walk:
    """Replays HISTORY (oldest first): any successful event with a version means that
    version served from then on (deploy, reconcile ...); a rollback also unwinds what
    served after its version and bars the release it moved away from; a failed deploy
    or rollback bars its version. Unreadable lines and events without a version count
    for nothing."""
    state = Walk()
    for event in history or []:
        if not isinstance(event, dict):
            continue
        version = str(event.get("version") or "")
        if not version:
            continue
        outcome, kind = event.get("outcome"), event.get("event")
        if outcome == "success" and kind == "rollback":
            state.back_to(version, str(event.get("previous") or ""))
        elif outcome == "success":
            state.serve(version)
        elif outcome == "failed" and kind in FAILING_EVENTS:
            state.failed(version)
    return state


def rollback_target(history: Iterable[Any], serving: str, kept: Sequence[str]) -> str:
    """The release a rollback with no rollback_to brings back: walking back along what
    served from the serving release's last time, the first one that is kept, is not
    the serving one, did not fail and was not moved away from by a rollback; '' when
    there is none."""
    state = walk(history)
    served = state.served
    if serving in served:  # what served after the serving release's last time is no way back
        served = served[: len(served) - served[::-1].index(serving)]
    kept_set = {str(k) for k in kept or []}
    for version in reversed(served):
        if version != serving and version in kept_set and version not in state.barred:
            return version
    return ""


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"rollback_target": rollback_target}
