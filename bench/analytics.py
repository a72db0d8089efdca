"""The analytics dashboard at scale: how long its reads take over a big order book, and how
fast the read model is built from the event timeline.

    .venv/bin/python bench/analytics.py --orders 1000000 \
        --url postgresql://postgres@127.0.0.1/dingdan_bench_analytics
    .venv/bin/python bench/analytics.py --url sqlite:///bench/results/analytics.db --orders 100000

It drops and re-creates the database, migrates it (``dingdan.store.migrate.upgrade``) and loads
in bulk SQL (``INSERT … SELECT`` over a number series): 3 warehouses, 200 products, ``--orders``
orders over the last 365 days across 31 provinces, 4 channels and 3 carriers, one line each,
and each order's timeline — placed, paid, submitted for review, approved, allocated, picking,
packed, shipped, delivered, completed — cut off where the order is now (one in twenty
cancelled while pending payment, a share still open at each status). Then it builds the read
model with Dingdan's own code (``services.analytics_model.rebuild``, timed) and times, with
the service functions the page and the API call, each read of the dashboard over the last 30
days and over the whole year: summary, trend, the four breakdowns, stages, a Gantt of 500
orders, and a forecast — best of ``--repeat`` runs, with the read model warm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

from dingdan.domain.events import SYSTEM
from dingdan.services import analytics, analytics_model
from dingdan.settings import Settings
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.uow import UnitOfWorkFactory

TZ = ZoneInfo("Asia/Shanghai")
PROVINCES = ("广东省", "浙江省", "江苏省", "上海市", "北京市", "山东省", "四川省", "福建省",
             "湖北省", "河南省", "湖南省", "安徽省", "重庆市", "天津市", "陕西省", "河北省",
             "辽宁省", "江西省", "云南省", "广西壮族自治区", "贵州省", "黑龙江省", "吉林省",
             "山西省", "海南省", "新疆维吾尔自治区", "内蒙古自治区", "甘肃省", "宁夏回族自治区",
             "青海省", "西藏自治区")
# The happy path, with the hours after placing at which each status is entered.
PATH = (("pending_payment", 0), ("paid", 0.2), ("pending_review", 0.2), ("approved", 1.5),
        ("allocated", 1.6), ("picking", 5), ("packed", 7), ("shipped", 20),
        ("delivered", 70), ("completed", 240))


def _pg(n: int) -> list[tuple[str, str]]:
    provinces = "ARRAY[" + ",".join(f"'{p}'" for p in PROVINCES) + "]"
    steps = ", ".join(f"({i}, '{s}', {h})" for i, (s, h) in enumerate(PATH))
    # depth: how far along the path the order got (index of its last status); one in twenty
    # is cancelled while pending payment (depth -1). Older orders are further along.
    return [
        ("warehouses", """
INSERT INTO warehouses (code, name, region, city, address, priority, active, version,
                        created_at, updated_at)
VALUES ('SH', '上海仓', '上海', '上海', '上海 1 号', 30, true, 1, now(), now()),
       ('GZ', '广州仓', '广东', '广州', '广州 1 号', 20, true, 1, now(), now()),
       ('CD', '成都仓', '四川', '成都', '成都 1 号', 10, true, 1, now(), now())"""),
        ("products", """
INSERT INTO products (sku, name, price, currency, active, version, created_at, updated_at)
SELECT 'SKU-' || lpad(g::text, 3, '0'), '商品 ' || g, 1000 + g, 'CNY', true, 1, now(), now()
FROM generate_series(1, 200) g"""),
        ("bench_orders", f"""
CREATE UNLOGGED TABLE bench_orders AS
SELECT g, now() - interval '365 days' + (g::float8 / {n}) * interval '365 days'
              - interval '1 hour' AS placed_at,
       CASE WHEN g % 20 = 0 THEN -1
            WHEN g > {n} - {n} / 40 THEN (g % 9)
            ELSE 9 END AS depth
FROM generate_series(1, {n}) g"""),
        ("orders", f"""
INSERT INTO orders (id, number, channel, external_id, status, payment_status,
                    fulfillment_status, customer_name, ship_recipient, ship_phone, ship_country,
                    ship_province, ship_city, ship_district, ship_street, warehouse_id, currency,
                    subtotal, shipping_fee, discount, tax, total, payment_method, carrier,
                    placed_at, ship_by, deliver_by, tags, custom_fields, version, created_at,
                    updated_at)
SELECT b.g, 'DD' || lpad(b.g::text, 9, '0'),
       (ARRAY['taobao','jd','pdd','api'])[1 + b.g % 4], 'EXT' || b.g,
       CASE WHEN b.depth = -1 THEN 'cancelled'
            ELSE (ARRAY[{", ".join(f"'{s}'" for s, _ in PATH)}])[b.depth + 1] END,
       CASE WHEN b.depth >= 1 THEN 'paid' ELSE 'unpaid' END,
       CASE WHEN b.depth >= 8 THEN 'delivered' WHEN b.depth = 7 THEN 'shipped'
            ELSE 'unfulfilled' END,
       '客户', '客户', '13800138000', 'CN', ({provinces})[1 + (b.g * 7) % 31], '某市', '某区',
       '某路 1 号', 1 + b.g % 3, 'CNY', 5000 + b.g % 5000, 0, 0, 0, 5000 + b.g % 5000,
       'alipay', CASE WHEN b.depth >= 7 THEN (ARRAY['SF','ZTO','YTO'])[1 + b.g % 3] END,
       b.placed_at, b.placed_at + interval '1 day', b.placed_at + interval '4 days',
       '[]'::jsonb, '{{}}'::jsonb, 1, b.placed_at, b.placed_at
