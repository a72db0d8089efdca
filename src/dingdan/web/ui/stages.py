"""What the order page shows of the lifecycle, derived from the transition table (never
hard-coded per page): the stages of the progress bar and the fields each action asks for.
Which actions a person may take comes from ``services.queries.allowed_actions_for``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dingdan.domain import lifecycle
from dingdan.domain.events import REASON_REQUIRED
from dingdan.domain.lifecycle import Action, Status

_EXITS = frozenset({Status.CANCELLED, Status.ON_HOLD})


def main_path() -> list[Status]:
    """The happy path: from the first status, follow each status's first unguarded transition
    (in table order) that neither leaves the flow (cancel, hold) nor goes back."""
    path = [Status.PENDING_PAYMENT]
    while True:
        nxt = next((t.target for t in lifecycle.TRANSITIONS
                    if t.source is path[-1] and t.guard is None and t.target is not None
                    and t.target not in _EXITS and t.target not in path), None)
        if nxt is None:
            return path
        path.append(nxt)


@dataclass(frozen=True)
class Stage:
    status: Status
    state: str  # done, current, held (on hold here), stopped (cancelled here), skipped, todo
    at: datetime | None


def progress(order: dict[str, Any], timeline: list[dict[str, Any]]) -> list[Stage]:
    """Each stage of the happy path with when the order reached it, from the timeline."""
    reached: dict[str, datetime] = {}
    for event in timeline:
        to = event.get("to_status")
        if to and to not in reached:
            reached[to] = event["created_at"]
    path = main_path()
    status = Status(order["status"])
    here = "current"
    if status is Status.ON_HOLD and order.get("held_from"):
        status, here = Status(order["held_from"]), "held"
    elif status is Status.CANCELLED:
        # Where the order was when it stopped: the last happy-path stage it reached.
        status, here = next((s for s in reversed(path) if s in reached), path[0]), "stopped"
    current = path.index(status) if status in path else -1
    stages = []
    for i, s in enumerate(path):
        if i < current:
            state = "done" if s in reached else "skipped"
        elif i == current:
            state = "done" if s in lifecycle.TERMINAL else here
        else:
            state = "todo"
        stages.append(Stage(s, state, reached.get(s)))
    return stages


def action_fields(action: Action) -> list[str]:
    """The inputs an action's form asks for, from the rules the use case enforces."""
    fields = []
    if action is Action.PAY:
        fields.append("payment_reference")
    if action is Action.SHIP:
        fields += ["carrier", "tracking_number"]
    if action in REASON_REQUIRED:
        fields.append("reason")
    return fields


def reason_required(action: Action) -> bool:
    return action in REASON_REQUIRED
