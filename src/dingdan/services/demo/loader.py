"""Load the demo: staff, catalogue, opening stock, then every order's life in time order.

Everything goes through the use cases — ``create_user``, ``create_warehouse``,
``create_product``, ``move_stock``, ``place_order``, ``change_status``, ``add_note`` — with a
simulated clock set to the moment each step happens, so placed times, event times, the audit
trail and the stock ledger read as if the shop had been running for the last 90 days.

All of it runs in one :class:`~.batch.Batch`, committed every ``BATCH_STEPS`` use cases.

Idempotent: people, warehouses, products and stock rows that exist are left alone, and each
order is placed with an ``Idempotency-Key`` (``demo-<seed>-<n>``, in time order), so a second
run finds them all and adds nothing; a run that was interrupted resumes where it stopped.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from dingdan.domain.errors import InsufficientStock
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.inventory import MovementKind
from dingdan.domain.lifecycle import LABELS, Status
from dingdan.services import analytics_model, catalogue, inventory, users
from dingdan.services import orders as order_cases
from dingdan.services.demo import data, people
from dingdan.services.demo.aftersales import load_aftersales
from dingdan.services.demo.batch import Batch
from dingdan.services.demo.carriers import ensure_carriers
from dingdan.services.demo.intake import load_intake
from dingdan.services.demo.life import CHINA, ShopRules, Step
from dingdan.services.demo.plan import DAYS, PlannedOrder, plan_orders
from dingdan.services.demo.portal import add_portal_activity
from dingdan.services.demo.review import review_demo
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.orders import ListQuery
from dingdan.store.tables import outbox, products, warehouses
from dingdan.store.uow import UnitOfWorkFactory

CUSTOMERS = 300
BATCH_STEPS = 500  # use cases per transaction


class SimulatedClock:
    """The demo's clock: it says whatever time the loader has moved it to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class _Tally:
    staff: int = 0
    warehouses: int = 0
    products: int = 0
    receipts: int = 0
    placed: int = 0
    already: int = 0
    refused: int = 0
    changes: int = 0
    notes: int = 0
    imported: int = 0
    cases: int = 0
    complaints: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)
    by_warehouse: Counter[str] = field(default_factory=Counter)


async def load_demo(uows: UnitOfWorkFactory, orders: int = 2000, seed: int = 2026, *,
                    rules: ShopRules = ShopRules(), review_on: bool = True) -> str:
    """Load believable demo data (deterministic from ``seed``) and return a short report.

    "Now" is the factory's clock: the real time from the CLI, a fixed one in tests. ``rules``
    are the worker's timed rules (payment timeout, auto-completion), which the history obeys.
    ``review_on``: switch the auto-review rules on at the end (the review starts after the
    history: its orders went through review by hand).
    """
    started = time.perf_counter()
    now = uows.clock()
    rng = random.Random(seed)
    customers = people.make_customers(rng, CUSTOMERS)
    planned = plan_orders(rng, now, orders, seed, customers, rules)
    tally = _Tally()
    opening = (now - timedelta(days=DAYS + 1)).astimezone(CHINA).replace(
        hour=9, minute=0, second=0, microsecond=0)
    clock = SimulatedClock(opening)
    async with Batch(uows.engine, clock) as batch:
        await _ensure_catalogue(batch, tally)
        staff = await _ensure_staff(batch, tally)
        await _receive_opening_stock(batch, staff, planned, tally)
        todo = await _not_yet_placed(batch, planned)
        tally.already = len(planned) - len(todo)
        await _live(batch, clock, staff, planned, todo, tally)
        # customers on their own pages, after the rest (history: never notified either)
        portal_made = await add_portal_activity(batch.uow, rng, seed, clock.advance)
        await _silence(batch, set(portal_made), clock.now)
    tally.imported = await load_intake(uows, staff["陈静"], staff["吴建国"])
    await ensure_carriers(uows)  # issue 12: carriers, rates, waybills, parcels' scans
    # After-sales on the recently delivered orders, at "now" (issue 13).
    tally.cases, tally.complaints = await load_aftersales(uows, staff, seed)
    await review_demo(uows, review_on)  # issue 9: rules, a VIP and a blocked customer, traces
    # The dashboard's figures, from the timeline just written (the worker keeps them fresh).
    await analytics_model.refresh(uows, CHINA)
    report = await _report(uows, tally, len({o.customer for o in planned}), seed,
                           time.perf_counter() - started)
    if portal_made:
        report += f"\n{len(portal_made)} customers used their own page (address moved, help asked)."
    return report


