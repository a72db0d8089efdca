"""The demo's orders, drawn from one seeded random generator.

Pure: the caller passes the generator and "now"; nothing here touches the database. Orders
are spread over the 90 days before "now" like a growing shop's (busier evenings, weekends and
shopping festivals); each gets a draft and a life (:mod:`.life`) of which only the steps that
have happened by "now" are kept, so recent orders are still early in their lives and old ones
are complete. :func:`cover_every_status` makes sure every status is represented, even in a
small demo.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from dingdan.domain import lifecycle
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft
from dingdan.services.demo import data, people
from dingdan.services.demo.life import CHINA, Life, ShopRules, Step
from dingdan.services.demo.people import DemoCustomer

DAYS = 90
# Orders by local hour of day: quiet at night, busy late morning and in the evening.
_HOURLY = (0.5, 0.3, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.4, 1.7, 1.7,
           1.4, 1.4, 1.5, 1.5, 1.4, 1.3, 1.3, 1.5, 1.9, 2.1, 1.8, 1.1)
# Shopping festivals: 双十一, 双十二, 618 — several times a normal day, busiest at midnight.
_FESTIVALS = {(11, 11): 4.0, (12, 12): 2.0, (6, 18): 3.0}


@dataclass(slots=True)
class PlannedOrder:
    key: str  # the Idempotency-Key the demo places it with
    placed_at: datetime
    actor: Actor
    draft: OrderDraft
    customer: int
    steps: list[Step] = field(default_factory=list)  # those that have happened by "now"


def plan_orders(rng: random.Random, now: datetime, count: int, seed: int,
                customers: list[DemoCustomer], rules: ShopRules) -> list[PlannedOrder]:
    """``count`` orders over the ``DAYS`` before ``now``, oldest first, keys in that order."""
    popularity = [rng.lognormvariate(0.0, 0.8) for _ in data.PRODUCTS]
    activity = [c.activity for c in customers]
    seen_customers: set[int] = set()
    external_ids: set[tuple[str, str]] = set()
    orders = []
    for i, placed_at in enumerate(_order_times(rng, now, count, rules.payment_timeout / 2)):
        who = rng.choices(range(len(customers)), activity)[0]
        first = who not in seen_customers
        seen_customers.add(who)
        draft = _draft(rng, placed_at, customers[who], first, popularity, external_ids)
        actor = people.agent(rng) if draft.channel == "phone" else people.connector(draft.channel)
        life = Life(rng, placed_at, draft, customers[who], rules)
        orders.append(PlannedOrder(f"demo-{seed}-{i:05d}", placed_at, actor, draft, who,
                                   [s for s in life.steps if s.at <= now]))
    cover_every_status(rng, orders, now - rules.payment_timeout)
    return orders


def _order_times(rng: random.Random, now: datetime, count: int,
                 fresh: timedelta) -> list[datetime]:
    """Placing times, oldest first; the newest two within ``fresh`` of now (just came in)."""
    start = now - timedelta(days=DAYS)
    today = now.astimezone(CHINA).date()
    days = [today - timedelta(days=d) for d in range(DAYS, -1, -1)]
    # A growing shop: a third more orders a day at the end than at the start; busier weekends.
    weights = [(1 + 0.35 * i / DAYS) * (1.15 if d.weekday() >= 5 else 1.0)
               * _FESTIVALS.get((d.month, d.day), 1.0) for i, d in enumerate(days)]
    times: list[datetime] = []
    while len(times) < count:
        day = rng.choices(days, weights)[0]
        hourly = list(_HOURLY)
        if (day.month, day.day) in _FESTIVALS:
            hourly[0] = 6.0  # the midnight rush when the festival opens
        hour = rng.choices(range(24), hourly)[0]
        at = datetime.combine(day, time(hour), CHINA) + timedelta(seconds=rng.randrange(3600))
        at = at.astimezone(UTC)
        if start <= at <= now - timedelta(minutes=1):
            times.append(at)
    times.sort()
    for k, share in ((-2, rng.uniform(0.5, 0.9)), (-1, rng.uniform(0.05, 0.4))):
        if len(times) >= -k and times[k] < now - fresh * share:
            times[k] = now - fresh * share
    return times


def _draft(rng: random.Random, placed_at: datetime, c: DemoCustomer, first: bool,
           popularity: list[float], external_ids: set[tuple[str, str]]) -> OrderDraft:
    channel = c.channel if rng.random() < 0.75 else rng.choices(
        [ch for ch, _ in data.CHANNELS], [w for _, w in data.CHANNELS])[0]
    if channel == "api" and c.company is None:
        channel = "web"
    methods = data.PAYMENT_BY_CHANNEL[channel]
    method = rng.choices([m for m, _ in methods], [w for _, w in methods])[0]
    lines = _lines(rng, channel, popularity)
    prices = {p.sku: p.price_yuan * 100 for p in data.PRODUCTS}
    subtotal = sum(prices[ln.sku] * ln.quantity for ln in lines)
    local = placed_at.astimezone(CHINA)
    festival = (local.month, local.day) in _FESTIVALS
    place = c.place
    remote = place.zone >= 4
    shipping = 0 if channel == "api" or subtotal >= 9900 else 800
    shipping += 1000 if remote else 0  # 偏远地区加收
    promo, discount = _promo(rng, c, first, subtotal, festival)
    tags = []
    if c.vip:
        tags.append("VIP")
    if first:
        tags.append("新客")
    if c.company and channel == "api":
        tags.append("企业客户")
    if c.company and rng.random() < 0.6:
        tags.append("需开票")
    if festival:
        tags.append("大促")
    if any(p.fragile for p in data.PRODUCTS if p.sku in {ln.sku for ln in lines}):
        tags.append("易碎")
    if rng.random() < 0.03:
        tags.append("加急")
    if method not in ("cod", "bank_transfer") and rng.random() < 0.02:
        tags.append("预售")
    recipient, ship_phone = c.name, c.phone
    if channel != "api" and rng.random() < 0.05:
        tags.append("礼品")
        recipient, ship_phone = people.person_name(rng)[0], people.mobile_number(rng, set())
    custom: dict[str, Any] = {}
    if channel == "tmall":
        custom["buyer_nick"] = "tb_" + "".join(rng.choices("abcdefghjkmnpqrstuvwxyz23456789",
                                                         k=8))
    elif channel == "jd":
        custom["jd_pin"] = f"jd_{rng.getrandbits(40):010x}"
    if "需开票" in tags:
        custom["invoice_title"] = c.company
        custom["invoice_type"] = "增值税专用发票" if channel == "api" else "增值税普通发票"
    return OrderDraft(
        channel=channel,
        external_id=_external_id(rng, channel, local, external_ids),
        customer=Customer(c.name, c.phone, c.email, c.company),
        shipping_address=Address(recipient, ship_phone, place.province, place.city,
                                 place.district, c.street, place.postcode),
        lines=tuple(lines), shipping_fee=shipping, discount=discount,
        payment_method=method, promo_code=promo, placed_at=placed_at,
        ship_by=placed_at + timedelta(hours=48),
        deliver_by=placed_at + timedelta(days=place.zone + 3),
        notes=rng.choice(data.CUSTOMER_NOTES) if rng.random() < 0.12 else None,
        tags=tuple(tags), custom_fields=custom)


def _lines(rng: random.Random, channel: str, popularity: list[float]) -> list[LineDraft]:
    by_sku = {p.sku: p for p in data.PRODUCTS}
    if channel == "api":  # a company restocking its office
        skus = rng.sample(data.OFFICE_SKUS, rng.choice((1, 1, 2, 2, 3)))
        return [LineDraft(s, rng.randint(1, 5) if by_sku[s].price_yuan > 500
                          else rng.randint(5, 40), model=by_sku[s].model) for s in sorted(skus)]
    count = rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0]
    chosen: dict[str, int] = {}
    only_in: str | None = None  # one order is served by one warehouse: no two specialities
    while len(chosen) < count:
        p = rng.choices(data.PRODUCTS, popularity)[0]
        if p.sku in chosen or (p.only_in and only_in and p.only_in != only_in):
            continue
        only_in = only_in or p.only_in
        chosen[p.sku] = rng.choices((1, 2, 3, 4, 5, 6), (78, 15, 5, 1, 0.5, 0.5))[0]
    return [LineDraft(sku, qty, model=by_sku[sku].model) for sku, qty in chosen.items()]


def _promo(rng: random.Random, c: DemoCustomer, first: bool, subtotal: int,
           festival: bool) -> tuple[str | None, int]:
    if rng.random() > (0.45 if festival else 0.15):
        return None, 0
    if subtotal >= 30000:
        return "MAN300JIAN30", 3000  # 满 300 减 30
    if first and subtotal >= 10000:
        return "NEW20", 2000
    if c.vip:
        return "VIP95", subtotal * 5 // 100
    return None, 0


def _external_id(rng: random.Random, channel: str, local: datetime,
                 taken: set[tuple[str, str]]) -> str | None:
    while True:
        if channel == "tmall":
            ext = str(rng.randrange(10**18, 4 * 10**18))
        elif channel == "jd":
            ext = str(rng.randrange(2 * 10**11, 4 * 10**11))
        elif channel == "wechat":
            ext = f"37{rng.randrange(10**17):017d}"
        elif channel == "web":
            ext = f"W{local:%y%m%d}{rng.randrange(10**5):05d}"
        elif channel == "api":
            ext = f"PO-{local:%Y%m}-{rng.randrange(10**4):04d}"
        else:  # phone orders are typed in by customer service: no channel id
            return None
        if (channel, ext) not in taken:
            taken.add((channel, ext))
            return ext


def statuses(order: PlannedOrder) -> list[Status]:
    """The order's status after placing and after each of its steps (notes change nothing)."""
    facts = lifecycle.OrderFacts(Status.PENDING_PAYMENT, PaymentStatus.UNPAID,
                                 order.draft.payment_method)
    out = [facts.status]
    for step in order.steps:
        if step.action is not None:
            o = lifecycle.apply(facts, step.action)
            facts = replace(facts, status=o.status, payment_status=o.payment_status,
                            held_from=o.held_from)
        out.append(facts.status)
    return out


