"""Service levels: the working-hours calendar (nights, weekends, holidays, 调休 make-up
days), deadlines per stage, promises, and the at-risk / breached verdict."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dingdan.domain.lifecycle import Status
from dingdan.domain.sla import (
    DEFAULT_POLICIES,
    DayKind,
    OrderClock,
    Policy,
    SlaState,
    Stage,
    WorkingCalendar,
    evaluate,
    running_stages,
    validate_policy,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(SH)


def sh(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


@pytest.mark.parametrize(("start", "minutes", "deadline"), [
    (sh(2026, 11, 11, 10), 60, sh(2026, 11, 11, 11)),  # Wednesday morning
    (sh(2026, 11, 11, 17, 30), 60, sh(2026, 11, 12, 9, 30)),  # over the night
    (sh(2026, 11, 11, 20), 60, sh(2026, 11, 12, 10)),  # paid after hours
    (sh(2026, 11, 13, 17, 45), 60, sh(2026, 11, 16, 9, 45)),  # Friday → Monday
    (sh(2026, 11, 14, 11), 60, sh(2026, 11, 16, 10)),  # paid on Saturday
    (sh(2026, 11, 11, 7), 9 * 60 + 60, sh(2026, 11, 12, 10)),  # more than a day's work
])
def test_working_minutes_skip_nights_and_weekends(start, minutes, deadline):
    assert CAL.add(start, minutes) == deadline


def test_holidays_are_skipped_and_make_up_days_are_worked():
    cal = CAL.with_days({date(2026, 10, 1): DayKind.HOLIDAY, date(2026, 10, 2): DayKind.HOLIDAY,
                         date(2026, 10, 10): DayKind.WORKDAY})  # a Saturday worked (调休)
    assert cal.add(sh(2026, 9, 30, 17, 30), 60) == sh(2026, 10, 5, 9, 30)
    assert cal.add(sh(2026, 10, 9, 17, 30), 60) == sh(2026, 10, 10, 9, 30)
    assert cal.is_working_day(date(2026, 10, 10)) and not cal.is_working_day(date(2026, 10, 1))


def test_a_calendar_without_working_days_is_refused():
    with pytest.raises(ValueError):
        WorkingCalendar(SH, weekdays=frozenset()).add(sh(2026, 1, 1, 9), 1)


def paid_order(status: Status = Status.PAID, paid: datetime = sh(2026, 11, 11, 10),
               **kw) -> OrderClock:
    return OrderClock("DD1", status, paid - timedelta(minutes=5), paid, **kw)


def verdict(o: OrderClock, now: datetime, policies=DEFAULT_POLICIES):
    return {c.stage: c.state for c in evaluate(o, policies, CAL, now.astimezone(UTC))}


def test_review_is_due_within_one_working_hour_of_payment():
    o = paid_order()
    assert verdict(o, sh(2026, 11, 11, 10, 30))[Stage.REVIEW] is SlaState.OK
    assert verdict(o, sh(2026, 11, 11, 10, 45))[Stage.REVIEW] is SlaState.AT_RISK
    assert verdict(o, sh(2026, 11, 11, 11))[Stage.REVIEW] is SlaState.BREACHED


def test_shipping_is_due_within_24_hours_of_payment_or_by_the_promise():
    o = paid_order(Status.PACKED)
    assert set(verdict(o, sh(2026, 11, 11, 12))) == {Stage.SHIP}
    assert verdict(o, sh(2026, 11, 12, 6, 30))[Stage.SHIP] is SlaState.AT_RISK
    assert verdict(o, sh(2026, 11, 12, 10))[Stage.SHIP] is SlaState.BREACHED
    promised = paid_order(Status.PACKED, ship_by=sh(2026, 11, 11, 18))
    [check] = evaluate(promised, DEFAULT_POLICIES, CAL, sh(2026, 11, 11, 18, 1))
    assert check.state is SlaState.BREACHED and check.promise and check.overdue
    assert check.deadline == sh(2026, 11, 11, 18)


def test_an_order_on_hold_is_still_late():
    held = paid_order(Status.ON_HOLD, held_from=Status.PENDING_REVIEW)
    assert running_stages(held) == [Stage.REVIEW, Stage.SHIP]
    assert verdict(held, sh(2026, 11, 11, 11, 5))[Stage.REVIEW] is SlaState.BREACHED


def test_delivery_runs_from_shipment_and_nothing_runs_once_delivered():
    shipped = OrderClock("DD1", Status.IN_TRANSIT, sh(2026, 11, 1, 9), sh(2026, 11, 1, 9),
                         shipped_at=sh(2026, 11, 2, 9))
    assert verdict(shipped, sh(2026, 11, 7, 10)) == {Stage.DELIVER: SlaState.BREACHED}
    done = OrderClock("DD1", Status.DELIVERED, sh(2026, 11, 1, 9), sh(2026, 11, 1, 9))
    assert verdict(done, sh(2027, 1, 1, 9)) == {}


def test_unpaid_orders_have_no_running_stage_and_inactive_policies_are_skipped():
    assert running_stages(OrderClock("DD1", Status.PENDING_PAYMENT, sh(2026, 11, 1, 9))) == []
    off = {**DEFAULT_POLICIES, Stage.REVIEW: Policy(Stage.REVIEW, 60, True, 15, "reviewer",
                                                    active=False)}
    assert Stage.REVIEW not in verdict(paid_order(), sh(2026, 11, 20, 9), off)


def test_a_policy_must_make_sense():
    assert validate_policy(Policy(Stage.SHIP, 0, False, 0, "warehouse"))
    assert validate_policy(Policy(Stage.SHIP, 60, False, 60, "warehouse"))
    assert validate_policy(Policy(Stage.SHIP, 60, False, 10, " "))
    assert validate_policy(DEFAULT_POLICIES[Stage.SHIP]) == []