async def _ensure_catalogue(batch: Batch, tally: _Tally) -> None:
    """Create the demo warehouses and products that are not there yet."""
    async with batch.uow() as uow:
        have_wh = {w.code for w in data.WAREHOUSES
                   if await uow.catalogue.get(warehouses, "code", w.code) is not None}
        have_sku = {p.sku for p in data.PRODUCTS
                    if await uow.catalogue.get(products, "sku", p.sku) is not None}
        await uow.commit()  # nothing written: ends the unit of work
    for w in data.WAREHOUSES:
        if w.code not in have_wh:
            await catalogue.create_warehouse(catalogue.WarehouseFields(
                w.code, w.name, w.region, w.city, w.address, w.priority), batch.uow(),
                actor=people.SETUP)
            tally.warehouses += 1
    for i, p in enumerate(data.PRODUCTS):
        if p.sku not in have_sku:
            length, width, height = p.dims_mm
            await catalogue.create_product(catalogue.ProductFields(
                p.sku, p.name, p.price_yuan * 100, barcode=ean13(f"6920260{i + 1:05d}"),
                weight_g=p.weight_g, length_mm=length, width_mm=width, height_mm=height),
                batch.uow(), actor=people.SETUP)
            tally.products += 1


def ean13(first12: str) -> str:
    """An EAN-13 barcode: the twelve digits given and their check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


async def _ensure_staff(batch: Batch, tally: _Tally) -> dict[str, Actor]:
    """The demo's people as user accounts (no password: nobody signs in as them), by name."""
    async with batch.uow() as uow:
        found = {s.name: await uow.users.by_login(s.email) for s in data.STAFF}
        codes = {w["code"]: w["id"] for w in await uow.catalogue.list_warehouses()}
        await uow.commit()
    actors = {}
    for s in data.STAFF:
        row = found[s.name]
        if row is None:
            view = await users.create_user(users.CreateUser(users.UserFields(
                s.name, s.email, language="zh-CN", roles=frozenset({s.role}),
                warehouses=frozenset({s.warehouse}) if s.warehouse else frozenset()),
                people.SETUP), batch.uow())
            row = {"id": view["id"], "name": s.name, "roles": [s.role],
                   "warehouse_ids": [codes[s.warehouse]] if s.warehouse else []}
            tally.staff += 1
        actors[s.name] = users.user_actor(row, source=people.SOURCE)
    return actors


async def _receive_opening_stock(batch: Batch, staff: dict[str, Actor],
                                 planned: list[PlannedOrder], tally: _Tally) -> None:
    """Stock for every demo product, sized to the planned orders, for rows not there yet.

    The highest-priority warehouse gets the largest share and the others the overflow; a
    regional speciality is stocked only where it comes from.
    """
    async with batch.uow() as uow:
        stocked = {(row["sku"], row["warehouse_code"]) for p in data.PRODUCTS
                   for row in await uow.stock.levels(sku=p.sku)}
        await uow.commit()
    demand = Counter[str]()
    for o in planned:
        for line in o.draft.lines:
            demand[line.sku] += line.quantity
    for w in data.WAREHOUSES:
        receiver = staff[people.on_shift(w.code, 9).name]
        for p in data.PRODUCTS:
            if (p.sku, w.code) in stocked or (p.only_in and p.only_in != w.code):
                continue
            share = 1.3 if p.only_in else w.stock_share
            qty = math.ceil((demand[p.sku] * share + 10) / 10) * 10  # whole cartons of ten
            await inventory.move_stock(inventory.MoveStock(
                p.sku, w.code, qty, MovementKind.RECEIPT, "期初库存 opening stock", receiver,
                f"GRN-{w.code}-{batch.clock():%Y%m%d}"), batch.uow())
            tally.receipts += 1


async def _not_yet_placed(batch: Batch, planned: list[PlannedOrder]) -> list[int]:
    """Indexes of the planned orders not in the database yet (keys are placed in order)."""
    if not planned:
        return []
    async with batch.uow() as uow:
        async def exists(o: PlannedOrder) -> bool:
            return await uow.orders.find_existing(o.key, o.draft.channel, None) is not None

        if not await exists(planned[0]):
            todo = list(range(len(planned)))
        elif await exists(planned[-1]):
            todo = []
        else:
            todo = [i for i, o in enumerate(planned) if not await exists(o)]
        await uow.commit()
    return todo


