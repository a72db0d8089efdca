"""Service levels per stage of an order, the working-hours calendar they count in, and the
at-risk / breached verdict. Pure: callers pass the order's facts, the calendar and ``now``.

A stage is a span of the lifecycle with a time limit and an owner:

    review   paid (or placed, cash on delivery)  →  approved       1 working hour
    ship     paid (or placed)                    →  shipped        24 h, or the ship-by promise
    deliver  shipped                             →  delivered      5 days, or the deliver-by

Working time skips nights, weekends and holidays, and counts make-up working days (调休),
which China moves onto weekends around public holidays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from dingdan.domain.lifecycle import ORDER, Status


class Stage(StrEnum):
    REVIEW = "review"
    SHIP = "ship"
    DELIVER = "deliver"


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # a weekday off
    WORKDAY = "workday"  # a weekend day worked (调休)


@dataclass(frozen=True, slots=True)
class Policy:
    stage: Stage
    minutes: int  # the limit: working minutes if ``working_time``, else wall-clock minutes
    working_time: bool
    warn_minutes: int  # at risk this long before the deadline (same unit as ``minutes``)
    role: str  # who is alerted
    active: bool = True


DEFAULT_POLICIES: Mapping[Stage, Policy] = {
    Stage.REVIEW: Policy(Stage.REVIEW, 60, True, 15, "reviewer"),
    Stage.SHIP: Policy(Stage.SHIP, 24 * 60, False, 4 * 60, "warehouse"),
    Stage.DELIVER: Policy(Stage.DELIVER, 5 * 24 * 60, False, 24 * 60, "customer_service"),
}

LABELS: Mapping[Stage, Mapping[str, str]] = {
    Stage.REVIEW: {"zh-CN": "审核", "en": "Review"},
    Stage.SHIP: {"zh-CN": "发货", "en": "Shipping"},
    Stage.DELIVER: {"zh-CN": "妥投", "en": "Delivery"},
}

# A stage's limit is at most a year (of wall-clock minutes): deadlines are walked over the
# working calendar day by day, and no order waits longer than that for one stage.
MAX_POLICY_MINUTES = 366 * 24 * 60
# Statuses in which each stage's clock runs (an order on hold is still late): the order
# lifecycle's data (``lifecycle.SLA_STAGES``).
STAGE_STATUSES: Mapping[Stage, frozenset[Status]] = {
    stage: ORDER.statuses_in_stage(stage.value) for stage in Stage}


def merge_policies(overrides: Mapping[Stage, Policy]) -> dict[Stage, Policy]:
    return {**DEFAULT_POLICIES, **overrides}


def validate_policy(p: Policy) -> list[tuple[str, str, str]]:
    """(field, code, message) for each rule a policy breaks."""
    problems = []
    if not 0 < p.minutes <= MAX_POLICY_MINUTES:
        problems.append(("minutes", "out_of_range",
                         f"the limit is 1..{MAX_POLICY_MINUTES} minutes (a year)"))
    if not 0 <= p.warn_minutes < max(p.minutes, 1):
        problems.append(("warn_minutes", "out_of_range",
                         "the warning comes after the start and before the deadline"))
    if not p.role.strip():
        problems.append(("role", "required", "someone must be responsible"))
    return problems


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    tz: tzinfo
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # make-up working days on a weekend

    def __post_init__(self) -> None:
        if self.day_start >= self.day_end:
            raise ValueError("the working day ends after it starts")

    def with_days(self, days: Mapping[date, DayKind]) -> WorkingCalendar:
        return replace(self,
                       holidays=frozenset(d for d, k in days.items() if k is DayKind.HOLIDAY),
                       workdays=frozenset(d for d, k in days.items() if k is DayKind.WORKDAY))

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() in self.weekdays and d not in self.holidays

    def add(self, start: datetime, minutes: int) -> datetime:
        """The instant ``minutes`` working minutes after ``start`` (returned in UTC-aware form
        of ``start``'s zone)."""
        local = start.astimezone(self.tz)
        remaining = timedelta(minutes=minutes)
        day = local.date()
        for _ in range(3 * 366):  # a calendar with no working day in three years is broken
            if self.is_working_day(day):
                open_ = datetime.combine(day, self.day_start, self.tz)
                close = datetime.combine(day, self.day_end, self.tz)
                begin = max(local, open_)
                if begin < close:
                    if begin + remaining <= close:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= close - begin
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.tz)
        raise ValueError("the calendar has no working days")


@dataclass(frozen=True, slots=True)
class OrderClock:
    """The facts of an order that its service levels depend on."""

    number: str
    status: Status
    placed_at: datetime
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    ship_by: datetime | None = None  # the promise made to the customer
    deliver_by: datetime | None = None
    held_from: Status | None = None


@dataclass(frozen=True, slots=True)
class StageCheck:
    stage: Stage
    state: SlaState
    started_at: datetime
    at_risk_at: datetime
    deadline: datetime
    role: str
    promise: bool = False  # the deadline is the customer's promise, not the policy

    @property
    def overdue(self) -> bool:
        return self.state is SlaState.BREACHED


def running_stages(o: OrderClock) -> list[Stage]:
    """The stages whose clock runs for this order now."""
    status = o.held_from if o.status is Status.ON_HOLD and o.held_from else o.status
    return [s for s, statuses in STAGE_STATUSES.items() if status in statuses]


def check_stage(o: OrderClock, stage: Stage, policy: Policy, cal: WorkingCalendar,
                now: datetime) -> StageCheck | None:
    """Where the order stands in ``stage``; None if the stage's clock has no start yet."""
    if stage is Stage.DELIVER:
        start = o.shipped_at
        promise = o.deliver_by
    else:
        start = o.paid_at or o.placed_at
        promise = o.ship_by if stage is Stage.SHIP else None
    if start is None:
        return None
    if policy.working_time:
        deadline = cal.add(start, policy.minutes)
        at_risk_at = cal.add(start, policy.minutes - policy.warn_minutes)
    else:
        deadline = start + timedelta(minutes=policy.minutes)
        at_risk_at = deadline - timedelta(minutes=policy.warn_minutes)
    by_promise = promise is not None and promise < deadline
    if by_promise:
        assert promise is not None
        deadline = promise
        at_risk_at = min(at_risk_at, promise - timedelta(minutes=policy.warn_minutes))
    if now >= deadline:
        state = SlaState.BREACHED
    elif now >= at_risk_at:
        state = SlaState.AT_RISK
    else:
        state = SlaState.OK
    return StageCheck(stage, state, start, at_risk_at, deadline, policy.role, by_promise)


def evaluate(o: OrderClock, policies: Mapping[Stage, Policy], cal: WorkingCalendar,
             now: datetime) -> list[StageCheck]:
    """Every running stage of an order with an active policy, and its verdict at ``now``."""
    checks = []
    for stage in running_stages(o):
        policy = policies.get(stage)
        if policy is None or not policy.active:
            continue
        check = check_stage(o, stage, policy, cal, now)
        if check is not None:
            checks.append(check)
    return checks


@dataclass(frozen=True, slots=True)
class ScanWindow:
    """The oldest stage start that can be at risk at ``now``: a cheap filter for the scan."""

    latest_start: Mapping[Stage, datetime] = field(default_factory=dict)


def scan_window(policies: Mapping[Stage, Policy], now: datetime) -> ScanWindow:
    """A stage that started after ``latest_start`` cannot be at risk yet by its policy
    (working minutes pass no faster than wall-clock ones). Promises are checked apart."""
    return ScanWindow({s: now - timedelta(minutes=max(0, p.minutes - p.warn_minutes))
                       for s, p in policies.items() if p.active})
