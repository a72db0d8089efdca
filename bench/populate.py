"""Make a fresh, populated, analysed Dingdan database for the intake benchmark.

    .venv/bin/python bench/populate.py --url postgresql://postgres@127.0.0.1/dingdan_bench
    .venv/bin/python bench/populate.py --url sqlite:///bench/results/bench.db

It drops and re-creates the database, brings it to the head migration (what ``dingdan migrate``
does), then loads in bulk SQL (``INSERT ... SELECT`` over a number series):

- 10,000 active products ``SKU-00001`` .. ``SKU-10000``;
- 3 warehouses (上海 priority 30, 广州 20, 成都 10) with ample stock of every SKU;
- 200,000 completed orders of history over the last ~90 days, 3 lines each, with one
  ``order.placed`` event, one published outbox row and (where the schema has the audit log)
  one audit row each;

then ``VACUUM ANALYZE`` (PostgreSQL) or ``ANALYZE`` (SQLite), and issues an API token
(``dingdan.services.tokens.issue_token``) written to ``--token-file``. The history matters:
on empty tables PostgreSQL caches sequential-scan plans for the foreign-key checks, and a run
would measure that artefact rather than Dingdan.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sqlite3
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from dingdan.settings import Settings

SKUS = 10_000
HISTORY = 200_000
ON_HAND = 1_000_000  # per SKU and warehouse: far more than any run reserves
WAREHOUSES = (("SH", "上海仓", "上海", 30), ("GZ", "广州仓", "广东", 20),
              ("CD", "成都仓", "四川", 10))

# One statement per table. {seq}: a relation with column g = 1..N; dialect snippets below.
PG = {
    "sku": "'SKU-' || lpad(({x})::text, 5, '0')",
    "now": "now()",
    "ago": "now() - interval '90 days' + ({g}) * interval '30 seconds'",
    "plus_days": "({t}) + interval '{d} days'",
    "uuid": "gen_random_uuid()::text",
    "yymmdd": "to_char({t}, 'YYMMDD')",
    "pad7": "lpad(({x})::text, 7, '0')",
    "true": "true",
    "obj": "jsonb_build_object",
    "json_empty_list": "'[]'::jsonb",
    "json_empty_obj": "'{}'::jsonb",
    "json_roles": "'[\"integration\"]'::jsonb",
}
SQLITE = {
    "sku": "'SKU-' || printf('%05d', {x})",
    "now": "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "ago": "strftime('%Y-%m-%d %H:%M:%f', 'now', '-90 days', '+' || (({g}) * 30) || ' seconds')",
    "plus_days": "strftime('%Y-%m-%d %H:%M:%f', {t}, '+{d} days')",
    "uuid": "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
            "substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || "
            "hex(randomblob(6)))",
    "yymmdd": "substr(strftime('%Y%m%d', {t}), 3)",
    "pad7": "printf('%07d', {x})",
    "true": "1",
    "obj": "json_object",
    "json_empty_list": "'[]'",
    "json_empty_obj": "'{}'",
    "json_roles": "'[\"integration\"]'",
}


def statements(d: dict[str, str], seq: str) -> list[tuple[str, str]]:
    def f(key: str, **kw: str) -> str:
        return d[key].format(**kw)

    now = f("now")
    placed = f("ago", g="g")
    sku = f("sku", x="g")
    wh = ", ".join(f"('{c}', '{n}', '{r}', '{r}', '{r} 物流园 {i} 号', {p}, {d['true']}, 1, "
                   f"{now}, {now})" for i, (c, n, r, p) in enumerate(WAREHOUSES, start=1))
    line_sku = f("sku", x="1 + (o.g * 31 + l.g * 997) % 10000")
    return [
        ("products", f"""
INSERT INTO products (sku, name, barcode, price, currency, weight_g, length_mm, width_mm,
                      height_mm, active, version, created_at, updated_at)