def cover_every_status(rng: random.Random, orders: list[PlannedOrder],
                       unpaid_since: datetime) -> None:
    """Make every status appear at least once, by stopping a recent order where it is wanted.

    A busy shop has orders in every status at any moment; a small demo may not. For each
    missing status the most recent order that passed through it (or could be held or
    cancelled there) stops at it — as an order that got stuck, which later SLA alerts flag.
    Only an order placed after ``unpaid_since`` may stay unpaid: older ones the payment-timeout
    job would cancel.
    """
    recent_first = sorted(range(len(orders)), key=lambda i: orders[i].placed_at, reverse=True)
    final = [statuses(o)[-1] for o in orders]
    have = Counter(final)
    order = list(Status)
    touched: set[int] = set()
    for wanted in order:
        if have[wanted]:
            continue
        for i in recent_first:
            if wanted is Status.PENDING_PAYMENT and orders[i].placed_at < unpaid_since:
                break
            # Take an order from a status only if another order stays there, or if that
            # status is still to come in this loop (and so will be covered again).
            current = final[i]
            spare = have[current] > 1 or order.index(current) > order.index(wanted)
            if i not in touched and spare and _stop_at(rng, orders[i], wanted):
                touched.add(i)
                have[current] -= 1
                have[wanted] += 1
                final[i] = wanted
                break


def _stop_at(rng: random.Random, order: PlannedOrder, wanted: Status) -> bool:
    seen = statuses(order)
    # seen[k] is the status after k steps; order.steps[k] is the step taken from it.
    for k in range(len(order.steps) - 1, -1, -1):
        status = seen[k]
        if wanted in (Status.ON_HOLD, Status.CANCELLED):
            action = Action.HOLD if wanted is Status.ON_HOLD else Action.CANCEL
            if status is Status.ON_HOLD or lifecycle.find(status, action) is None:
                continue
            before = order.steps[k - 1].at if k else order.placed_at
            at = before + min((order.steps[k].at - before) / 2, timedelta(minutes=20))
            reason = rng.choice(data.HOLD_REASONS if action is Action.HOLD
                                else data.PAID_CANCEL_REASONS)
            who = people.reviewer(rng) if action is Action.HOLD else people.agent(rng)
            order.steps[k:] = [Step(at, action, who, reason=reason)]
            return True
        if status is wanted:
            del order.steps[k:]
            return True
    return False
