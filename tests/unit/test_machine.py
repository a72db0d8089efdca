"""The lifecycle machine: the order's table and a second, made-up table through the one shared
check (``tests/machine_support.py``), the order's per-row data (requirements, stamps,
permissions, SLA stages), and the check failing on broken tables."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

import pytest

from dingdan.domain import lifecycle
from dingdan.domain.errors import IllegalTransition
from dingdan.domain.events import REASON_REQUIRED
from dingdan.domain.lifecycle import Action, OrderFacts, PaymentStatus, Status
from dingdan.domain.machine import Machine, Requirement, Transition, missing
from dingdan.domain.permissions import Permission, permission_for
from dingdan.domain.sla import STAGE_STATUSES, Stage
from dingdan.services.orders import ChangeStatus
from machine_support import BACK, check_machine

S, A = Status, Action
BEFORE_SHIPMENT = [S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD, S.APPROVED,
                   S.ALLOCATED, S.PICKING, S.PACKED]
ORDER_PICTURE = {
    (S.PENDING_PAYMENT, A.PAY): S.PAID,
    (S.PENDING_PAYMENT, A.SUBMIT_REVIEW): S.PENDING_REVIEW,  # cash on delivery only
    (S.PENDING_PAYMENT, A.TIMEOUT): S.CANCELLED,
    (S.PAID, A.SUBMIT_REVIEW): S.PENDING_REVIEW,
    (S.PENDING_REVIEW, A.APPROVE): S.APPROVED,
    **{(s, A.HOLD): S.ON_HOLD for s in (S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED)},
    (S.ON_HOLD, A.RELEASE): BACK,
    **{(s, A.CANCEL): S.CANCELLED for s in BEFORE_SHIPMENT},
    (S.APPROVED, A.ALLOCATE): S.ALLOCATED,
    (S.ALLOCATED, A.PICK): S.PICKING,
    (S.PICKING, A.PACK): S.PACKED,
    (S.PACKED, A.SHIP): S.SHIPPED,
    (S.SHIPPED, A.IN_TRANSIT): S.IN_TRANSIT,
    (S.SHIPPED, A.OUT_FOR_DELIVERY): S.OUT_FOR_DELIVERY,
    (S.IN_TRANSIT, A.OUT_FOR_DELIVERY): S.OUT_FOR_DELIVERY,
    **{(s, A.DELIVER): S.DELIVERED for s in (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY)},
    (S.DELIVERED, A.COMPLETE): S.COMPLETED,
}


def _order_facts(status: Status, action: Action) -> OrderFacts:
    paid = PaymentStatus.UNPAID if status is S.PENDING_PAYMENT else PaymentStatus.PAID
    return OrderFacts(status, paid, "cod", S.APPROVED if status is S.ON_HOLD else None)


def _refusing_order_facts(status: Status, action: Action) -> OrderFacts:
    return OrderFacts(status, PaymentStatus.UNPAID, "alipay", None)


def test_the_order_table_passes_the_shared_check() -> None:
    check_machine(lifecycle.ORDER, ORDER_PICTURE, facts=_order_facts,
                  refusing_facts=_refusing_order_facts, initial=S.PENDING_PAYMENT,
                  permissions=frozenset(p.value for p in Permission))


def _needs(status: Status, action: Action) -> list[str]:
    return [r.field for r in lifecycle.requirements(status, action)]


def test_the_order_rows_say_what_each_action_needs() -> None:
    assert _needs(S.PACKED, A.SHIP) == ["carrier", "tracking_number"]
    assert _needs(S.PENDING_PAYMENT, A.PAY) == ["payment_reference"]
    for status in BEFORE_SHIPMENT:
        assert _needs(status, A.CANCEL) == ["reason"]
    assert _needs(S.ON_HOLD, A.RELEASE) == ["reason"] == _needs(S.PAID, A.HOLD)
    # From a status with no row, the action's needs elsewhere: told before it is refused.
    assert _needs(S.SHIPPED, A.CANCEL) == ["reason"]
    assert _needs(S.DELIVERED, A.SHIP) == ["carrier", "tracking_number"]
    assert _needs(S.PACKED, A.PICK) == [] == _needs(S.PENDING_PAYMENT, A.TIMEOUT)
    assert {A.HOLD, A.RELEASE, A.CANCEL} == REASON_REQUIRED
    assert not [r for t in lifecycle.TRANSITIONS for r in t.requires
                if r.field == "reason" and r.record]


def test_every_required_field_is_one_change_status_takes() -> None:
    fields = {f.name for f in dataclasses.fields(ChangeStatus)}
    assert {r.field for t in lifecycle.TRANSITIONS for r in t.requires} <= fields


def test_the_order_rows_stamp_their_times_and_closing_rows_stamp_closed_at() -> None:
    stamps = {(t.source, t.action): t.stamps for t in lifecycle.TRANSITIONS}
    assert stamps[(S.PENDING_PAYMENT, A.PAY)] == ("paid_at",)
    assert stamps[(S.PACKED, A.SHIP)] == ("shipped_at",)
    assert stamps[(S.OUT_FOR_DELIVERY, A.DELIVER)] == ("delivered_at",)
    for t in lifecycle.TRANSITIONS:
        assert ("closed_at" in t.stamps) == (t.target in lifecycle.TERMINAL), (t.source, t.action)


def test_row_permissions_are_the_action_s_except_late_cancels() -> None:
    for t in lifecycle.TRANSITIONS:
        late = t.action is A.CANCEL and t.source in (S.PICKING, S.PACKED)
        expected = Permission.ORDER_CANCEL_LATE if late else Permission(
            lifecycle.ACTION_PERMISSIONS[t.action])
        assert permission_for(t.action, t.source.value) is expected
    # No row: the action's own permission (the refusal names it).
    assert permission_for(A.CANCEL, S.SHIPPED.value) is Permission.ORDER_CANCEL


def test_sla_stages_run_in_the_statuses_the_table_gives() -> None:
    assert {
        Stage.REVIEW: {S.PAID, S.PENDING_REVIEW},
        Stage.SHIP: {S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED, S.PICKING, S.PACKED},
        Stage.DELIVER: {S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY}} == STAGE_STATUSES


def test_missing_names_blank_and_absent_fields_in_order() -> None:
    needs = (Requirement("carrier", "c"), Requirement("tracking_number", "t"))
    assert [r.field for r in missing(needs, {"carrier": "  ", "tracking_number": None})] == [
        "carrier", "tracking_number"]
    assert missing(needs, {"carrier": "SF", "tracking_number": "1"}) == []


# --- a second table: the machine is not the order's -----------------------------------------

class Ticket(StrEnum):
    OPEN = "open"
    WORKING = "working"
    PAUSED = "paused"
    DONE = "done"


class Step(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"


@dataclass(frozen=True)
class TicketFacts:
    assignee: str | None
    paused_from: Ticket | None = None


def _assigned(f: TicketFacts) -> bool:
    return f.assignee is not None


# (Rows are made as plain ``Transition(...)``: a frozen dataclass cannot be built through its
# subscripted alias.)
TicketRow = Transition[Ticket, Step, TicketFacts]
LABELS = {s: {"zh-CN": s.value, "en": s.value} for s in Ticket}
STEP_LABELS = {a: {"zh-CN": a.value, "en": a.value} for a in Step}
ROWS: tuple[TicketRow, ...] = (
    Transition(Ticket.OPEN, Step.START, Ticket.WORKING, guard=_assigned,
              guard_reason="nobody is assigned"),
    Transition(Ticket.WORKING, Step.PAUSE, Ticket.PAUSED,
              requires=(Requirement("reason", "pausing needs a reason", record=False),)),
    Transition(Ticket.PAUSED, Step.RESUME, None, guard=lambda f: f.paused_from is not None,
              guard_reason="nowhere to resume"),
    Transition(Ticket.WORKING, Step.FINISH, Ticket.DONE, stamps=("done_at",)),
)
TICKET_PICTURE = {(Ticket.OPEN, Step.START): Ticket.WORKING,
                  (Ticket.WORKING, Step.PAUSE): Ticket.PAUSED,
                  (Ticket.PAUSED, Step.RESUME): BACK,
                  (Ticket.WORKING, Step.FINISH): Ticket.DONE}


def _ticket(rows: tuple[TicketRow, ...] = ROWS) -> Machine[Ticket, Step, TicketFacts, TicketRow]:
    return Machine("ticket", Ticket, Step, rows, LABELS, STEP_LABELS, frozenset({Ticket.DONE}),
                   back=lambda f: f.paused_from, stages={"work": frozenset({Ticket.WORKING})})


def _ticket_facts(status: Ticket, action: Step) -> TicketFacts:
    return TicketFacts("li", Ticket.WORKING)


def _ticket_refused(status: Ticket, action: Step) -> TicketFacts:
    return TicketFacts(None, None)


def test_another_table_passes_the_same_check() -> None:
    machine = _ticket()
    check_machine(machine, TICKET_PICTURE, facts=_ticket_facts, refusing_facts=_ticket_refused,
                  initial=Ticket.OPEN)
    assert machine.allowed_actions(Ticket.OPEN, TicketFacts(None)) == []
    with pytest.raises(IllegalTransition) as err:
        machine.step(Ticket.OPEN, Step.START, TicketFacts(None))
    assert err.value.params["reason"] == "nobody is assigned"
    assert machine.mermaid().splitlines()[3] == "    paused --> back: resume"


def test_the_check_fails_on_a_table_that_is_not_its_picture() -> None:
    with pytest.raises(AssertionError, match="picture pairs not in the table"):
        check_machine(_ticket(ROWS[:-1]), TICKET_PICTURE, facts=_ticket_facts,
                      refusing_facts=_ticket_refused, initial=Ticket.OPEN)
    wrong_target = {**TICKET_PICTURE, (Ticket.WORKING, Step.FINISH): Ticket.OPEN}
    with pytest.raises(AssertionError):
        check_machine(_ticket(), wrong_target, facts=_ticket_facts,
                      refusing_facts=_ticket_refused, initial=Ticket.OPEN)


def test_the_check_fails_on_an_unreachable_status_and_an_unlabelled_one() -> None:
    rows = (ROWS[1], ROWS[2], ROWS[3])  # nothing leads from open to working
    picture = {k: v for k, v in TICKET_PICTURE.items() if k[0] is not Ticket.OPEN}
    with pytest.raises(AssertionError):
        check_machine(_ticket(rows), picture, facts=_ticket_facts,
                      refusing_facts=_ticket_refused, initial=Ticket.OPEN)
    unlabelled = dataclasses.replace(_ticket(), status_labels={
        **LABELS, Ticket.DONE: {"en": "Done"}})
    with pytest.raises(AssertionError):
        check_machine(unlabelled, TICKET_PICTURE, facts=_ticket_facts,
                      refusing_facts=_ticket_refused, initial=Ticket.OPEN)


def test_a_table_with_two_rows_for_one_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="two rows"):
        _ticket((*ROWS, ROWS[0]))