FROM bench_orders b"""),
        ("order_lines", """
INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price, warehouse_id)
SELECT b.g, 1, 'SKU-' || lpad((1 + (b.g * 13) % 200)::text, 3, '0'), '商品', 1 + b.g % 3,
       1000, 1 + b.g % 3
FROM bench_orders b"""),
        ("order_events", f"""
INSERT INTO order_events (event_id, order_id, type, from_status, to_status, actor, source,
                          data, created_at)
SELECT gen_random_uuid()::text, b.g, 'order.' || s.status, NULL, s.status, 'bench', 'bench',
       '{{}}'::jsonb,
       b.placed_at + (s.hours + (b.g % 7) * 0.3 * s.hours / 10) * interval '1 hour'
FROM bench_orders b
JOIN (VALUES {steps}) AS s(i, status, hours)
  ON s.i <= GREATEST(b.depth, 0)
ORDER BY b.g, s.i"""),
        ("cancel_events", """
INSERT INTO order_events (event_id, order_id, type, from_status, to_status, actor, source,
                          data, created_at)
SELECT gen_random_uuid()::text, b.g, 'order.cancelled', 'pending_payment', 'cancelled',
       'bench', 'bench', '{}'::jsonb, b.placed_at + interval '20 minutes'
FROM bench_orders b WHERE b.depth = -1"""),
        ("sequences", """
SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))"""),
        ("drop bench_orders", "DROP TABLE bench_orders"),
    ]


def populate_pg(url: str, n: int) -> dict[str, float]:
    u = make_url(url)
    admin = u.set(database="postgres").render_as_string(hide_password=False)
    admin = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')
    upgrade(url)
    times: dict[str, float] = {}
    plain = u.render_as_string(hide_password=False).replace("postgresql+psycopg://",
                                                            "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        for name, sql in _pg(n):
            t = time.perf_counter()
            conn.execute(sql)
            times[name] = round(time.perf_counter() - t, 1)
            print(f"  {name}: {times[name]} s", flush=True)
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        times["vacuum analyze"] = round(time.perf_counter() - t, 1)
    return times


def populate_sqlite(url: str, n: int) -> dict[str, float]:
    """The same rows on SQLite: generated in Python, inserted in one transaction."""
    import random
    import uuid
    from datetime import UTC, datetime

    path = Path(make_url(url).database or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    upgrade(url)
    rng = random.Random(1)
    t0 = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None)
    db = sqlite3.connect(path)
    db.execute("INSERT INTO warehouses (code, name, region, priority, active, version, "
               "created_at, updated_at) VALUES ('SH','上海仓','上海',30,1,1,?,?),"
               "('GZ','广州仓','广东',20,1,1,?,?),('CD','成都仓','四川',10,1,1,?,?)",
               [now] * 6)
    db.executemany("INSERT INTO products (sku, name, price, currency, active, version, "
                   "created_at, updated_at) VALUES (?, '商品', 1000, 'CNY', 1, 1, ?, ?)",
                   [(f"SKU-{g:03d}", now, now) for g in range(1, 201)])
    statuses = [s for s, _ in PATH]
    orders, lines, events = [], [], []
    for g in range(1, n + 1):
        placed = now - timedelta(days=365) + timedelta(days=365 * g / n) - timedelta(hours=1)
        depth = -1 if g % 20 == 0 else (g % 9 if g > n - n // 40 else 9)
        status = "cancelled" if depth == -1 else statuses[depth]
        orders.append((g, f"DD{g:09d}", ("taobao", "jd", "pdd", "api")[g % 4], f"EXT{g}",
                       status, "paid" if depth >= 1 else "unpaid", "unfulfilled", "客户", "客户",
                       "13800138000", "CN", PROVINCES[(g * 7) % 31], "某市", "某区", "某路",
                       1 + g % 3, "CNY", 5000 + g % 5000, 0, 0, 0, 5000 + g % 5000, "alipay",
                       ("SF", "ZTO", "YTO")[g % 3] if depth >= 7 else None, placed,
                       placed + timedelta(days=1), placed + timedelta(days=4), "[]", "{}", 1,
                       placed, placed))
        lines.append((g, 1, f"SKU-{1 + (g * 13) % 200:03d}", "商品", 1 + g % 3, 1000, 1 + g % 3))
        for s, h in PATH[:max(depth, 0) + 1]:
            events.append((str(uuid.UUID(int=rng.getrandbits(128))), g, f"order.{s}", s,
                           placed + timedelta(hours=h + (g % 7) * 0.3 * h / 10)))
        if depth == -1:
            events.append((str(uuid.UUID(int=rng.getrandbits(128))), g, "order.cancelled",
                           "cancelled", placed + timedelta(minutes=20)))
    db.executemany(f"INSERT INTO orders (id, number, channel, external_id, status, "
                   f"payment_status, fulfillment_status, customer_name, ship_recipient, "
                   f"ship_phone, ship_country, ship_province, ship_city, ship_district, "
                   f"ship_street, warehouse_id, currency, subtotal, shipping_fee, discount, "
                   f"tax, total, payment_method, carrier, placed_at, ship_by, deliver_by, "
                   f"tags, custom_fields, version, created_at, updated_at) VALUES "
                   f"({', '.join('?' * 32)})", orders)
    db.executemany("INSERT INTO order_lines (order_id, line_no, sku, name, quantity, "
                   "unit_price, warehouse_id) VALUES (?, ?, ?, ?, ?, ?, ?)", lines)
    db.executemany("INSERT INTO order_events (event_id, order_id, type, to_status, actor, "
                   "source, data, created_at) VALUES (?, ?, ?, ?, 'bench', 'bench', '{}', ?)",
                   events)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {"populate": round(time.perf_counter() - t0, 1)}


async def measure(url: str, repeat: int, rebuild: bool = True) -> dict[str, object]:
    engine = make_engine(url, pool_size=10, max_overflow=2)
    uows = UnitOfWorkFactory(engine)
    out: dict[str, object] = {}
    try:
        if rebuild:
            t = time.perf_counter()
            report = await analytics_model.rebuild(uows, TZ)
            took = time.perf_counter() - t
            out["rebuild"] = {"orders": report.orders, "seconds": round(took, 1),
                              "orders_per_s": round(report.orders / took)}
            print(f"  rebuild: {out['rebuild']}", flush=True)
        today = uows.clock().astimezone(TZ).date()
        ranges = {"30 days": analytics.Range(today - timedelta(days=29), today),
                  "365 days": analytics.Range(today - timedelta(days=364), today)}
        reads: dict[str, dict[str, float]] = {}
        for label, q in ranges.items():
            calls = {
                "summary": lambda q=q: analytics.summary(q, uows(True), actor=SYSTEM, tz=TZ),
                "trend": lambda q=q: analytics.trend(q, uows(True), actor=SYSTEM, tz=TZ),
                **{f"breakdown {d}": (lambda q=q, d=d: analytics.breakdown(
                    q, d, uows(True), actor=SYSTEM, tz=TZ)) for d in analytics.DIMENSIONS},
                "stages": lambda q=q: analytics.stages(q, uows(True), actor=SYSTEM, tz=TZ),
                "gantt 500": lambda q=q: analytics.gantt(q, uows(True), actor=SYSTEM, tz=TZ,
                                                         limit=500, open_only=False),
            }
            timing: dict[str, float] = {}
            for name, call in calls.items():
                runs = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    await call()
                    runs.append(time.perf_counter() - t)
                timing[name] = round(min(runs) * 1000, 1)
            # What the dashboard page asks for, one after the other (its own total) …
            timing["whole dashboard (sum)"] = round(sum(
                v for k, v in timing.items() if k != "gantt 500"), 1)
            # … and side by side, as the page does (asyncio.gather, a connection each).
            runs = []
            for _ in range(repeat):
                t = time.perf_counter()
                await asyncio.gather(*(call() for name, call in calls.items()
                                       if name != "gantt 500"),
                                     analytics.gantt(q, uows(True), actor=SYSTEM, tz=TZ,
                                                     limit=40))
                runs.append(time.perf_counter() - t)
            timing["whole dashboard (as the page: concurrent)"] = round(min(runs) * 1000, 1)
            reads[label] = timing
            print(f"  {label}: {timing}", flush=True)
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            await analytics.forecast("SKU-001", uows(True), actor=SYSTEM, tz=TZ)
            runs.append(time.perf_counter() - t)
        reads["forecast one SKU (ms)"] = {"best": round(min(runs) * 1000, 1),
                                          "median": round(statistics.median(runs) * 1000, 1)}
        out["reads_ms"] = reads
        t = time.perf_counter()
        again = await analytics_model.refresh(uows, TZ)
        out["refresh with nothing new (ms)"] = round((time.perf_counter() - t) * 1000, 1)
        assert again.orders == 0
    finally:
        await engine.dispose()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--out", default="bench/results/analytics-latest.json")
    p.add_argument("--reads-only", action="store_true",
                   help="keep the database and its read model from the last run; time reads")
    a = p.parse_args()
    url = Settings(database_url=a.url).database_url  # picks the async driver
    load: dict[str, float] = {}
    if not a.reads_only:
        print(f"populating {a.orders:,} orders", flush=True)
        load = populate_pg(url, a.orders) if url.startswith("postgresql") else (
            populate_sqlite(url, a.orders))
    print("measuring", flush=True)
    result = {"url": make_url(url).render_as_string(hide_password=True), "orders": a.orders,
              "populate_s": load,
              **asyncio.run(measure(url, a.repeat, rebuild=not a.reads_only))}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
