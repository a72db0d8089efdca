"""/healthz says the process runs; /readyz says it can serve: database reachable, schema at
head — else 503 with Retry-After, so a load balancer takes it out until it recovers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from asgi_lifespan import LifespanManager

from dingdan.store.migrate import current_head, upgrade
from dingdan.web.app import create_app


async def test_ready_when_the_database_is_at_head(app_client):
    r = await app_client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "database": "ok", "revision": current_head(),
                        "head": current_head()}


async def _get(settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with LifespanManager(app) as manager, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://dingdan.test") as c:
        return await c.get(path)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_not_ready_while_migrations_are_pending(settings, tmp_path):
    db = tmp_path / "old.db"
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{db}", "0001")
    r = await _get(settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{db}"}),
                   "/readyz")
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["database"] == "migrations_pending" and r.json()["revision"] == "0001"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_not_ready_when_the_database_is_unreachable(settings):
    # A PostgreSQL URL where nothing listens (a closed port on this machine).
    url = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere?connect_timeout=1"
    r = await _get(settings.model_copy(update={"database_url": url}), "/readyz")
    assert r.status_code == 503
    assert r.json()["database"] == "unreachable"
    alive = await _get(settings.model_copy(update={"database_url": url}), "/healthz")
    assert alive.status_code == 200
