"""One order's life: the steps it would take, with plausible timings. Pure: the caller passes
the random generator.

Payment comes minutes after placing and always inside the payment timeout (a few orders are
cancelled by the buyer or time out instead); cash on delivery goes to review unpaid. Review
takes seconds when automatic and up to an hour of a reviewer's working day otherwise;
warehouse work happens in working hours (08:00-22:00 China time), so shipping is within a day
or two of payment; delivery comes one to four days later by distance; the order completes
when the buyer confirms or when the worker's auto-completion would. A few orders are held and
released, or held and cancelled.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Action
from dingdan.domain.orders import OrderDraft
from dingdan.services.demo import data, people
from dingdan.services.demo.people import DemoCustomer

CHINA = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class ShopRules:
    """The timed rules Dingdan's worker enforces (``DINGDAN_PAYMENT_TIMEOUT_MINUTES``,
    ``DINGDAN_AUTO_COMPLETE_DAYS``); the demo's history obeys them too, so the worker finds
    nothing overdue when the server starts."""

    payment_timeout: timedelta = timedelta(minutes=30)
    auto_complete: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happens to an order: a lifecycle action, or a note when no action."""

    at: datetime
    action: Action | None
    actor: Actor | None  # None: whoever is on shift in the order's warehouse
    reason: str | None = None
    payment_reference: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None


def _at_work(rng: random.Random, t: datetime, opens: int, closes: int) -> datetime:
    """``t``, or the moment the team (at work ``opens``..``closes``, local time) next starts."""
    local = t.astimezone(CHINA)
    if opens <= local.hour < closes:
        return t
    day: date = local.date() if local.hour < opens else local.date() + timedelta(days=1)
    start = datetime.combine(day, time(opens), CHINA) + timedelta(minutes=rng.uniform(1, 40))
    return start.astimezone(UTC)


