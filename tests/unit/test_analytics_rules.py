"""KPIs from the event log: each figure against a hand-computed fixture, and the read model
refreshed order by order equal to one built from scratch after any sequence of events."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dingdan.domain import lifecycle
from dingdan.domain.analytics import (
    BUCKET_EDGES,
    Event,
    Measures,
    OrderFacts,
    Rollup,
    bucket,
    day_range,
    delta,
    gantt_bars,
    kpis,
    measure,
    rollup,
    stage_summary,
)
from dingdan.domain.errors import ValidationFailed
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.regions import PROVINCES, code_of

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def facts(order_id: int = 1, **kw: object) -> OrderFacts:
    base: dict[str, object] = dict(order_id=order_id, warehouse_id=1, placed_at=T0,
                                   province="广东省", channel="tmall", currency="CNY",
                                   total=10_000, carrier="SF", ship_by=h(24), deliver_by=h(72))
    base.update(kw)
    return OrderFacts(**base)  # type: ignore[arg-type]


def events(*steps: tuple[str | None, float]) -> list[Event]:
    return [Event(to, h(at)) for to, at in steps]


HAPPY = events(("pending_payment", 0), ("paid", 0.5), ("pending_review", 0.5),
               (None, 1), ("approved", 2), ("allocated", 2), ("picking", 3), ("packed", 5),
               ("shipped", 20), ("in_transit", 21), ("delivered", 80))


def test_an_orders_measures_come_from_its_timeline() -> None:
    m = measure(facts(), HAPPY, SH)
    assert m.day == date(2026, 11, 11)
    assert m.province == "44"
    assert m.shipped_at == h(20) and m.on_time_ship is True
    assert m.delivered_at == h(80) and m.on_time_deliver is False  # promised by hour 72
    assert m.lead_seconds == 80 * 3600
    assert dict(m.stays) == {"pending_payment": 1800, "paid": 0, "pending_review": 5400,
                             "approved": 0, "allocated": 3600, "picking": 7200,
                             "packed": 15 * 3600, "shipped": 3600, "in_transit": 59 * 3600}
    assert m.carrier == "SF" and not m.cancelled


def test_an_open_stay_is_not_measured_until_the_order_leaves_it() -> None:
    m = measure(facts(), HAPPY[:7], SH)  # still picking
    assert "picking" not in dict(m.stays)
    assert m.shipped_at is None and m.on_time_ship is None and m.carrier == ""


def test_the_day_is_the_business_days_not_utc() -> None:
    late = datetime(2026, 11, 11, 17, 0, tzinfo=UTC)  # 01:00 on the 12th in Shanghai
    assert measure(facts(placed_at=late), [Event("pending_payment", late)], SH).day == \
        date(2026, 11, 12)


def test_kpis_over_a_hand_computed_fixture() -> None:
    cancelled = events(("pending_payment", 0), ("cancelled", 0.25))
    late_ship = events(("pending_payment", 0), ("paid", 1), ("pending_review", 1),
                       ("approved", 2), ("allocated", 2), ("picking", 3), ("packed", 4),
                       ("shipped", 30))
    no_promise = events(("pending_payment", 0), ("paid", 1), ("pending_review", 1),
                        ("approved", 2), ("allocated", 2), ("picking", 3), ("packed", 4),
                        ("shipped", 10), ("delivered", 40))
    ms = [measure(facts(1), HAPPY, SH), measure(facts(2, total=5_000), cancelled, SH),
          measure(facts(3, total=7_000), late_ship, SH),
          measure(facts(4, total=3_000, ship_by=None, deliver_by=None), no_promise, SH)]
    k = kpis(rollup(ms).daily.values())
    assert (k.orders, k.revenue, k.cancelled) == (4, 20_000, 1)
    assert k.cancellation_rate == 0.25
    assert (k.shipped, k.ship_promised, k.shipped_on_time) == (3, 2, 1)
    assert k.on_time_ship_rate == 0.5
    assert (k.delivered, k.deliver_promised, k.delivered_on_time) == (2, 1, 0)
    assert k.on_time_delivery_rate == 0.0
    assert k.mean_lead_hours == 60.0  # (80 + 40) / 2


def test_stage_summary_gives_mean_and_the_bucket_of_each_percentile() -> None:
    # Ten stays in "packed": nine of 1 h, one of 3 days.
    rows = [("packed", bucket(3600), 9, 9 * 3600), ("packed", bucket(3 * 86400), 1, 3 * 86400)]
    (packed,) = stage_summary(rows)
    assert packed.count == 10
    assert packed.mean_seconds == (9 * 3600 + 3 * 86400) // 10
    assert packed.p50_le_seconds == 3600
    assert packed.p90_le_seconds == 3600  # the 9th of 10 is still in the 1 h bucket
    (again,) = stage_summary([("packed", bucket(3600), 8, 8 * 3600),
                              ("packed", bucket(3 * 86400), 2, 6 * 86400)])
    assert again.p90_le_seconds == 3 * 86400


def test_a_stay_beyond_the_last_edge_has_an_open_bucket() -> None:
    assert bucket(BUCKET_EDGES[-1] + 1) == len(BUCKET_EDGES)
    (s,) = stage_summary([("shipped", len(BUCKET_EDGES), 1, 30 * 86400)])
    assert s.p50_le_seconds is None


def test_gantt_bars_run_the_current_stay_to_now() -> None:
    bars = gantt_bars(HAPPY[:7], h(4))
    assert [b.status for b in bars] == ["pending_payment", "paid", "pending_review",
                                        "approved", "allocated", "picking"]
    assert bars[-1].open and bars[-1].end == h(4)
    done = gantt_bars([*HAPPY, Event("completed", h(200))], h(300))
    assert done[-1].status == "delivered" and done[-1].end == h(200) and not done[-1].open


@pytest.mark.parametrize(("start", "end", "code"), [
    (date(2026, 11, 12), date(2026, 11, 11), "range_backwards"),
    (date(2006, 11, 11), date(2026, 11, 11), "range_too_long"),
    (date(9999, 12, 31), date(9999, 12, 31), "out_of_range"),
    (None, date(1, 1, 1), "out_of_range"),
])
def test_a_backwards_or_twenty_year_range_is_refused(start: date | None, end: date,
                                                     code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        day_range(start, end, date(2026, 11, 11))
    assert err.value.details[0].code == code


def test_the_default_range_is_the_last_thirty_days() -> None:
    assert day_range(None, None, date(2026, 11, 30)) == (date(2026, 11, 1), date(2026, 11, 30))


def test_provinces_are_read_however_they_are_written() -> None:
    assert code_of("广东省") == code_of("广东") == code_of("Guangdong") == "44"
    assert code_of("新疆维吾尔自治区") == "65"
    assert code_of("Atlantis") == "00" and code_of(None) == "00"
    assert len({p.code for p in PROVINCES}) == 34
    assert len({(p.row, p.col) for p in PROVINCES}) == 34  # no two tiles on one cell


# --- the read model, refreshed order by order, equals one built from scratch --------------

def _random_life(rng: random.Random, order_id: int) -> tuple[list[OrderFacts], list[Event]]:
    """A random walk over the transition table, with address changes and notes on the way.
    Returns the order's facts after each event (they change: address, carrier) and events."""
    start = T0 + timedelta(hours=rng.randrange(0, 24 * 5))
    f = facts(order_id, placed_at=start, province=rng.choice(["广东省", "浙江", "上海市"]),
              warehouse_id=rng.choice([1, 2]), channel=rng.choice(["tmall", "jd"]),
              carrier=None, total=rng.randrange(100, 100_000),
              ship_by=start + timedelta(hours=rng.choice([12, 24, 48])) if rng.random() < .8
              else None,
              deliver_by=start + timedelta(hours=rng.choice([48, 96])))
    state = lifecycle.OrderFacts(Status.PENDING_PAYMENT, PaymentStatus.UNPAID,
                                 rng.choice(["alipay", "cod"]))
    at = start
    history = [f]
    evs = [Event(Status.PENDING_PAYMENT.value, at)]
    for _ in range(rng.randrange(0, 14)):
        at += timedelta(minutes=rng.randrange(0, 60 * 30))
        if rng.random() < 0.15:
            evs.append(Event(None, at))  # a note, or an address change:
            if rng.random() < 0.5:
                f = facts(**{**_as_kw(f), "province": rng.choice(["北京", "四川省"])})
            history.append(f)
            continue
        allowed = lifecycle.allowed_actions(state)
        if not allowed:
            break
        action = rng.choice(allowed)
        outcome = lifecycle.apply(state, action)
        state = lifecycle.OrderFacts(outcome.status, outcome.payment_status,
                                     state.payment_method, outcome.held_from)
        if action is Action.SHIP:
            f = facts(**{**_as_kw(f), "carrier": rng.choice(["SF", "ZTO"])})
        evs.append(Event(outcome.status.value, at))
        history.append(f)
    return history, evs


