"""The after-sales and complaint queues with 100,000 open cases each: p50/p95 of the queue
reads, through the use cases (``services.aftersales.list_cases``,
``services.complaints.list_complaints``) as the back office and the API call them.

    .venv/bin/python bench/aftersales_queue.py                       # SQLite, a fresh file
    .venv/bin/python bench/aftersales_queue.py --url postgresql://postgres@127.0.0.1/dingdan_as

The database is made fresh at the head migration; 100,000 delivered orders, one open case
(one line) and one open complaint each, over the last 30 days, are loaded in bulk SQL; then
each read runs ``--runs`` times (after 10 warm-up runs) and its latencies are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from dingdan.domain.events import SYSTEM
from dingdan.services import aftersales, complaints
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.tables import order_lines, orders, products, warehouses
from dingdan.store.tables_aftersales import aftersales_case_lines, aftersales_cases
from dingdan.store.tables_aftersales import complaints as complaints_table
from dingdan.store.uow import UnitOfWorkFactory

N = 100_000
CHUNK = 5_000
OPEN_CASE = ("requested", "approved", "awaiting_return", "received", "inspected")
OPEN_COMPLAINT = ("open", "in_progress")


def fresh(url: str) -> str:
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        admin = u.set(database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{u.database}"')
        return url if "+psycopg" in url else url.replace("postgresql://",
                                                         "postgresql+psycopg://", 1)
    return url


async def populate(uows: UnitOfWorkFactory, now: datetime) -> None:
    async with uows() as uow:
        c = uow.conn
        await c.execute(insert(warehouses).values(code="SH", name="上海仓", region="上海",
                                                  priority=1, active=True, version=1,
                                                  created_at=now, updated_at=now))
        await c.execute(insert(products).values(sku="SKU-1", name="保温杯", price=5900,
                                                currency="CNY", active=True, version=1,
                                                created_at=now, updated_at=now))
        await uow.commit()
    for start in range(0, N, CHUNK):
        rows = range(start + 1, min(N, start + CHUNK) + 1)
        at = {i: now - timedelta(seconds=i * 25) for i in rows}  # 100,000 over ~30 days
        async with uows() as uow:
            c = uow.conn
            await c.execute(insert(orders), [dict(
                id=i, number=f"DD{i:012d}", channel="web", status="delivered",
                payment_status="paid", fulfillment_status="delivered",
                customer_name="张伟", customer_phone=f"+86139{i:08d}",
                ship_recipient="张伟", ship_phone="+8613900000000", ship_country="CN",
                ship_province="上海市", ship_city="上海市", ship_district="浦东新区",
                ship_street="世纪大道 100 号", warehouse_id=1, currency="CNY", subtotal=5900,
                shipping_fee=0, discount=0, tax=0, total=5900, payment_method="alipay",
                placed_at=at[i], delivered_at=at[i], tags=[], custom_fields={}, version=1,
                created_at=at[i], updated_at=at[i]) for i in rows])
            await c.execute(insert(order_lines), [dict(
                order_id=i, line_no=1, sku="SKU-1", name="保温杯", quantity=1,
                unit_price=5900, warehouse_id=1) for i in rows])
            await c.execute(insert(aftersales_cases), [dict(
                id=i, number=f"AS{i:012d}", order_id=i, order_number=f"DD{i:012d}",
                warehouse_id=1, type="return_refund", status=OPEN_CASE[i % len(OPEN_CASE)],
                reason="defective", opened_by="customer", include_shipping=False,
                refund_amount=5900, currency="CNY", version=1, created_at=at[i],
                updated_at=at[i]) for i in rows])
            await c.execute(insert(aftersales_case_lines), [dict(
                case_id=i, line_no=1, sku="SKU-1", quantity=1, unit_price=5900)
                for i in rows])
            await c.execute(insert(complaints_table), [dict(
                id=i, number=f"CP{i:012d}", order_id=i, order_number=f"DD{i:012d}",
                warehouse_id=1, line_nos=[], category="late_delivery", channel="phone",
                status=OPEN_COMPLAINT[i % 2], summary="太慢", owner_role="customer_service",
                breaches=["first_response"] if i % 10 == 0 else [], repeat=False, version=1,
                first_response_due=at[i] + timedelta(hours=2),
                resolution_due=at[i] + timedelta(hours=16),
                escalated_at=at[i] if i % 10 == 0 else None,
                created_at=at[i], updated_at=at[i]) for i in rows])
            await uow.commit()
    async with uows() as uow:
        if uow.dialect == "postgresql":
            await uow.commit()
        else:
            await uow.conn.exec_driver_sql("ANALYZE")
            await uow.commit()


async def measure(uows: UnitOfWorkFactory, runs: int) -> dict[str, list[float]]:
    async def first_page_cases() -> object:
        return await aftersales.list_cases(aftersales.CaseQuery(OPEN_CASE), uows(True),
                                           actor=SYSTEM)

    async def received_cases() -> object:
        return await aftersales.list_cases(aftersales.CaseQuery(("received",)), uows(True),
                                           actor=SYSTEM)

    _, cursor = await aftersales.list_cases(aftersales.CaseQuery(OPEN_CASE), uows(True),
                                            actor=SYSTEM)

    async def second_page_cases() -> object:
        return await aftersales.list_cases(aftersales.CaseQuery(OPEN_CASE, cursor=cursor),
                                           uows(True), actor=SYSTEM)

    async def open_complaints() -> object:
        return await complaints.list_complaints(complaints.ComplaintQuery(
            complaints.OPEN_STATUSES), uows(True), actor=SYSTEM)

    async def escalated_complaints() -> object:
        return await complaints.list_complaints(complaints.ComplaintQuery(
            complaints.OPEN_STATUSES, escalated=True), uows(True), actor=SYSTEM)

    reads = {"cases: open, first page": first_page_cases,
             "cases: one status": received_cases,
             "cases: open, second page": second_page_cases,
             "complaints: open": open_complaints,
             "complaints: escalated": escalated_complaints}
    out: dict[str, list[float]] = {}
    for name, read in reads.items():
        for _ in range(10):
            await read()
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            await read()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = times
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    url = args.url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'as.db'}"
    url = fresh(url)
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
    engine = make_engine(url)
    now = datetime.now(UTC)
    uows = UnitOfWorkFactory(engine, lambda: now)
    t = time.perf_counter()
    await populate(uows, now)
    print(f"{engine.dialect.name}: loaded {N:,} orders, open cases and open complaints "
          f"in {time.perf_counter() - t:.0f} s")
    for name, times in (await measure(uows, args.runs)).items():
        q = statistics.quantiles(times, n=100)
        print(f"  {name:<28} p50 {q[49]:6.1f} ms   p95 {q[94]:6.1f} ms   max {max(times):6.1f} ms")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
