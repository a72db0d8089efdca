"""Concurrency on PostgreSQL, over separate pooled connections through the real API.

200 concurrent placements for 20 units give exactly 20 orders; 50 concurrent identical
requests with one Idempotency-Key give one order.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from conftest import ref
from dingdan.services.tokens import issue_token
from dingdan.services.users import OPERATOR
from dingdan.settings import Settings
from dingdan.store.tables import order_lines, orders, stock
from dingdan.web.app import create_app
from helpers import order_body, seed_catalogue

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_client(pg_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=pg_url, env="test", db_pool_size=40, db_max_overflow=40,
                        token_cache_seconds=60)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        issued = await issue_token("concurrency", app.state.uow(), roles=["admin"], actor=OPERATOR)
        from dingdan.domain.events import Actor, ActorKind

        # Warm the token cache so 200 requests do not all look the token up at once.
        app.state.token_cache.put(issued.token, Actor(ActorKind.TOKEN, str(issued.id),
                                                      "concurrency", "api",
                                                      frozenset({"admin"})))
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test",
                                     headers={"Authorization": f"Bearer {issued.token}"},
                                     timeout=60) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_two_hundred_buyers_for_twenty_units_give_exactly_twenty_orders(pg_client):
    cat = await seed_catalogue(pg_client, {"HOT": 20})
    sku = cat["skus"]["HOT"]

    async def buy() -> httpx.Response:
        return await pg_client.post("/api/v1/orders", json=order_body([(sku, 1)]))

    answers = await asyncio.gather(*(buy() for _ in range(200)))
    statuses = Counter(r.status_code for r in answers)
    codes = Counter(r.json().get("code") for r in answers if r.status_code != 201)
    assert statuses == {201: 20, 409: 180}, statuses
    assert codes == {"INSUFFICIENT_STOCK": 180}
    async with pg_client.app.state.uow(read_only=True) as uow:
        on_hand, reserved = (await uow.conn.execute(
            select(func.sum(stock.c.on_hand), func.sum(stock.c.reserved))
            .where(stock.c.sku == sku))).one()
        placed = (await uow.conn.execute(
            select(func.count()).select_from(order_lines).where(order_lines.c.sku == sku)
        )).scalar()
    assert (on_hand, reserved, placed) == (20, 20, 20)


async def test_fifty_identical_requests_with_one_key_make_one_order(pg_client):
    cat = await seed_catalogue(pg_client, {"A": 100})
    key = ref("IDEM")
    body = order_body([(cat["skus"]["A"], 1)])

    async def send() -> httpx.Response:
        return await pg_client.post("/api/v1/orders", json=body,
                                    headers={"Idempotency-Key": key})

    answers = await asyncio.gather(*(send() for _ in range(50)))
    assert {r.status_code for r in answers} <= {200, 201}
    assert Counter(r.status_code for r in answers)[201] == 1
    assert len({r.json()["number"] for r in answers}) == 1
    async with pg_client.app.state.uow(read_only=True) as uow:
        made = (await uow.conn.execute(
            select(func.count()).select_from(orders).where(orders.c.idempotency_key == key)
        )).scalar()
        reserved = (await uow.conn.execute(
            select(stock.c.reserved).where(stock.c.sku == cat["skus"]["A"]))).scalar()
    assert made == 1 and reserved == 1


async def test_fifty_copies_of_one_channel_order_make_one_order(pg_client):
    cat = await seed_catalogue(pg_client, {"A": 100})
    body = order_body([(cat["skus"]["A"], 2)], channel="tmall", external_id=ref("TM"))
    answers = await asyncio.gather(*(pg_client.post("/api/v1/orders", json=body)
                                     for _ in range(50)))
    assert Counter(r.status_code for r in answers) == {201: 1, 200: 49}
    assert len({r.json()["number"] for r in answers}) == 1