SELECT {sku}, '商品 ' || g || ' 号', '69' || {f("pad7", x="g")} || '0000', 100 + (g * 37) % 9900,
       'CNY', 100 + g % 2000, 100 + g % 300, 80 + g % 200, 20 + g % 100, {d['true']}, 1,
       {now}, {now}
FROM {seq(SKUS)}"""),
        ("warehouses", f"""
INSERT INTO warehouses (code, name, region, city, address, priority, active, version,
                        created_at, updated_at)
VALUES {wh}"""),
        ("stock", f"""
INSERT INTO stock (sku, warehouse_id, on_hand, reserved, updated_at)
SELECT {sku}, w.id, {ON_HAND}, 0, {now}
FROM {seq(SKUS)} CROSS JOIN warehouses w"""),
        ("stock_movements", f"""
INSERT INTO stock_movements (sku, warehouse_id, kind, quantity, on_hand_after, reason,
                             reference, actor, created_at)
SELECT s.sku, s.warehouse_id, 'receipt', s.on_hand, s.on_hand, 'opening stock', NULL,
       'bench', {now}
FROM stock s"""),
        ("orders", f"""
INSERT INTO orders (id, number, channel, external_id, idempotency_key, request_hash, status,
                    payment_status, fulfillment_status, customer_name, customer_phone,
                    customer_email, ship_recipient, ship_phone, ship_country, ship_province,
                    ship_city, ship_district, ship_street, ship_postcode, warehouse_id, currency,
                    subtotal, shipping_fee, discount, tax, total, payment_method,
                    payment_reference, carrier, tracking_number, placed_at, paid_at, shipped_at,
                    delivered_at, closed_at, tags, custom_fields, version, created_at,
                    updated_at)
SELECT g, 'DD' || {f("yymmdd", t=placed)} || {f("pad7", x="g")},
       CASE g % 4 WHEN 0 THEN 'api' WHEN 1 THEN 'taobao' WHEN 2 THEN 'jd' ELSE 'pdd' END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'EXT' || g END, NULL, NULL,
       'completed', 'paid', 'delivered', '客户 ' || (g % 30000),
       '+86138' || {f("pad7", x="g % 10000000")} || '0',
       'c' || (g % 30000) || '@example.com', '客户 ' || (g % 30000),
       '+86138' || {f("pad7", x="g % 10000000")} || '0', 'CN',
       CASE g % 5 WHEN 0 THEN '上海市' WHEN 1 THEN '广东省' WHEN 2 THEN '四川省'
                  WHEN 3 THEN '浙江省' ELSE '北京市' END,
       '某市', '某区', '某路 ' || (g % 999) || ' 号', '200120', 1 + g % 3, 'CNY',
       3000 + g % 20000, 800, 0, 0, 3800 + g % 20000, 'alipay', 'PAY' || g, 'SF',
       'SF' || {f("pad7", x="g")}, {placed}, {placed}, {f("plus_days", t=placed, d="1")},
       {f("plus_days", t=placed, d="3")}, {f("plus_days", t=placed, d="10")},
       {d['json_empty_list']}, {d['json_empty_obj']}, 8, {placed},
       {f("plus_days", t=placed, d="10")}
FROM {seq(HISTORY)}"""),
        ("order_lines", f"""
INSERT INTO order_lines (order_id, line_no, sku, name, model, quantity, unit_price,
                         warehouse_id)
SELECT o.g, l.g, {line_sku}, '商品', NULL, 1 + (o.g + l.g) % 3, 1000, 1 + o.g % 3
FROM {seq(HISTORY, "o")} CROSS JOIN {seq(3, "l")}"""),
        ("order_events", f"""
INSERT INTO order_events (event_id, order_id, type, from_status, to_status, actor, source,
                          reason, data, created_at)
SELECT {d['uuid']}, o.id, 'order.placed', NULL, 'pending_payment', 'token:bench', 'token',
       NULL, '{{"warehouse": "SH"}}', o.placed_at
FROM orders o"""),
        ("outbox", f"""