def _as_kw(f: OrderFacts) -> dict[str, object]:
    return {k: getattr(f, k) for k in OrderFacts.__slots__}


def _incremental(rng: random.Random, lives: list[tuple[list[OrderFacts], list[Event]]]
                 ) -> tuple[Rollup, list[Measures]]:
    """Interleave the orders' events; refresh after random batches, as the worker would."""
    pending = [(i, n) for i, (_, evs) in enumerate(lives) for n in range(1, len(evs) + 1)]
    # Each order's events stay in their order; orders interleave at random.
    cursor = [0] * len(lives)
    order = []
    while pending:
        i = rng.choice(sorted({i for i, _ in pending}))
        cursor[i] += 1
        pending.remove((i, cursor[i]))
        order.append(i)
    model = Rollup.empty()
    known: dict[int, Measures] = {}
    seen = [0] * len(lives)
    touched: set[int] = set()
    for step, i in enumerate(order):
        seen[i] += 1
        touched.add(i)
        if rng.random() < 0.3 or step == len(order) - 1:
            for j in sorted(touched):
                history, evs = lives[j]
                new = measure(history[seen[j] - 1], evs[:seen[j]], SH)
                model.add(delta(known.get(j), new))
                known[j] = new
            touched.clear()
    return model.pruned(), list(known.values())


@settings(max_examples=60, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=12))
def test_the_read_model_refreshed_in_steps_equals_a_recomputation(seed: int,
                                                                  n_orders: int) -> None:
    rng = random.Random(seed)
    lives = [_random_life(rng, i + 1) for i in range(n_orders)]
    model, final = _incremental(rng, lives)
    scratch = rollup(measure(h_[-1], evs, SH) for h_, evs in lives)
    assert model == scratch
    assert model == rollup(final)
