"""After-sales, refunds and complaints: their tables through the shared check, eligibility,
refund arithmetic (a property test: refunds never exceed the payment) and complaint clocks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dingdan.domain import aftersales, complaints, refunds
from dingdan.domain.aftersales import (
    CaseAction,
    CaseFacts,
    CaseStatus,
    CaseType,
    OrderLine,
    Reason,
    Requested,
    ReturnRule,
    check_request,
)
from dingdan.domain.complaints import (
    Breach,
    Category,
    ComplaintAction,
    ComplaintClock,
    ComplaintStatus,
    Staff,
)
from dingdan.domain.errors import IllegalTransition, ValidationFailed
from dingdan.domain.lifecycle import PaymentStatus
from dingdan.domain.permissions import Permission
from dingdan.domain.refunds import RefundAction, RefundFacts, RefundStatus
from dingdan.domain.sla import WorkingCalendar
from machine_support import check_machine

Cs, Ca, T = CaseStatus, CaseAction, CaseType
PERMISSIONS = frozenset(p.value for p in Permission)

# The case lifecycle, drawn by hand from the issue (requested → approved / declined →
# awaiting return → received → inspected → refunded / exchanged / repaired → closed).
CASE_PICTURE = {
    (Cs.REQUESTED, Ca.APPROVE): Cs.APPROVED,
    (Cs.REQUESTED, Ca.DECLINE): Cs.DECLINED,
    (Cs.REQUESTED, Ca.CANCEL): Cs.CANCELLED,
    (Cs.APPROVED, Ca.CANCEL): Cs.CANCELLED,
    (Cs.AWAITING_RETURN, Ca.CANCEL): Cs.CANCELLED,
    (Cs.APPROVED, Ca.SEND_BACK): Cs.AWAITING_RETURN,  # returns and exchanges
    (Cs.APPROVED, Ca.REFUND): Cs.REFUNDED,  # refund only, claims
    (Cs.AWAITING_RETURN, Ca.RECEIVE): Cs.RECEIVED,
    (Cs.RECEIVED, Ca.INSPECT): Cs.INSPECTED,
    (Cs.INSPECTED, Ca.REFUND): Cs.REFUNDED,  # return for refund
    (Cs.INSPECTED, Ca.EXCHANGE): Cs.EXCHANGED,  # exchange
    (Cs.INSPECTED, Ca.REPAIR): Cs.REPAIRED,  # exchange
    (Cs.INSPECTED, Ca.DECLINE): Cs.DECLINED,
    (Cs.REFUNDED, Ca.CLOSE): Cs.CLOSED,
    (Cs.EXCHANGED, Ca.CLOSE): Cs.CLOSED,
    (Cs.REPAIRED, Ca.CLOSE): Cs.CLOSED,
}
# The case type under which each guarded row holds, and one under which it does not.
HOLDS = {(Cs.APPROVED, Ca.SEND_BACK): T.RETURN_REFUND, (Cs.APPROVED, Ca.REFUND): T.REFUND_ONLY,
         (Cs.INSPECTED, Ca.REFUND): T.RETURN_REFUND, (Cs.INSPECTED, Ca.EXCHANGE): T.EXCHANGE,
         (Cs.INSPECTED, Ca.REPAIR): T.EXCHANGE}
REFUSES = {(Cs.APPROVED, Ca.SEND_BACK): T.CLAIM, (Cs.APPROVED, Ca.REFUND): T.EXCHANGE,
           (Cs.INSPECTED, Ca.REFUND): T.EXCHANGE, (Cs.INSPECTED, Ca.EXCHANGE): T.RETURN_REFUND,
           (Cs.INSPECTED, Ca.REPAIR): T.RETURN_REFUND}


def test_the_case_table_passes_the_shared_check() -> None:
    check_machine(aftersales.CASE, CASE_PICTURE,
                  facts=lambda s, a: CaseFacts(s, HOLDS.get((s, a), T.RETURN_REFUND)),
                  refusing_facts=lambda s, a: CaseFacts(s, REFUSES[(s, a)]),
                  initial=Cs.REQUESTED, permissions=PERMISSIONS)


def test_every_case_action_has_an_event_and_a_return_is_never_refunded_before_inspection(
) -> None:
    assert {aftersales.event_type(a) for a in CaseAction} >= {"aftersales.refunded"}
    with pytest.raises(IllegalTransition) as err:
        aftersales.step(CaseFacts(Cs.APPROVED, T.RETURN_REFUND), Ca.REFUND)
    assert err.value.params["reason"] == "a return is refunded after its goods are inspected"


def test_the_refund_table_passes_the_shared_check() -> None:
    picture = {(RefundStatus.PENDING, RefundAction.SUCCEED): RefundStatus.SUCCEEDED,
               (RefundStatus.PENDING, RefundAction.FAIL): RefundStatus.FAILED,
               (RefundStatus.FAILED, RefundAction.RETRY): RefundStatus.PENDING}
    check_machine(refunds.REFUND, picture, facts=lambda s, a: RefundFacts(s),
                  initial=RefundStatus.PENDING, permissions=PERMISSIONS)


def test_the_complaint_table_passes_the_shared_check() -> None:
    Ks, Ka = ComplaintStatus, ComplaintAction
    picture = {(Ks.OPEN, Ka.RESPOND): Ks.IN_PROGRESS,
               (Ks.IN_PROGRESS, Ka.RESOLVE): Ks.RESOLVED,
               (Ks.RESOLVED, Ka.REOPEN): Ks.IN_PROGRESS,
               (Ks.RESOLVED, Ka.CLOSE): Ks.CLOSED,
               (Ks.OPEN, Ka.WITHDRAW): Ks.CLOSED,
               (Ks.IN_PROGRESS, Ka.WITHDRAW): Ks.CLOSED}
    check_machine(complaints.COMPLAINT, picture, facts=lambda s, a: complaints.ComplaintFacts(s),
                  initial=Ks.OPEN, permissions=PERMISSIONS)


# --- eligibility ----------------------------------------------------------------------------

DELIVERED = datetime(2026, 12, 1, 10, tzinfo=UTC)
LINES = [OrderLine(1, "CUP-1", 2, 5900), OrderLine(2, "FOOD-TEA", 1, 3000)]
RULES = [ReturnRule("FOOD-", 7, returnable=False), ReturnRule("CUP-", 15)]


def _codes(err: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {d.loc: d.code for d in err.value.details}


def test_a_return_within_the_window_for_what_was_delivered_is_allowed() -> None:
    check_request(T.RETURN_REFUND, Reason.CHANGED_MIND, [Requested(1, 2)], LINES, {},
                  DELIVERED, DELIVERED + timedelta(days=14), RULES)


def test_more_than_was_delivered_is_refused_counting_earlier_cases() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_request(T.RETURN_REFUND, Reason.CHANGED_MIND, [Requested(1, 2)], LINES, {1: 1},
                      DELIVERED, DELIVERED, RULES)
    assert _codes(err) == {"lines.0.quantity": "exceeds_delivered"}


def test_a_line_past_its_window_is_refused_and_the_longest_prefix_rule_decides() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_request(T.RETURN_REFUND, Reason.CHANGED_MIND, [Requested(1, 1)], LINES, {},
                      DELIVERED, DELIVERED + timedelta(days=16), RULES)
    assert _codes(err) == {"lines.0.line_no": "outside_window"}
    assert aftersales.rule_for("CUP-1", RULES).window_days == 15
    assert aftersales.rule_for("PEN-1", RULES).window_days == aftersales.DEFAULT_WINDOW_DAYS


def test_a_non_returnable_item_is_refused_but_may_still_be_claimed_damaged() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_request(T.RETURN_REFUND, Reason.CHANGED_MIND, [Requested(2, 1)], LINES, {},
                      DELIVERED, DELIVERED, RULES)
    assert _codes(err) == {"lines.0.line_no": "not_returnable"}
    check_request(T.CLAIM, Reason.DAMAGED, [Requested(2, 1)], LINES, {}, DELIVERED, DELIVERED,
                  RULES)
    with pytest.raises(ValidationFailed) as err:
        check_request(T.CLAIM, Reason.CHANGED_MIND, [Requested(2, 1)], LINES, {}, DELIVERED,
                      DELIVERED, RULES)
    assert _codes(err) == {"reason": "reason_not_for_type"}


def test_an_undelivered_order_has_no_case() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_request(T.REFUND_ONLY, Reason.OTHER, [Requested(1, 1)], LINES, {}, None,
                      DELIVERED, RULES)
    assert _codes(err) == {"order": "not_delivered"}


def test_refund_due_counts_the_lines_and_the_shipping_only_when_said() -> None:
    wanted = [Requested(1, 2), Requested(2, 1)]
    assert aftersales.refund_due(T.RETURN_REFUND, wanted, LINES, 800, False) == 14800
    assert aftersales.refund_due(T.CLAIM, wanted, LINES, 800, True) == 15600
    assert aftersales.refund_due(T.EXCHANGE, wanted, LINES, 800, True) == 0


# --- refunds --------------------------------------------------------------------------------

@given(paid=st.integers(1, 10**9),
       asks=st.lists(st.tuples(st.integers(-5, 10**9), st.booleans()), max_size=30))
def test_refunds_never_exceed_the_payment(paid: int, asks: list[tuple[int, bool]]) -> None:
    """Any sequence of refund requests, each going through or failing: what the checks let
    through never adds up to more than was paid, and the status follows the sum."""
    committed = succeeded = 0
    for amount, goes_through in asks:
        try:
            refunds.check_amount(amount, paid, committed)
        except ValidationFailed as e:
            assert amount < 1 or amount > paid - committed
            assert e.details[0].code in {"too_small", "exceeds_paid"}
            continue
        if goes_through:
            committed += amount
            succeeded += amount
        assert committed <= paid
    status = refunds.payment_status(paid, succeeded, cancelled=False)
    assert status is (PaymentStatus.REFUNDED if succeeded == paid else
                      PaymentStatus.PARTIALLY_REFUNDED if succeeded else PaymentStatus.PAID)


def test_a_cancelled_paid_order_shows_refund_due_until_all_is_back() -> None:
    assert refunds.payment_status(5000, 0, cancelled=True) is PaymentStatus.REFUND_DUE
    assert refunds.payment_status(5000, 2000, cancelled=True) is PaymentStatus.REFUND_DUE
    assert refunds.payment_status(5000, 5000, cancelled=True) is PaymentStatus.REFUNDED


def test_yuan_is_exact() -> None:
    assert [refunds.yuan(a) for a in (0, 1, 99, 100, 12345)] == [
        "0.00", "0.01", "0.99", "1.00", "123.45"]


# --- complaints -----------------------------------------------------------------------------

CAL = WorkingCalendar(ZoneInfo("Asia/Shanghai"), time(9), time(18), frozenset(range(5)))


def test_deadlines_count_working_time_and_urgent_categories_are_shorter() -> None:
    friday_5pm = datetime(2026, 12, 4, 17, tzinfo=ZoneInfo("Asia/Shanghai"))
    late = complaints.deadlines(Category.LATE_DELIVERY, friday_5pm, CAL)
    assert late.first_response == datetime(2026, 12, 4, 18, tzinfo=ZoneInfo("Asia/Shanghai"))
    other = complaints.deadlines(Category.OTHER, friday_5pm, CAL)
    # one hour on Friday, one on Monday morning
    assert other.first_response == datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_owner_is_the_least_busy_of_the_category_s_role() -> None:
    staff = {"customer_service": [Staff(3, "王芳", 4), Staff(5, "李娜", 1), Staff(2, "赵敏", 1)],
             "manager": [Staff(9, "经理", 0)]}
    assert complaints.choose_owner(Category.DAMAGED, staff) == ("customer_service",
                                                                Staff(2, "赵敏", 1))
    assert complaints.choose_owner(Category.QUALITY, staff)[1] == Staff(9, "经理", 0)
    assert complaints.choose_owner(Category.QUALITY, {}) == ("manager", None)


def test_a_breach_is_reported_once_and_only_while_its_clock_runs() -> None:
    due = datetime(2026, 12, 1, 10, tzinfo=UTC)
    clock = ComplaintClock(ComplaintStatus.OPEN, due, due + timedelta(hours=8), frozenset())
    assert complaints.breaches(clock, due) == []
    assert complaints.breaches(clock, due + timedelta(hours=9)) == [Breach.FIRST_RESPONSE,
                                                                    Breach.RESOLUTION]
    answered = ComplaintClock(ComplaintStatus.IN_PROGRESS, due, due + timedelta(hours=8),
                              frozenset({"first_response"}))
    assert complaints.breaches(answered, due + timedelta(hours=1)) == []
    assert complaints.breaches(answered, due + timedelta(hours=9)) == [Breach.RESOLUTION]
    resolved = ComplaintClock(ComplaintStatus.RESOLVED, due, due, frozenset())
    assert complaints.breaches(resolved, due + timedelta(days=3)) == []
