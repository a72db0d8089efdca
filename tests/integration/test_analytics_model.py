"""The analytics read model on a real database: orders driven through the real use cases at
random, the model refreshed at random points in between, and the result equal — row for
row — to the model rebuilt from the timeline. Then the query use cases over it: figures,
warehouse scope, bad ranges, and the forecast of a SKU with no history."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conftest import Clock, ref
from dingdan.domain import lifecycle
from dingdan.domain.errors import Forbidden, NotFound, ValidationFailed
from dingdan.domain.events import SYSTEM
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.orders import Address, LineDraft, OrderDraft
from dingdan.services import analytics, analytics_model, catalogue, orders
from dingdan.store.tables_analytics import analytics_daily, analytics_orders, analytics_stages
from dingdan.store.uow import UnitOfWorkFactory
from people_support import ACTION_INPUT, ADDRESS, CUSTOMER, World, actor_of

SH = ZoneInfo("Asia/Shanghai")
MANAGER = actor_of("manager")


async def _snapshot(uows: UnitOfWorkFactory) -> dict[str, Any]:
    async with uows(read_only=True) as uow:
        out: dict[str, Any] = {}
        for table in (analytics_daily, analytics_stages):
            out[table.name] = sorted(tuple(r) for r in await uow.conn.execute(select(table)))
        out["measures"] = sorted((int(r.order_id), repr(sorted(r.measures.items())))
                                 for r in await uow.conn.execute(select(analytics_orders)))
    return out


async def _random_walk(w: World, uows: UnitOfWorkFactory, clock: Clock,
                       rng: random.Random, n_orders: int) -> list[str]:
    numbers: list[str] = []
    for _ in range(n_orders):
        clock.advance(minutes=rng.randrange(1, 600))
        numbers.append(await w.place(cod=rng.random() < 0.2, in_other=rng.random() < 0.3))
        for _ in range(rng.randrange(0, 3)):
            number = rng.choice(numbers)
            await _step(uows, number, rng)
            clock.advance(minutes=rng.randrange(1, 24 * 60))
        if rng.random() < 0.35:
            await analytics_model.refresh(uows, SH, batch=rng.choice([3, 7, 50]))
    for _ in range(n_orders * 3):
        clock.advance(minutes=rng.randrange(1, 12 * 60))
        await _step(uows, rng.choice(numbers), rng)
        if rng.random() < 0.2:
            await analytics_model.refresh(uows, SH, batch=rng.choice([3, 7, 50]))
    return numbers


async def _step(uows: UnitOfWorkFactory, number: str, rng: random.Random) -> None:
    async with uows(read_only=True) as uow:
        state = await uow.orders.get_state(number)
    assert state is not None
    if rng.random() < 0.1 and Status(state.status) in lifecycle.EDITABLE_ADDRESS:
        moved = Address("张伟", "13800138000", rng.choice(["四川省", "北京市"]), "某市", "某区",
                        "某街 1 号", "610041")
        await orders.change_address(orders.ChangeAddress(number, moved, SYSTEM, "moved"),
                                    uows())
        return
    facts = lifecycle.OrderFacts(Status(state.status), PaymentStatus(state.payment_status),
                                 state.payment_method,
                                 Status(state.held_from) if state.held_from else None)
    allowed = [a for a in lifecycle.allowed_actions(facts) if a is not Action.TIMEOUT]
    if not allowed:
        return
    action = rng.choice(allowed)
    await orders.change_status(orders.ChangeStatus(
        number, action, SYSTEM, **ACTION_INPUT.get(action, {})), uows())


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_model_refreshed_in_steps_equals_the_model_rebuilt(
        uows: UnitOfWorkFactory, clock: Clock, seed: int) -> None:
    rng = random.Random(seed)
    w = await World.create(uows)
    await _random_walk(w, uows, clock, rng, 14)
    await analytics_model.refresh(uows, SH, batch=5)
    stepped = await _snapshot(uows)
    assert stepped["analytics_daily"], "the walk made no figures at all"
    await analytics_model.rebuild(uows, SH)
    assert await _snapshot(uows) == stepped
    again = await analytics_model.refresh(uows, SH)
    assert again.orders == 0  # nothing new: nothing recomputed


async def test_the_figures_of_a_small_known_day(uows: UnitOfWorkFactory, clock: Clock) -> None:
    w = await World.create(uows)
    today = clock().astimezone(SH).date()
    a = await w.place()
    b = await w.place()
    c = await w.place(in_other=True)
    clock.advance(hours=1)
    await w.drive(a, Status.SHIPPED)
    await orders.change_status(orders.ChangeStatus(b, Action.CANCEL, SYSTEM, "customer asked"),
                               uows())
    clock.advance(hours=2)
    await w.drive(c, Status.PACKED)
    await analytics_model.refresh(uows, SH)
    q = analytics.Range(today, today, w.warehouse)
    s = await analytics.summary(q, uows(read_only=True), actor=MANAGER, tz=SH)
    assert (s["orders"], s["cancelled"], s["shipped"]) == (2, 1, 1)
    assert s["cancellation_rate"] == 0.5
    assert s["revenue"] == [{"currency": "CNY", "amount": 5900}]
    other = await analytics.summary(analytics.Range(today, today, w.other_warehouse),
                                    uows(read_only=True), actor=MANAGER, tz=SH)
    assert other["orders"] == 1 and other["shipped"] == 0
    regions = await analytics.breakdown(q, "province", uows(read_only=True), actor=MANAGER,
                                        tz=SH)
    assert regions["rows"][0]["key"] == "31" and regions["rows"][0]["name_zh"] == "上海"
    st = await analytics.stages(analytics.Range(today, today, w.other_warehouse),
                                uows(read_only=True), actor=MANAGER, tz=SH)
    # c is still packed: its packed stay is open, so not measured yet.
    assert "packed" not in {x["status"] for x in st["stages"]}
    assert {"pending_payment", "picking"} <= {x["status"] for x in st["stages"]}
    g = await analytics.gantt(analytics.Range(today, today, w.other_warehouse),
                              uows(read_only=True), actor=MANAGER, tz=SH)
    (row,) = g["rows"]
    assert row["number"] == c and row["bars"][-1] == {
        "status": "packed", "start": clock().isoformat(), "end": clock().isoformat(),
        "open": True}
    trend = await analytics.trend(analytics.Range(today - timedelta(days=6), today,
                                                  w.warehouse),
                                  uows(read_only=True), actor=MANAGER, tz=SH)
    assert len(trend["points"]) == 7 and trend["points"][-1]["orders"] == 2
    assert sum(p["orders"] for p in trend["points"]) == 2


async def test_a_person_limited_to_a_warehouse_sees_only_its_figures(
        uows: UnitOfWorkFactory, clock: Clock) -> None:
    w = await World.create(uows)
    today = clock().astimezone(SH).date()
    await w.place()
    await w.place(in_other=True)
    await analytics_model.refresh(uows, SH)
    limited = actor_of("manager", warehouse_ids=frozenset({w.other_warehouse_id}))
    with pytest.raises(NotFound):
        await analytics.summary(analytics.Range(today, today, w.warehouse),
                                uows(read_only=True), actor=limited, tz=SH)
    mine = await analytics.breakdown(analytics.Range(today, today), "warehouse",
                                     uows(read_only=True), actor=limited, tz=SH)
    assert [r["key"] for r in mine["rows"]] == [w.other_warehouse]
    with pytest.raises(Forbidden):
        await analytics.summary(analytics.Range(), uows(read_only=True),
                                actor=actor_of("warehouse"), tz=SH)


async def test_bad_ranges_dimensions_and_skus_are_refused(uows: UnitOfWorkFactory) -> None:
    with pytest.raises(ValidationFailed) as err:
        await analytics.summary(analytics.Range(date(2026, 11, 12), date(2026, 11, 1)),
                                uows(read_only=True), actor=MANAGER, tz=SH)
    assert err.value.details[0].code == "range_backwards"
    with pytest.raises(ValidationFailed):
        await analytics.breakdown(analytics.Range(), "colour", uows(read_only=True),
                                  actor=MANAGER, tz=SH)
    with pytest.raises(NotFound):
        await analytics.forecast(ref("NOPE"), uows(read_only=True), actor=MANAGER, tz=SH)


async def test_a_sku_with_no_sales_gets_an_explained_empty_forecast(
        uows: UnitOfWorkFactory) -> None:
    sku = ref("NEW")
    await catalogue.create_product(catalogue.ProductFields(sku, "新品", 100), uows(),
                                   actor=SYSTEM)
    f = await analytics.forecast(sku, uows(read_only=True), actor=MANAGER, tz=SH)
    assert f["reason"] == "no_history" and f["forecast"] == [] and f["baseline"] is None


async def test_a_sku_with_weekly_sales_is_forecast_with_its_backtest(
        uows: UnitOfWorkFactory, clock: Clock) -> None:
    w = await World.create(uows)
    clock.advance(days=-60)
    for day in range(60):
        for _ in range(1 + (3 if day % 7 in (5, 6) else 0)):
            draft = OrderDraft("api", CUSTOMER, ADDRESS,
                               (LineDraft(w.sku, 1),), external_id=ref("E"),
                               payment_method="alipay")
            await orders.place_order(orders.PlaceOrder(draft, SYSTEM), uows())
        clock.advance(days=1)
    f = await analytics.forecast(w.sku, uows(read_only=True), actor=MANAGER, tz=SH)
    assert f["reason"] == "" and len(f["forecast"]) == 7
    assert f["method"] == "seasonal_naive"
    assert f["scores"][0]["mae"] < f["baseline"]["mae"]
    assert sum(f["history"]) == sum(1 + (3 if d % 7 in (5, 6) else 0) for d in range(60))


async def test_the_worker_keeps_the_model_fresh_once_per_tick(uows: UnitOfWorkFactory,
                                                               clock: Clock) -> None:
    from worker_support import make_worker

    w = await World.create(uows)
    today = clock().astimezone(SH).date()
    number = await w.place()
    first, second = (make_worker(uows, {}, owner=f"w{i}") for i in (1, 2))
    ran = [await first.run_due_jobs(), await second.run_due_jobs()]
    assert ran[0].count("analytics_refresh") + ran[1].count("analytics_refresh") == 1
    q = analytics.Range(today, today, w.warehouse)
    s = await analytics.summary(q, uows(read_only=True), actor=MANAGER, tz=SH)
    assert s["orders"] == 1
    await orders.change_status(orders.ChangeStatus(number, Action.CANCEL, SYSTEM, "changed mind"),
                               uows())
    clock.advance(minutes=1)
    await first.run_due_jobs()
    s = await analytics.summary(q, uows(read_only=True), actor=MANAGER, tz=SH)
    assert (s["orders"], s["cancelled"]) == (1, 1)
