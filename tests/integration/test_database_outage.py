"""The database goes away and comes back: the API answers 503 DATABASE_UNAVAILABLE with
Retry-After while it is away, writes nothing, and recovers by itself (issue 16, item 6).

PostgreSQL is reached through a TCP relay of the test's own; cutting the relay closes every
open connection and refuses new ones, as a restart or a network cut does to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from dingdan.settings import Settings

pytestmark = pytest.mark.postgres


class Relay:
    """Forwards TCP connections to a target; ``cut`` drops them all and stops listening."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def relay(pg_url: str) -> AsyncIterator[Relay]:
    url = make_url(pg_url)
    r = Relay(url.host or "127.0.0.1", url.port or 5432)
    await r.start()
    yield r
    if r._server is not None:
        await r.cut()


@pytest.fixture
async def client(pg_url: str, relay: Relay) -> AsyncIterator[httpx.AsyncClient]:
    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR
    from dingdan.web.app import create_app

    through_relay = make_url(pg_url).set(host="127.0.0.1", port=relay.port)
    settings = Settings(database_url=through_relay.render_as_string(hide_password=False),
                        env="test", default_language="en", token_cache_seconds=0.0,
                        db_pool_size=2, db_max_overflow=2, argon2_time_cost=1,
                        argon2_memory_kib=8192, argon2_parallelism=1)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        issued = await issue_token("outage", app.state.uow(), roles=["admin"], actor=OPERATOR)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app),
                                     base_url="http://dingdan.test",
                                     headers={"Authorization": f"Bearer {issued.token}"}) as c:
            yield c


ORDER = {"channel": "web", "channel_order_id": "OUTAGE-1", "currency": "CNY",
         "customer": {"name": "断线测试", "phone": "13800138000"},
         "shipping_address": {"province": "广东省", "city": "广州市", "district": "天河区",
                              "line1": "天河路 1 号"},
         "lines": [{"sku": "NOPE-404", "quantity": 1}]}


async def test_the_api_answers_503_while_the_database_is_away_and_recovers(
        client: httpx.AsyncClient, relay: Relay) -> None:
    assert (await client.get("/api/v1/orders")).status_code == 200  # pooled connections live

    await relay.cut()
    for method, path in [("GET", "/api/v1/orders"), ("GET", "/api/v1/orders"),
                         ("POST", "/api/v1/orders")]:
        r = await client.request(method, path, json=ORDER if method == "POST" else None,
                                 headers={"Idempotency-Key": "outage-1"})
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["code"] == "DATABASE_UNAVAILABLE"
        assert r.headers["Retry-After"] == "5"
        assert r.headers["content-type"].startswith("application/problem+json")
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

    await relay.start()  # the database is back: no restart of Dingdan
    for _ in range(20):  # bounded: the pool drops its dead connections as it meets them
        r = await client.get("/api/v1/orders")
        if r.status_code == 200:
            break
    assert r.status_code == 200, r.text
    assert (await client.get("/readyz")).status_code == 200
    # The order sent while the database was away was not written.
    listed = await client.get("/api/v1/orders", params={"q": "OUTAGE-1"})
    assert listed.status_code == 200
    assert all(o.get("channel_order_id") != "OUTAGE-1" for o in listed.json()["items"])
