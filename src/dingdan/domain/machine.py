"""A lifecycle as data: a transition table over any status and action enum. Pure.

The order's lifecycle (``domain/lifecycle.py``) is one table; a shipment, a return or a
complaint is one more. Each row says, for an action taken in a status:

- the status it leads to (or ``None``: back to where the thing came from, ``Machine.back``);
- a guard on the facts, with the reason given when it does not hold;
- what must be given (``Requirement``: a reason to cancel, a carrier to ship), and which of
  those are recorded on the row and in the event;
- the timestamps it stamps (``shipped_at``), its stock effect, and the permission it needs.

The machine holds the table with the labels of every status and action in both languages,
the terminal statuses and the SLA stages (the statuses in which each stage's clock runs),
and renders the table as a Mermaid diagram and as the actions allowed now (a page's
buttons). ``tests/machine_support.py`` checks any table exhaustively.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from dingdan.domain.errors import IllegalTransition

LANGUAGES = ("zh-CN", "en")


class StockEffect(StrEnum):
    NONE = "none"
    RELEASE = "release"  # give the reservation back: reserved -= qty
    CONSUME = "consume"  # goods leave: on_hand -= qty, reserved -= qty


@dataclass(frozen=True, slots=True)
class Requirement:
    """A field the caller must give (not blank) for the action to be taken."""

    field: str
    message: str  # why, in English (the problem document's message; code ``required``)
    record: bool = True  # written to the row's column of that name and to the event's data


S = TypeVar("S", bound=StrEnum)  # the status enum
A = TypeVar("A", bound=StrEnum)  # the action enum
F = TypeVar("F")  # the facts a guard looks at


@dataclass(frozen=True, slots=True)
class Transition(Generic[S, A, F]):
    source: S
    action: A
    target: S | None  # None: back to the status the machine's ``back`` reads from the facts
    stock: StockEffect = StockEffect.NONE
    guard: Callable[[F], bool] | None = None
    guard_reason: str = ""
    requires: tuple[Requirement, ...] = ()
    stamps: tuple[str, ...] = ()  # timestamp columns set to the time of the action
    permission: str = ""  # the permission's value (``domain.permissions.Permission``)

    def allows(self, facts: F) -> bool:
        return self.guard is None or self.guard(facts)


T = TypeVar("T", bound="Transition[Any, Any, Any]")


def missing(requires: tuple[Requirement, ...],
            given: Mapping[str, object]) -> list[Requirement]:
    """The requirements ``given`` leaves missing or blank, in the table's order."""
    return [r for r in requires if not _given(given.get(r.field))]


def _given(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass(frozen=True)
class Machine(Generic[S, A, F, T]):
    """One lifecycle: its transition table (rows of type ``T``) and what goes with it."""

    name: str
    statuses: type[S]
    actions: type[A]
    transitions: tuple[T, ...]
    status_labels: Mapping[S, Mapping[str, str]]
    action_labels: Mapping[A, Mapping[str, str]]
    terminal: frozenset[S]
    back: Callable[[F], S | None] | None = None  # where a ``target=None`` row leads
    back_node: str = "back"  # that target's name in the diagram
    stages: Mapping[str, frozenset[S]] = field(default_factory=dict)
    _table: dict[tuple[S, A], T] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = {(t.source, t.action): t for t in self.transitions}
        if len(table) != len(self.transitions):
            raise ValueError(f"{self.name}: a (status, action) pair has two rows")
        if any(t.target is None for t in self.transitions) and self.back is None:
            raise ValueError(f"{self.name}: a row goes back, but the machine has no back")
        object.__setattr__(self, "_table", table)

    def find(self, status: S, action: A) -> T | None:
        return self._table.get((status, action))

    def step(self, status: S, action: A, facts: F) -> tuple[T, S]:
        """The row for ``action`` in ``status`` and the status it leads to; raise
        :class:`IllegalTransition` if the table has no such row or its guard does not hold."""
        t = self._table.get((status, action))
        if t is None:
            raise IllegalTransition({"action": action.value, "status": status.value})
        if not t.allows(facts):
            raise IllegalTransition({"action": action.value, "status": status.value,
                                     "reason": t.guard_reason})
        if t.target is not None:
            return t, t.target
        assert self.back is not None  # checked when the machine was made
        target = self.back(facts)
        if target is None:  # a row going back must guard against having nowhere to go
            raise IllegalTransition({"action": action.value, "status": status.value,
                                     "reason": t.guard_reason})
        return t, target

    def allowed_actions(self, status: S, facts: F) -> list[A]:
        """The actions that may be taken now, in table order (a page's buttons)."""
        return [t.action for t in self.transitions if t.source is status and t.allows(facts)]

    def requirements(self, status: S, action: A) -> tuple[Requirement, ...]:
        """What ``action`` needs. From a status the table has no row for, what the action's
        rows need elsewhere: a bad request is told what it lacks before it is refused."""
        t = self._table.get((status, action))
        if t is not None:
            return t.requires
        seen: dict[str, Requirement] = {}
        for row in self.transitions:
            if row.action is action:
                for r in row.requires:
                    seen.setdefault(r.field, r)
        return tuple(seen.values())

    def status_label(self, status: S, lang: str) -> str:
        labels = self.status_labels[status]
        return labels.get(lang, labels["en"])

    def action_label(self, action: A, lang: str) -> str:
        labels = self.action_labels[action]
        return labels.get(lang, labels["en"])

    def statuses_in_stage(self, stage: str) -> frozenset[S]:
        return self.stages.get(stage, frozenset())

    def mermaid(self) -> str:
        """The table as a Mermaid state diagram, one arrow per row, in table order."""
        lines = ["stateDiagram-v2"]
        for t in self.transitions:
            target = self.back_node if t.target is None else t.target.value
            lines.append(f"    {t.source.value} --> {target}: {t.action.value}")
        return "\n".join(lines)
