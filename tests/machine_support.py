"""One exhaustive check for any lifecycle table (``dingdan.domain.machine.Machine``).

A new lifecycle (shipments, returns, complaints) is tested by writing its picture out by hand,
independently of the table, and calling :func:`check_machine` with it::

    check_machine(SHIPMENT, PICTURE, facts=lambda status, action: ShipmentFacts(status),
                  initial=ShipmentStatus.CREATED)

It walks every status × action and checks the table is exactly the picture (a target, or
``BACK`` for a row that returns where the thing came from), that the actions allowed in a
status are the picture's, that every guarded row refuses with its reason when the guard does
not hold, that labels exist in both languages, that terminal statuses lead nowhere, that
every status can be reached from ``initial`` and every other one can end, that requirements
and stamps are well formed, and that the diagram has one arrow per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import pytest

from dingdan.domain.errors import IllegalTransition
from dingdan.domain.machine import LANGUAGES, Machine

BACK = "back"  # the picture's target for a row that returns where the thing came from


def check_machine(machine: Machine[Any, Any, Any, Any],
                  picture: Mapping[tuple[StrEnum, StrEnum], StrEnum | str], *,
                  facts: Callable[[Any, Any], Any],
                  refusing_facts: Callable[[Any, Any], Any] | None = None,
                  initial: StrEnum,
                  permissions: frozenset[str] | None = None) -> None:
    """Fail (AssertionError) unless ``machine`` is exactly ``picture``, and well formed.

    ``facts(status, action)`` gives facts under which the row's guard holds (any facts, for
    an unguarded row); ``refusing_facts(status, action)`` facts under which it does not.
    ``permissions``: the values a row's permission may take.
    """
    rows = {(t.source, t.action): t for t in machine.transitions}
    assert set(rows) == set(picture), (
        f"{machine.name}: rows not in the picture {sorted(set(rows) - set(picture))}, "
        f"picture pairs not in the table {sorted(set(picture) - set(rows))}")

    for status in machine.statuses:
        for action in machine.actions:
            f = facts(status, action)
            expected = picture.get((status, action))
            if expected is None:
                with pytest.raises(IllegalTransition) as err:
                    machine.step(status, action, f)
                assert err.value.params == {"action": action.value, "status": status.value}
                assert action not in machine.allowed_actions(status, f)
                continue
            row, target = machine.step(status, action, f)
            assert row is rows[(status, action)]
            if expected == BACK:
                assert row.target is None, (status, action)
                assert machine.back is not None and target == machine.back(f)
            else:
                assert target is expected, (status, action, target)
            assert action in machine.allowed_actions(status, f)

    for t in machine.transitions:
        if t.guard is None:
            continue
        assert t.guard_reason, f"{t.source}/{t.action}: a guard must say why it refuses"
        assert refusing_facts is not None, "a guarded table needs refusing_facts"
        with pytest.raises(IllegalTransition) as err:
            machine.step(t.source, t.action, refusing_facts(t.source, t.action))
        assert err.value.params["reason"] == t.guard_reason
        assert t.action not in machine.allowed_actions(t.source,
                                                       refusing_facts(t.source, t.action))

    for status in machine.statuses:
        assert set(machine.status_labels[status]) == set(LANGUAGES), status
        assert all(machine.status_labels[status].values()), status
    for action in machine.actions:
        assert set(machine.action_labels[action]) == set(LANGUAGES), action
        assert all(machine.action_labels[action].values()), action

    for status in machine.terminal:
        assert not [t for t in machine.transitions if t.source is status], (
            f"{status} is terminal, yet rows leave it")

    reached = {initial}
    frontier = [initial]
    while frontier:
        s = frontier.pop()
        for t in machine.transitions:
            if t.source is s and t.target is not None and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(machine.statuses), (
        f"{machine.name}: unreachable from {initial}: {set(machine.statuses) - reached}")
    for status in set(machine.statuses) - machine.terminal:
        assert any(t.source is status for t in machine.transitions), (
            f"{status} is not terminal, yet no row leaves it")

    for t in machine.transitions:
        fields = [r.field for r in t.requires]
        assert len(fields) == len(set(fields)), (t.source, t.action)
        assert all(r.message for r in t.requires), (t.source, t.action)
        assert len(t.stamps) == len(set(t.stamps)), (t.source, t.action)
        if permissions is not None:
            assert t.permission in permissions, (t.source, t.action, t.permission)

    for stage, statuses in machine.stages.items():
        assert statuses and statuses <= set(machine.statuses), stage
        assert not statuses & machine.terminal, f"stage {stage} runs in a terminal status"

    text = machine.mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert text.count("-->") == len(machine.transitions)
    for t in machine.transitions:
        target = machine.back_node if t.target is None else t.target.value
        assert f"{t.source.value} --> {target}: {t.action.value}" in text
