"""Intake benchmarks (issue 10): a 10,000-row sheet checked and imported, and shop webhooks
absorbed at a steady rate.

    .venv/bin/python bench/intake.py [--rows 10000] [--pg postgresql://postgres@127.0.0.1/postgres]
                                     [--rate 200] [--seconds 10]

1. **Import**, on a fresh SQLite file and (with ``--pg``) a fresh PostgreSQL database, both
   migrated: 200 products with stock in one warehouse, then a CSV of ``--rows`` rows (one line
   per order, UTF-8 with BOM) through ``services.imports``: the check (dry run: parse, group,
   every order validated against the catalogue, the batch and its rows stored) and the import
   (each order through ``receive_channel_order`` -> ``place_order``, its outcome recorded).
   It verifies every order is there once and reserved stock equals the orders' quantities.
2. **Shop webhooks**: ``dingdan serve`` (one process, uvicorn) over the SQLite file; Shopify
   ``orders/create`` deliveries, each a new order, signed, sent open-loop at ``--rate`` per
   second for ``--seconds`` (a new request every 1/rate s whatever the answers do, so a slow
   server shows as latency, not as a lower rate); latency from send to answer, p50/p99.

Results print as a table; copy them to bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from dingdan.domain.inventory import MovementKind  # noqa: E402
from dingdan.services import catalogue, imports, inventory  # noqa: E402
from dingdan.services.users import OPERATOR  # noqa: E402
from dingdan.store.engine import make_engine  # noqa: E402
from dingdan.store.migrate import upgrade  # noqa: E402
from dingdan.store.tables import orders, stock  # noqa: E402
from dingdan.store.uow import UnitOfWorkFactory  # noqa: E402
from shop_payloads import body_of, shopify_order, sign  # noqa: E402

PRODUCTS = 200
TZ = ZoneInfo("Asia/Shanghai")


async def seed(uows: UnitOfWorkFactory, stock_each: int) -> list[str]:
    await catalogue.create_warehouse(catalogue.WarehouseFields("SH", "上海仓", "上海"),
                                     uows(), actor=OPERATOR)
    skus = [f"B-{i:04d}" for i in range(PRODUCTS)]
    for sku in skus:
        await catalogue.create_product(catalogue.ProductFields(sku, f"商品 {sku}", 1000),
                                       uows(), actor=OPERATOR)
        await inventory.move_stock(inventory.MoveStock(
            sku, "SH", stock_each, MovementKind.RECEIPT, "bench", OPERATOR), uows())
    return skus


def sheet(rows: int, skus: list[str]) -> bytes:
    lines = ["订单号,收货人,手机,省,市,区,详细地址,SKU,数量,单价"]
    lines += [f"B{i:06d},张三,1380013{i % 10000:04d},广东省,深圳市,南山区,科技园路{i}号,"
              f"{skus[i % len(skus)]},1,10.00" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


async def bench_import(url: str, rows: int) -> dict[str, Any]:
    await asyncio.to_thread(upgrade, url)
    engine = make_engine(url, pool_size=5, max_overflow=5)
    try:
        uows = UnitOfWorkFactory(engine)
        skus = await seed(uows, rows)
        content = sheet(rows, skus)
        t0 = time.perf_counter()
        batch = await imports.check_import(imports.CheckImport(
            "bench", "bench.csv", content, OPERATOR, TZ), uows())
        checked = time.perf_counter() - t0
        assert batch["bad_rows"] == 0 and batch["order_count"] == rows, batch
        t0 = time.perf_counter()
        await imports.start_import(batch["id"], uows(), actor=OPERATOR)
        done = await imports.continue_import(batch["id"], uows, actor=OPERATOR, tz=TZ)
        imported = time.perf_counter() - t0
        async with uows(read_only=True) as uow:
            placed = (await uow.conn.execute(select(func.count()).select_from(orders).where(
                orders.c.channel == "bench"))).scalar_one()
            reserved = (await uow.conn.execute(select(func.sum(stock.c.reserved)))).scalar_one()
        assert (done["created"], placed, reserved) == (rows, rows, rows), (done, placed,
                                                                            reserved)
        return {"rows": rows, "bytes": len(content), "check_s": round(checked, 1),
                "import_s": round(imported, 1),
                "orders_per_s": round(rows / imported, 1)}
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bench_webhooks(url: str, rate: int, seconds: int) -> dict[str, Any]:
    secret = "shpss_bench_" + "0" * 24
    engine = make_engine(url)
    try:
        uows = UnitOfWorkFactory(engine)
        from dingdan.services import shops

        await shops.connect_shop(shops.ConnectShop("shopify-bench", "shopify", "bench", secret,
                                                   OPERATOR), uows())
    finally:
        await engine.dispose()
    port = _free_port()
    env = {**os.environ, "DINGDAN_DATABASE_URL": url, "DINGDAN_ENV": "test",
           "DINGDAN_LOG_LEVEL": "WARNING", "DINGDAN_WORKER_IN_PROCESS": "false"}
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "dingdan.web.main:app", "--factory", "--port",
        str(port), "--no-access-log", "--log-level", "warning", cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10,
                                     limits=httpx.Limits(max_connections=64)) as client:
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the server did not start within 60 s")
            bodies = []
            for i in range(rate * seconds):
                body = body_of(shopify_order(10**12 + i, f"B-{i % PRODUCTS:04d}"))
                bodies.append((body, {"X-Shopify-Topic": "orders/create",
                                      "X-Shopify-Hmac-Sha256": sign(secret, body),
                                      "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                                      "Content-Type": "application/json"}))
            latencies: list[float] = []
            codes: dict[int, int] = {}

            async def send(body: bytes, headers: dict[str, str]) -> None:
                t = time.perf_counter()
                r = await client.post("/intake/shopify/shopify-bench", content=body,
                                      headers=headers)
                latencies.append(time.perf_counter() - t)
                codes[r.status_code] = codes.get(r.status_code, 0) + 1

            tasks = []
            start = time.perf_counter()
            for n, (body, headers) in enumerate(bodies):
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
                tasks.append(asyncio.create_task(send(body, headers)))
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)
    latencies.sort()
    return {"sent": len(bodies), "rate_per_s": round(len(bodies) / elapsed, 1),
            "codes": codes, "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 1),
            "max_ms": round(1000 * latencies[-1], 1)}


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--pg", default=None)
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--seconds", type=int, default=10)
    a = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dingdan-intake-bench-"))
    sqlite_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    if a.rows:
        print("import, SQLite:", await bench_import(sqlite_url, a.rows), flush=True)
    else:  # webhooks only: the catalogue they order from
        await asyncio.to_thread(upgrade, sqlite_url)
        engine = make_engine(sqlite_url)
        try:
            await seed(UnitOfWorkFactory(engine), 10_000)
        finally:
            await engine.dispose()
    if a.pg and a.rows:
        import psycopg
        from sqlalchemy.engine import make_url

        base = make_url(a.pg)
        name = f"dingdan_intake_bench_{uuid.uuid4().hex[:6]}"
        admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            pg = base.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False)
            print("import, PostgreSQL:", await bench_import(pg, a.rows), flush=True)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("webhooks, SQLite, one server process:",
          await bench_webhooks(sqlite_url, a.rate, a.seconds), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
