"""Back-office page benchmark: 1,000,000 orders on PostgreSQL, then the server time of the
order list with common filters (target p95 <= 100 ms) and of an order page (<= 50 ms).

    .venv/bin/python bench/pages/run.py populate --url postgresql://postgres@127.0.0.1/dingdan_pages
    .venv/bin/python bench/pages/run.py measure --url postgresql://postgres@127.0.0.1/dingdan_pages

``populate`` drops and re-creates the database, migrates it to head, loads in bulk SQL
(``INSERT ... SELECT`` over ``generate_series``) 10,000 products, 3 warehouses, 1,000,000
orders over ~6 months (one every 15 s) — those older than ten days completed or cancelled,
the last ten days spread over the whole lifecycle — 2 lines each, one timeline event each
and a ``vip`` tag on 2 %, then ``VACUUM ANALYZE``.

``measure`` builds the real app (``create_app``) in this process and sends each page request
through the ASGI interface (httpx's ASGITransport): what is timed is the server's whole work —
routing, the session/token check, the queries, the template — with no network in between.
Each case is warmed up, then timed ``--repeat`` times with a different value each time where
the filter takes one (phones, numbers, SKUs, names drawn from the data).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

ORDERS = 1_000_000
SKUS = 10_000
RECENT = 10 * 5760  # ten days of orders at one every 15 seconds
# 20 slots: the share of each status among orders (older orders are mostly completed).
STATUS_MIX = ("completed",) * 9 + ("delivered", "in_transit", "shipped", "packed", "picking",
                                    "allocated", "approved", "pending_review", "paid",
                                    "pending_payment", "cancelled")
CHANNELS = ("tmall", "jd", "pdd", "douyin", "wechat", "api")
PROVINCES = ("上海市", "广东省", "浙江省", "江苏省", "北京市", "四川省", "湖北省", "山东省",
             "福建省", "河南省")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平")


def _arr(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]"


def statements() -> list[tuple[str, str]]:
    # The last RECENT orders are spread over the whole lifecycle; older ones are closed.
    status = (f"CASE WHEN g > {RECENT} THEN (CASE WHEN g % 20 = 0 THEN 'cancelled' "
              f"ELSE 'completed' END) "
              f"ELSE ({_arr(STATUS_MIX)})[1 + (g * 7) % {len(STATUS_MIX)}] END")
    placed = "now() - (g * interval '15 seconds')"  # ~174 days back from now
    name = (f"substr('{SURNAMES}', (1 + g % {len(SURNAMES)})::int, 1) || "
            f"({_arr(GIVEN)})[1 + (g / 20) % {len(GIVEN)}]")
    phone = "'+86139' || lpad(((g * 7919) % 100000000)::text, 8, '0')"
    return [
        ("products", f"""
INSERT INTO products (sku, name, price, currency, active, version, created_at, updated_at)
SELECT 'SKU-' || lpad(g::text, 5, '0'), '商品 ' || g, 1000 + (g * 37) % 50000, 'CNY', true, 1,
       now(), now()
FROM generate_series(1, {SKUS}) g"""),
        ("warehouses", """
INSERT INTO warehouses (code, name, region, city, priority, active, version, created_at,
                        updated_at)
VALUES ('SH', '上海仓', '上海', '上海', 30, true, 1, now(), now()),
       ('GZ', '广州仓', '广东', '广州', 20, true, 1, now(), now()),
       ('CD', '成都仓', '四川', '成都', 10, true, 1, now(), now())"""),
        ("orders", f"""
INSERT INTO orders (id, number, channel, external_id, status, payment_status,
                    fulfillment_status, held_from, customer_name, customer_phone,
                    customer_email, ship_recipient, ship_phone, ship_country, ship_province,
                    ship_city, ship_district, ship_street, ship_postcode, warehouse_id,
                    currency, subtotal, shipping_fee, discount, tax, total, payment_method,
                    promo_code, placed_at, ship_by, deliver_by, tags, custom_fields, version,
                    created_at, updated_at)
SELECT g, 'DD' || to_char({placed}, 'YYMMDD') || lpad(g::text, 7, '0'),
       ({_arr(CHANNELS)})[1 + g % {len(CHANNELS)}], 'EXT-' || g, s.status,
       CASE WHEN s.status IN ('pending_payment', 'cancelled') THEN 'unpaid' ELSE 'paid' END,
       CASE WHEN s.status IN ('completed', 'delivered') THEN 'delivered'
            WHEN s.status IN ('shipped', 'in_transit') THEN 'shipped' ELSE 'unfulfilled' END,
       NULL, {name}, {phone}, 'c' || g || '@example.com', {name}, {phone}, 'CN',
       ({_arr(PROVINCES)})[1 + (g / 3) % {len(PROVINCES)}], '某市', '某区',
       '某路 ' || (g % 999) || ' 号', '200000', 1 + g % 3, 'CNY',
       2000 + (g * 13) % 30000, 800, 0, 0, 2800 + (g * 13) % 30000,
       CASE WHEN g % 10 = 0 THEN 'cod' ELSE 'alipay' END,
       CASE WHEN g % 17 = 0 THEN 'DOUBLE11' END,
       {placed}, {placed} + interval '1 day', {placed} + interval '3 days',
       CASE WHEN g % 50 = 0 THEN '["vip"]'::jsonb ELSE '[]'::jsonb END, '{{}}'::jsonb, 3,
       {placed}, {placed} + interval '1 hour'
FROM generate_series(1::bigint, {ORDERS}) g
CROSS JOIN LATERAL (SELECT {status} AS status) s"""),
        ("order_lines", f"""
INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price, warehouse_id)
SELECT o.g, l.g, 'SKU-' || lpad((1 + (o.g * 31 + l.g * 997) % {SKUS})::text, 5, '0'),
       '商品', 1 + (o.g + l.g) % 3, 1000, 1 + o.g % 3
FROM generate_series(1::bigint, {ORDERS}) o(g) CROSS JOIN generate_series(1, 2) l(g)"""),
        ("order_tags", """
INSERT INTO order_tags (order_id, tag) SELECT id, 'vip' FROM orders WHERE id % 50 = 0"""),
        ("order_events", """
INSERT INTO order_events (event_id, order_id, type, from_status, to_status, actor, source,
                          reason, data, created_at)
SELECT gen_random_uuid()::text, id, 'order.placed', NULL, 'pending_payment', 'token:bench',
       'api', NULL, '{}'::jsonb, placed_at
FROM orders"""),
    ]


def populate(url: str) -> None:
    u = make_url(url)
    db = u.database
    assert db and db not in ("postgres", "template0", "template1"), "give a scratch database"
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'.encode())
        conn.execute(f'CREATE DATABASE "{db}"'.encode())
    from dingdan.store.migrate import upgrade

    upgrade(url)
    plain = u.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain) as conn:
        # The live-update trigger would NOTIFY a million times; bulk loading skips it.
        conn.execute("ALTER TABLE order_events DISABLE TRIGGER USER")
        for table, sql in statements():
            t = time.perf_counter()
            n = conn.execute(sql.encode()).rowcount
            print(f"  {table}: {n:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
        conn.execute("ALTER TABLE order_events ENABLE TRIGGER USER")
        conn.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), "
                     "(SELECT max(id) FROM orders))")
        conn.commit()
    with psycopg.connect(plain, autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - t:.1f} s")


def _samples(url: str) -> dict[str, list[str]]:
    plain = make_url(url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain) as conn:
        def col(sql: str) -> list[str]:
            return [str(r[0]) for r in conn.execute(sql.encode())]
        return {
            "number": col("SELECT number FROM orders TABLESAMPLE SYSTEM (1) LIMIT 200"),
            "phone": col("SELECT customer_phone FROM orders TABLESAMPLE SYSTEM (1) LIMIT 200"),
            "name": col("SELECT DISTINCT customer_name FROM orders TABLESAMPLE SYSTEM (1) "
                        "LIMIT 200"),
            "sku": col("SELECT sku FROM products TABLESAMPLE SYSTEM (10) LIMIT 200"),
        }


CASES: list[tuple[str, str]] = [
    ("list: newest first (no filter)", "/orders"),
    ("list: status = pending_review", "/orders?status=pending_review"),
    ("list: status to ship (4 statuses)",
     "/orders?status=approved&status=allocated&status=picking&status=packed"),
    ("list: search by phone", "/orders?q={phone}"),
    ("list: search by order number", "/orders?q={number}"),
    ("list: search by name", "/orders?q={name}"),
    ("list: search by SKU", "/orders?q={sku}"),
    ("list: channel + last 7 days", "/orders?channel=jd&placed_from={week_ago}"),
    ("list: province", "/orders?province=广东省"),
    ("list: warehouse + status", "/orders?warehouse=GZ&status=packed"),
    ("list: tag vip", "/orders?tag=vip"),
    ("list: sorted by total", "/orders?sort=-total"),
    ("list: next page (cursor)", "{next_page}"),
    ("list rows fragment (live refresh)", "/orders/rows"),
    ("order page", "/orders/{number}"),
    ("order page live fragment", "/orders/{number}/live"),
    ("home (today's counts + overdue)", "/"),
    ("review queue", "/review"),
]


async def measure(url: str, repeat: int) -> None:
    from asgi_lifespan import LifespanManager

    from dingdan.domain.events import SYSTEM
    from dingdan.services.tokens import issue_token
    from dingdan.settings import Settings
    from dingdan.web.app import create_app

    samples = _samples(url)
    settings = Settings(database_url=url, env="test", default_language="zh-CN")
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        token = (await issue_token("bench-pages", app.state.uow(), roles=["manager"],
                                   actor=SYSTEM)).token
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app),
                                     base_url="http://bench", timeout=60,
                                     headers={"Authorization": f"Bearer {token}"}) as c:
            first = (await c.get("/orders")).text
            marker = 'data-testid="next-page" ' if 'data-testid="next-page"' in first else ""
            next_page = "/orders"
            if marker or "cursor=" in first:
                start = first.index("/orders?cursor=") if "/orders?cursor=" in first else -1
                if start >= 0:
                    next_page = first[start:first.index('"', start)].replace("&amp;", "&")
            week_ago = time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400))
            rng = random.Random(11)
            print("| case | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: |")
            for label, pattern in CASES:
                def target(pattern: str = pattern) -> str:
                    values: dict[str, Any] = {k: rng.choice(v) for k, v in samples.items()}
                    return pattern.format(week_ago=week_ago, next_page=next_page, **values)
                for _ in range(3):  # warm-up: plans cached, connections in the pool
                    r = await c.get(target())
                    assert r.status_code == 200, (label, r.status_code, r.text[:300])
                times = []
                for _ in range(repeat):
                    path = target()
                    t = time.perf_counter()
                    r = await c.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, (label, path, r.status_code)
                times.sort()
                p95 = times[max(0, int(len(times) * 0.95) - 1)]
                print(f"| {label} | {statistics.median(times):.1f} | {p95:.1f} | "
                      f"{times[-1]:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["populate", "measure"])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1/dingdan_pages")
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    if args.command == "populate":
        populate(args.url)
    else:
        asyncio.run(measure(args.url, args.repeat))


if __name__ == "__main__":
    main()