async def _live(batch: Batch, clock: SimulatedClock, staff: dict[str, Actor],
                planned: list[PlannedOrder], todo: list[int], tally: _Tally) -> None:
    """Place the orders and take their steps, all in time order, as they happened."""
    async with batch.uow() as uow:
        codes = {w["id"]: w["code"] for w in await uow.catalogue.list_warehouses()}
        await uow.commit()
    numbers: dict[int, str] = {}
    warehouse: dict[int, str] = {}
    in_batch: set[str] = set()  # orders changed since the last commit
    for n, (at, i, k) in enumerate(_timeline(planned, todo), start=1):
        clock.now = at
        o = planned[i]
        if k < 0:
            try:
                placed = await order_cases.place_order(
                    order_cases.PlaceOrder(o.draft, _account(o.actor, staff), o.key),
                    batch.uow(savepoint=True))
            except InsufficientStock:
                tally.refused += 1
                continue
            numbers[i] = placed.number
            in_batch.add(placed.number)
            async with batch.uow() as uow:
                state = await uow.orders.get_state(placed.number)
                await uow.commit()
            assert state is not None and state.warehouse_id is not None
            warehouse[i] = codes[state.warehouse_id]
            tally.placed += 1
            tally.by_channel[o.draft.channel] += 1
            tally.by_warehouse[warehouse[i]] += 1
        elif i in numbers:
            in_batch.add(numbers[i])
            step = o.steps[k]
            actor = _who(step, staff, warehouse[i])
            if step.action is None:
                assert step.reason is not None
                await order_cases.add_note(order_cases.AddNote(
                    numbers[i], step.reason, actor), batch.uow())
                tally.notes += 1
            else:
                await order_cases.change_status(order_cases.ChangeStatus(
                    numbers[i], step.action, actor, reason=step.reason,
                    payment_reference=step.payment_reference, carrier=step.carrier,
                    tracking_number=step.tracking_number), batch.uow())
                tally.changes += 1
        if n % BATCH_STEPS == 0:
            await _silence(batch, in_batch, at)
            await batch.commit()
    await _silence(batch, in_batch, clock.now)  # the batch commits the rest on the way out


async def _silence(batch: Batch, in_batch: set[str], now: datetime) -> None:
    """Mark the outbox rows of this batch's orders as published, before it commits.

    The demo's events are made-up history: the worker must never tell anyone about them
    (the customers' phone numbers are random mobile numbers). Each change still has its
    event and outbox row; the row is only marked as handled, as if fanned out to nobody.
    """
    numbers = sorted(in_batch)
    in_batch.clear()
    for start in range(0, len(numbers), 500):
        async with batch.uow() as uow:
            ids = [r.id for r in await uow.conn.execute(
                select(outbox.c.id).where(outbox.c.order_number.in_(numbers[start:start + 500]),
                                          outbox.c.published_at.is_(None)))]
            await DeliveryRepo(uow.conn).mark_published(ids, now)
            await uow.commit()


def _timeline(planned: list[PlannedOrder], todo: list[int]) -> list[tuple[datetime, int, int]]:
    """(time, order, step) of every placing (step -1) and step, in the order they happen."""
    moments = []
    for i in todo:
        o = planned[i]
        moments.append((o.placed_at, i, -1))
        moments.extend((s.at, i, k) for k, s in enumerate(o.steps))
    return sorted(moments)


def _who(step: Step, staff: dict[str, Actor], warehouse: str) -> Actor:
    """The actor of a step: a person's user account, or the warehouse's shift on duty."""
    if step.actor is None:
        return staff[people.on_shift(warehouse, step.at.astimezone(CHINA).hour).name]
    return _account(step.actor, staff)


def _account(actor: Actor, staff: dict[str, Actor]) -> Actor:
    return staff[actor.name] if actor.kind is ActorKind.USER else actor


async def _report(uows: UnitOfWorkFactory, tally: _Tally, customers: int, seed: int,
                  seconds: float) -> str:
    async with uows(read_only=True) as uow:
        by_status = {s: await uow.orders.count(ListQuery(status=(s.value,))) for s in Status}
    lines = [
        f"Demo data (seed {seed}): {len(data.PRODUCTS)} products, {len(data.WAREHOUSES)} "
        f"warehouses ({', '.join(f'{w.code} {w.name}' for w in data.WAREHOUSES)}), "
        f"{customers} customers, {len(data.STAFF)} staff.",
        f"This run added {tally.staff} staff, {tally.warehouses} warehouses, "
        f"{tally.products} products, {tally.receipts} stock receipts and {tally.placed} "
        f"orders with {tally.changes} status changes and {tally.notes} notes "
        f"in {seconds:.1f} s.",
    ]
    if tally.placed:
        lines.append("  by channel: " + ", ".join(
            f"{c} {n}" for c, n in tally.by_channel.most_common()) + "; by warehouse: " +
            ", ".join(f"{c} {n}" for c, n in sorted(tally.by_warehouse.items())))
    if tally.cases or tally.complaints:
        lines.append(f"After-sales: {tally.cases} cases and {tally.complaints} complaints.")
    if tally.already:
        lines.append(f"{tally.already} demo orders were already there.")
    if tally.imported:
        lines.append(f"A sheet import placed {tally.imported} orders (/imports).")
    if tally.refused:
        lines.append(f"{tally.refused} orders were refused for lack of stock.")
    lines.append(f"Orders in the database by status ({sum(by_status.values())}):")
    width = max(len(s.value) for s in Status)
    lines += [f"  {s.value:<{width}}  {n:>6}  {LABELS[s]['zh-CN']}"
              for s, n in by_status.items()]
    return "\n".join(lines)
