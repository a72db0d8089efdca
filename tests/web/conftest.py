"""Fixtures for the back-office page tests: one app per test over the migrated database, and
clients acting as a given role (API tokens carry the roles; pages accept them like a session).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from conftest import Clock
from dingdan.domain.events import SYSTEM
from dingdan.services.tokens import issue_token
from dingdan.settings import Settings
from dingdan.web.app import create_app
from helpers import order_body, seed_catalogue


class Office:
    """The app under test and a way to act in it as a role."""

    def __init__(self, app: Any, asgi: Any) -> None:
        self.app = app
        self._asgi = asgi
        self._clients: list[httpx.AsyncClient] = []

    async def client(self, *roles: str, lang: str = "en") -> httpx.AsyncClient:
        issued = await issue_token(f"{'-'.join(roles)}-tests", self.app.state.uow(),
                                   roles=list(roles), actor=SYSTEM)
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=self._asgi),
                              base_url="http://dingdan.test",
                              headers={"Authorization": f"Bearer {issued.token}",
                                       "Accept-Language": lang})
        self._clients.append(c)
        return c

    async def close(self) -> None:
        for c in self._clients:
            await c.aclose()


@pytest.fixture
async def office(settings: Settings, clock: Clock) -> AsyncIterator[Office]:
    app = create_app(settings, clock)
    async with LifespanManager(app) as manager:
        office = Office(app, manager.app)
        try:
            yield office
        finally:
            await office.close()


@pytest.fixture
async def admin(office: Office) -> httpx.AsyncClient:
    return await office.client("admin")


async def place(client: httpx.AsyncClient, sku: str, qty: int = 1, **extra: Any) -> str:
    r = await client.post("/api/v1/orders", json=order_body([(sku, qty)], **extra))
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    return number


async def walk(client: httpx.AsyncClient, number: str, *steps: str) -> None:
    """Take API actions in order (``pay`` and ``ship`` get their required fields)."""
    bodies: dict[str, dict[str, Any]] = {
        "pay": {"payment_reference": "ALI-1"}, "ship": {"carrier": "SF", "tracking_number": "SF1"},
        "hold": {"reason": "check"}, "cancel": {"reason": "test"}, "release": {"reason": "ok"}}
    for step in steps:
        r = await client.post(f"/api/v1/orders/{number}/{step}", json=bodies.get(step))
        assert r.status_code == 200, (step, r.text)


@pytest.fixture
async def catalogue(admin: httpx.AsyncClient) -> dict[str, Any]:
    return await seed_catalogue(admin, {"A": 100, "B": 3})