class Life:
    """The whole life an order would have, step by step, with plausible timings."""

    def __init__(self, rng: random.Random, placed_at: datetime, draft: OrderDraft,
                 customer: DemoCustomer, rules: ShopRules) -> None:
        self.rng = rng
        self.rules = rules
        self.t = placed_at
        self.steps: list[Step] = []
        self.draft = draft
        self.zone = customer.place.zone
        self._live()
        self._maybe_note()

    def add(self, action: Action | None, at: datetime, actor: Actor | None, **kw: Any) -> None:
        self.t = max(at, self.t + timedelta(seconds=1))  # strictly after the step before
        self.steps.append(Step(self.t, action, actor, **kw))

    def after(self, **delta: float) -> datetime:
        return self.t + timedelta(**delta)

    def _live(self) -> None:
        rng, d = self.rng, self.draft
        agent, reviewer = people.agent(rng), people.reviewer(rng)
        channel = people.connector(d.channel)
        cod, bank = d.payment_method == "cod", d.payment_method == "bank_transfer"
        fate = rng.random()
        if cod:
            self.add(Action.SUBMIT_REVIEW, self.after(seconds=rng.uniform(20, 300)),
                     people.AUTO_REVIEW)
        else:
            timeout = self.rules.payment_timeout
            if fate < 0.015:  # the worker's payment-timeout job, which scans every minute
                self.add(Action.TIMEOUT, self.after(seconds=timeout.total_seconds()
                                                    + rng.uniform(5, 60)),
                         people.PAYMENT_TIMEOUT,
                         reason=f"payment not received within {timeout.total_seconds() // 60:.0f}"
                                " minutes")
                return
            if fate < 0.03:
                self.add(Action.CANCEL, self.after(minutes=rng.uniform(2, 25)), agent,
                         reason=rng.choice(data.UNPAID_CANCEL_REASONS))
                return
            # Paid well inside the payment timeout; a transfer when it shows on the statement.
            limit = timeout.total_seconds() * 0.9
            if bank:
                at = self.after(seconds=rng.uniform(0.2, 0.9) * limit)
                payer = people.finance(rng)
            else:
                at = self.after(seconds=min(rng.lognormvariate(math.log(90), 1.0), limit))
                payer = channel
            self.add(Action.PAY, at, payer, payment_reference=self._payment_reference(at))
            presale = "预售" in d.tags  # paid now, released to review when the goods arrive
            self.add(Action.SUBMIT_REVIEW, self.after(days=rng.uniform(3, 12)) if presale
                     else self.after(seconds=rng.uniform(3, 60)), people.AUTO_REVIEW)
        if rng.random() < 0.05:
            self.add(Action.HOLD, self.after(minutes=rng.uniform(2, 40)), reviewer,
                     reason=rng.choice(data.HOLD_REASONS))
            if rng.random() < 0.2:
                self.add(Action.CANCEL, self.after(hours=rng.uniform(4, 72)), agent,
                         reason=rng.choice(data.FRAUD_CANCEL_REASONS))
                return
            # Most holds clear the same day; some wait days for the customer to answer.
            wait = rng.uniform(1, 30) if rng.random() < 0.6 else rng.uniform(24, 96)
            self.add(Action.RELEASE, _at_work(rng, self.after(hours=wait), 9, 21),
                     reviewer, reason=rng.choice(data.RELEASE_REASONS))
        subtotal = sum(p.price_yuan * 100 * ln.quantity for ln in d.lines
                       for p in data.PRODUCTS if p.sku == ln.sku)
        if cod or bank or subtotal >= 150000 or rng.random() < 0.1:
            self.add(Action.APPROVE, _at_work(rng, self.after(minutes=rng.uniform(5, 55)), 9, 21),
                     reviewer)
        else:
            self.add(Action.APPROVE, self.after(seconds=rng.uniform(1, 20)), people.AUTO_REVIEW)
        if not cod and rng.random() < 0.015:
            self.add(Action.CANCEL, self.after(hours=rng.uniform(0.2, 6)), agent,
                     reason=rng.choice(data.PAID_CANCEL_REASONS))
            return
        self._fulfil(reviewer)

    def _fulfil(self, reviewer: Actor) -> None:
        rng = self.rng
        self.add(Action.ALLOCATE, _at_work(rng, self.after(minutes=rng.uniform(1, 20)), 8, 22),
                 people.ALLOCATOR)
        if rng.random() < 0.02:
            self.add(Action.HOLD, self.after(minutes=rng.uniform(5, 90)), reviewer,
                     reason="客户要求暂缓发货")
            self.add(Action.RELEASE, _at_work(rng, self.after(days=rng.uniform(1, 4)), 9, 21),
                     reviewer, reason="客户确认可以发货")
        self.add(Action.PICK, _at_work(rng, self.after(minutes=rng.uniform(15, 240)), 8, 22),
                 None)
        self.add(Action.PACK, _at_work(rng, self.after(minutes=rng.uniform(8, 50)), 8, 22), None)
        code, tracking = self._carrier()
        feed = people.carrier_feed(code)
        self.add(Action.SHIP, _at_work(rng, self.after(minutes=rng.uniform(30, 240)), 8, 22),
                 None, carrier=code, tracking_number=tracking)
        shipped_day = self.t.astimezone(CHINA).date()
        if rng.random() < 0.9:  # a same-city courier skips the line-haul scan
            self.add(Action.IN_TRANSIT, self.after(hours=rng.uniform(2, 10)), feed)
        transit_days = max(1, min(4, self.zone + rng.choice((-1, 0, 0, 1))))
        out = datetime.combine(shipped_day + timedelta(days=transit_days), time(7, 30), CHINA)
        self.add(Action.OUT_FOR_DELIVERY, out + timedelta(minutes=rng.uniform(0, 180)), feed)
        self.add(Action.DELIVER, self.after(minutes=rng.uniform(30, 360)), feed)
        if rng.random() < 0.4:  # the customer confirms receipt; otherwise it completes itself
            self.add(Action.COMPLETE, self.after(hours=rng.uniform(3, 96)),
                     people.connector(self.draft.channel))
        else:
            days = self.rules.auto_complete.days
            self.add(Action.COMPLETE, self.after(seconds=self.rules.auto_complete.total_seconds()
                                                 + rng.uniform(5, 60)),
                     people.AUTO_COMPLETE, reason=f"delivered {days} days ago")

    def _maybe_note(self) -> None:
        """Now and then customer service writes a note between two steps."""
        if self.rng.random() >= 0.1 or not self.steps:
            return
        k = self.rng.randrange(len(self.steps))
        before = self.steps[k - 1].at if k else self.draft.placed_at
        assert before is not None
        gap = self.steps[k].at - before
        if gap < timedelta(minutes=2):
            return
        at = before + gap * self.rng.uniform(0.2, 0.8)
        self.steps.insert(k, Step(at, None, people.agent(self.rng),
                                  reason=self.rng.choice(data.SERVICE_NOTES)))

    def _carrier(self) -> tuple[str, str]:
        rng = self.rng
        if self.draft.channel == "jd" and rng.random() < 0.8:
            code = data.JD_CARRIER[0]
        elif self.zone >= 4 and rng.random() < 0.5:
            code = "EMS"
        else:
            code = rng.choices([c for c, _, _ in data.CARRIERS],
                               [w for _, _, w in data.CARRIERS])[0]
        digits = {"SF": 13, "ZTO": 12, "YTO": 13, "YD": 11, "EMS": 11, "JD": 12}[code]
        prefix = {"SF": "SF", "ZTO": "78", "YTO": "YT", "YD": "46", "EMS": "98", "JD": "JDV"}
        return code, prefix[code] + f"{rng.randrange(10**digits):0{digits}d}"

    def _payment_reference(self, at: datetime) -> str:
        rng, local = self.rng, at.astimezone(CHINA)
        method = self.draft.payment_method
        if method == "alipay":
            return f"{local:%Y%m%d}2200{rng.randrange(10**16):016d}"
        if method == "wechat_pay":
            return f"4200{rng.randrange(10**4):04d}{local:%Y%m%d}{rng.randrange(10**12):012d}"
        if method == "bank_transfer":
            return f"BT{local:%Y%m%d}{rng.randrange(10**6):06d}"
        if method == "unionpay":
            return f"{local:%Y%m%d%H%M%S}{rng.randrange(10**7):07d}"
        return f"CARD{rng.randrange(10**12):012d}"