INSERT INTO outbox (event_id, type, order_number, payload, created_at, published_at)
SELECT e.event_id, e.type, o.number,
       {d['obj']}('event_id', e.event_id, 'type', e.type, 'order_number', o.number),
       e.created_at,
       e.created_at
FROM order_events e JOIN orders o ON o.id = e.order_id"""),
        # Only where the schema has an audit log (migration 0003 on).
        ("audit_log", f"""
INSERT INTO audit_log (at, actor, actor_kind, actor_id, user_id, roles, source, ip, client,
                       action, object_type, object_id, before, after)
SELECT o.placed_at, 'token:bench', 'token', '1', NULL, {d['json_roles']}, 'api', NULL, NULL,
       'order.place', 'order', o.number, NULL,
       {d['obj']}('status', 'pending_payment', 'channel', o.channel, 'total', o.total)
FROM orders o"""),
    ]


def pg_seq(n: int, alias: str = "") -> str:
    return f"generate_series(1, {n}) {alias}(g)" if alias else f"generate_series(1, {n}) g"


def sqlite_seq(n: int, alias: str = "") -> str:
    return f"(SELECT g FROM seq WHERE g <= {n}) {alias}"


def populate_postgres(url: str) -> None:
    u = make_url(url)
    db = u.database
    assert db and db not in ("postgres", "template0", "template1"), "give a scratch database"
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    from dingdan.store.migrate import upgrade

    upgrade(url)
    plain = u.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        for table, sql in statements(PG, pg_seq):
            if table not in tables:
                continue
            t = time.perf_counter()
            n = conn.execute(sql.encode()).rowcount
            print(f"  {table}: {n} rows in {time.perf_counter() - t:.1f} s")
        conn.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), "
                     "(SELECT max(id) FROM orders))")
        conn.commit()
    with psycopg.connect(plain, autocommit=True) as conn:
        t = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - t:.1f} s")


def populate_sqlite(url: str) -> None:
    path = Path(make_url(url).database or "")
    assert path.name, "give a file for the SQLite database"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    from dingdan.store.migrate import upgrade

    upgrade(url)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        conn.execute("CREATE TEMP TABLE seq (g INTEGER PRIMARY KEY)")
        conn.execute(f"WITH RECURSIVE r(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM r "
                     f"WHERE g < {HISTORY}) INSERT INTO seq SELECT g FROM r")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table, sql in statements(SQLITE, sqlite_seq):
            if table not in tables:
                continue
            t = time.perf_counter()
            n = conn.execute(sql).rowcount
            print(f"  {table}: {n} rows in {time.perf_counter() - t:.1f} s")
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def issue(url: str) -> str:
    from dingdan.services.tokens import issue_token
    from dingdan.store.engine import make_engine
    from dingdan.store.uow import UnitOfWorkFactory

    engine = make_engine(url)
    kwargs: dict[str, object] = {}
    if "roles" in inspect.signature(issue_token).parameters:
        # With people and roles: a shop connector's token, issued by the system.
        from dingdan.domain.events import SYSTEM

        kwargs = {"roles": ["integration"], "actor": SYSTEM}
    try:
        issued = await issue_token("bench", UnitOfWorkFactory(engine)(), **kwargs)
    finally:
        await engine.dispose()
    return issued.token


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default="postgresql://postgres@127.0.0.1/dingdan_bench")
    p.add_argument("--token-file", type=Path, default=Path("bench/results/token.txt"))
    args = p.parse_args()
    url = Settings(database_url=args.url).database_url  # picks the async driver
    t = time.perf_counter()
    print(f"populating {make_url(url).render_as_string(hide_password=True)}")
    if url.startswith("sqlite"):
        populate_sqlite(url)
    else:
        populate_postgres(url)
    token = asyncio.run(issue(url))
    args.token_file.parent.mkdir(parents=True, exist_ok=True)
    args.token_file.write_text(token + "\n")
    print(f"done in {time.perf_counter() - t:.1f} s; token in {args.token_file}")


if __name__ == "__main__":
    main()
