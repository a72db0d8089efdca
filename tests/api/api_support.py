"""Helpers for the API tests: database snapshots, problem-document checks, orders walked to a
status, and random but valid customer data (tests share one PostgreSQL database)."""

from __future__ import annotations

import random
from typing import Any

import httpx
from sqlalchemy import func, inspect, select, table

from conftest import ref
from dingdan.store.engine import READ_ONLY
from dingdan.store.tables import orders, products, stock, warehouses
from helpers import order_body, seed_catalogue

PROBLEM = "application/problem+json"

# The action endpoints, and the body each one needs, in lifecycle order.
PAY = ("pay", {"payment_reference": "ALI-2026-0001"})
SHIP = ("ship", {"carrier": "SF", "tracking_number": "SF1234567890"})
HOLD = ("hold", {"reason": "address looks wrong"})
CANCEL = ("cancel", {"reason": "customer changed their mind"})
FORWARD: list[tuple[str, dict[str, Any] | None]] = [
    PAY, ("submit-review", None), ("approve", None), ("allocate", None), ("pick", None),
    ("pack", None), SHIP, ("in-transit", None), ("out-for-delivery", None), ("deliver", None),
    ("complete", None)]
FORWARD_STATUSES = ["paid", "pending_review", "approved", "allocated", "picking", "packed",
                    "shipped", "in_transit", "out_for_delivery", "delivered", "completed"]
# How to reach each status from pending_payment.
PATH_TO: dict[str, list[tuple[str, dict[str, Any] | None]]] = {
    "pending_payment": [],
    **{s: FORWARD[: i + 1] for i, s in enumerate(FORWARD_STATUSES)},
    "cancelled": [CANCEL],
    "on_hold": [PAY, HOLD],
}


async def db_state(client: httpx.AsyncClient) -> dict[str, Any]:
    """Row counts of every table in the database, every stock row, and the version of every
    order, product and warehouse: if a request changed anything, this changes."""
    engine = client.app.state.uow.engine  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_ONLY: True})
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        counts = {name: (await conn.execute(select(func.count()).select_from(table(name)))
                         ).scalar_one() for name in sorted(names)}
        stock_rows = sorted(tuple(r) for r in await conn.execute(
            select(stock.c.sku, stock.c.warehouse_id, stock.c.on_hand, stock.c.reserved)))
        order_rows = sorted(tuple(r) for r in await conn.execute(
            select(orders.c.number, orders.c.version, orders.c.status)))
        product_rows = sorted(tuple(r) for r in await conn.execute(
            select(products.c.sku, products.c.version)))
        warehouse_rows = sorted(tuple(r) for r in await conn.execute(
            select(warehouses.c.code, warehouses.c.version)))
        await conn.rollback()
    return {"counts": counts, "stock": stock_rows, "orders": order_rows,
            "products": product_rows, "warehouses": warehouse_rows}


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """``r`` is an RFC 9457 problem document with this status and stable code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in r.text
    return body


async def refused(client: httpx.AsyncClient, method: str, url: str, status: int, code: str,
                  **kw: Any) -> dict[str, Any]:
    """Send a request that must be refused with ``status``/``code`` and change nothing."""
    before = await db_state(client)
    r = await client.request(method, url, **kw)
    body = assert_problem(r, status, code)
    assert await db_state(client) == before, f"{method} {url} changed the database"
    return body


def error_locs(body: dict[str, Any]) -> dict[str, str]:
    """Field errors of a problem document as {loc: code}."""
    return {e["loc"]: e["code"] for e in body["errors"]}


def mobile() -> str:
    """A random valid mainland mobile number (national form), unique enough per test."""
    return f"139{random.randrange(10**8):08d}"


def channel() -> str:
    """A random channel name: lists filtered by it see only this test's orders."""
    return ref("t").lower()


async def place(client: httpx.AsyncClient, lines: list[tuple[str, int]], **extra: Any,
                ) -> dict[str, Any]:
    r = await client.post("/api/v1/orders", json=order_body(lines, **extra))
    assert r.status_code == 201, r.text
    order: dict[str, Any] = r.json()
    return order


async def walk(client: httpx.AsyncClient, number: str, status: str) -> dict[str, Any]:
    """Take an order from pending_payment to ``status`` through the API."""
    r = await client.get(f"/api/v1/orders/{number}")
    for path, body in PATH_TO[status]:
        r = await client.post(f"/api/v1/orders/{number}/{path}", json=body)
        assert r.status_code == 200, (path, r.text)
    order: dict[str, Any] = r.json()
    assert order["status"] == status
    return order


async def order_in(client: httpx.AsyncClient, status: str, qty: int = 2,
                   stock_qty: int = 10, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh catalogue and one order of ``qty`` units walked to ``status``."""
    cat = await seed_catalogue(client, {"A": stock_qty})
    order = await place(client, [(cat["skus"]["A"], qty)], **extra)
    return await walk(client, order["number"], status), cat


async def stock_row(client: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    r = await client.get("/api/v1/stock", params={"sku": sku})
    assert r.status_code == 200, r.text
    rows = r.json()
    assert len(rows) == 1, rows
    row: dict[str, Any] = rows[0]
    return row
