"""Tracking callbacks under load (issue 12): Kuaidi100 pushes at a steady rate against
``dingdan serve`` on SQLite, each the first scan of a different shipped order — the costly
case: the scan, the order's move to in transit, its timeline event, its outbox row (the
customer's notification) and its audit rows in one transaction.

    .venv/bin/python bench/tracking_callbacks.py [--rate 200] [--seconds 5]

Open loop: a push is sent every 1/rate s whatever the answers do, so a slow server shows as
latency, not as a lower rate. Reports p50/p99/max latency, non-200 answers, and checks that
every pushed order is in transit with its ``order.in_transit`` outbox row (what the worker
turns into the customer's message).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).parent))

from run import RESULTS, serving

from dingdan.domain.events import SYSTEM
from dingdan.domain.inventory import MovementKind
from dingdan.domain.lifecycle import Action
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft
from dingdan.services import catalogue, inventory, orders
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.tables import orders as orders_table
from dingdan.store.tables import outbox
from dingdan.store.uow import UnitOfWorkFactory

SALT = "bench-salt"
STEPS = (Action.PAY, Action.SUBMIT_REVIEW, Action.APPROVE, Action.ALLOCATE, Action.PICK,
         Action.PACK)


async def seed(url: str, count: int) -> list[str]:
    """``count`` shipped orders, tracking numbers BENCH000001…; their order numbers."""
    engine = make_engine(url)
    uows = UnitOfWorkFactory(engine)
    try:
        await catalogue.create_warehouse(catalogue.WarehouseFields("GZ", "广州仓", "广东"),
                                         uows(), actor=SYSTEM)
        await catalogue.create_product(catalogue.ProductFields("CUP", "保温杯", 9900), uows(),
                                       actor=SYSTEM)
        await inventory.move_stock(inventory.MoveStock(
            "CUP", "GZ", count + 10, MovementKind.RECEIPT, "bench", SYSTEM), uows())
        numbers = []
        for i in range(count):
            placed = await orders.place_order(orders.PlaceOrder(OrderDraft(
                "api", Customer("张伟", "13800138000"),
                Address("张伟", "13800138000", "上海市", "上海市", "浦东新区", "世纪大道 100 号"),
                (LineDraft("CUP", 1),), payment_method="alipay"), SYSTEM), uows())
            for action in STEPS:
                await orders.change_status(orders.ChangeStatus(
                    placed.number, action, SYSTEM, payment_reference="P-1"), uows())
            await orders.change_status(orders.ChangeStatus(
                placed.number, Action.SHIP, SYSTEM, carrier="SF",
                tracking_number=f"BENCH{i:06d}"), uows())
            numbers.append(placed.number)
        return numbers
    finally:
        await engine.dispose()


def push_form(i: int) -> dict[str, str]:
    param = json.dumps({"status": "polling", "lastResult": {
        "nu": f"BENCH{i:06d}", "com": "shunfeng", "state": "1", "data": [
            {"context": "顺丰速运 已收取快件", "time": "2026-11-11 18:00:00",
             "ftime": "2026-11-11 18:00:00", "statusCode": "103", "areaName": "广州市"}]}},
        ensure_ascii=False)
    return {"param": param, "sign": hashlib.md5((param + SALT).encode()).hexdigest().upper()}


async def drive(port: int, count: int, rate: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    failed = 0

    async def one(client: httpx.AsyncClient, i: int) -> None:
        nonlocal failed
        start = time.perf_counter()
        r = await client.post("/api/v1/carrier-callbacks/kuaidi100", data=push_form(i))
        latencies.append((time.perf_counter() - start) * 1000)
        failed += r.status_code != 200

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 timeout=httpx.Timeout(60, pool=None)) as client:
        began = time.perf_counter()
        tasks = []
        for i in range(count):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, i)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return latencies, failed, elapsed


async def verify(url: str, numbers: list[str]) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            moved = (await conn.execute(select(func.count()).select_from(orders_table).where(
                orders_table.c.number.in_(numbers), orders_table.c.status == "in_transit"))
            ).scalar_one()
            queued = (await conn.execute(select(func.count()).select_from(outbox).where(
                outbox.c.type == "order.in_transit"))).scalar_one()
        return int(moved), int(queued)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    db = RESULTS / "callbacks.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url)
    started = time.perf_counter()
    numbers = asyncio.run(seed(url, count))
    print(f"seeded {count} shipped orders in {time.perf_counter() - started:.0f} s")
    with serving(url, 1, {"DINGDAN_KUAIDI100_SALT": SALT, "DINGDAN_LOG_LEVEL": "WARNING",
                          "DINGDAN_RUN_WORKER_IN_PROCESS": "false"},
                 name="server-callbacks") as server:
        latencies, failed, elapsed = asyncio.run(drive(server.port, count, args.rate))
    moved, queued = asyncio.run(verify(url, numbers))
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{count} pushes at {args.rate:.0f}/s offered, {count / elapsed:.0f}/s sent; "
          f"latency p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, "
          f"max {ordered[-1]:.1f} ms; non-200: {failed}")
    print(f"orders moved to in transit: {moved}/{count}; order.in_transit outbox rows: "
          f"{queued}")


if __name__ == "__main__":
    main()
