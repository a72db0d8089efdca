"""The broker channel against the real NATS server (JetStream on).

Runs when NATS answers on 127.0.0.1:4222 or at DINGDAN_TEST_NATS_URL. Unreachable: skipped,
saying why — unless DINGDAN_TEST_NATS_URL is set or DINGDAN_REQUIRE_SERVICES=1, then failed.
Each test uses its own stream and subject prefix and deletes the stream afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import nats
import pytest

from conftest import Clock, require_services
from dingdan.adapters.broker import NatsSender
from dingdan.adapters.notify.port import Message
from dingdan.domain.events import Actor, ActorKind
from dingdan.settings import Settings
from helpers import order_body, seed_catalogue

ADMIN = Actor(ActorKind.USER, "1", "admin", roles=frozenset({"admin"}))
CONFIGURED = os.environ.get("DINGDAN_TEST_NATS_URL")
NATS_URL = CONFIGURED or "nats://127.0.0.1:4222"


async def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 4222), 2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


@pytest.fixture
async def nats_url() -> str:
    if not await _reachable(NATS_URL):
        reason = (f"NATS is not reachable at {NATS_URL} (start nats-server -js, "
                  "or set DINGDAN_TEST_NATS_URL)")
        if CONFIGURED or require_services():
            pytest.fail(reason)
        pytest.skip(reason)
    return NATS_URL


@pytest.fixture
async def stream(nats_url: str) -> AsyncIterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:10]
    name, prefix = f"DINGDAN_TEST_{tag}", f"dingdan_test.{tag}.events"
    yield name, prefix
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().delete_stream(name)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


def event(type_: str, number: str, event_id: str | None = None) -> Message:
    eid = event_id or str(uuid.uuid4())
    return Message(event_id=eid, channel="nats", recipient="",
                   data={"event_id": eid, "type": type_, "order_number": number,
                         "order": {"number": number, "carrier": "顺丰"}})


@pytest.mark.nats
async def test_events_reach_jetstream_once_by_subject(nats_url: str,
                                                      stream: tuple[str, str]) -> None:
    name, prefix = stream
    sender = NatsSender(nats_url, stream=name, subject_prefix=prefix)
    shipped, delivered = event("order.shipped", "DD1"), event("order.delivered", "DD1")
    try:
        first = await sender.send(shipped)
        again = await sender.send(shipped)  # a worker retrying after a crash
        other = await sender.send(delivered)
    finally:
        await sender.close()
    assert first.ok and first.detail == f"{name}#1", first
    assert again.ok and again.detail == f"{name}#1 duplicate", again
    assert other.ok and other.detail == f"{name}#2", other

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(name)
        assert info.state.messages == 2
        assert info.config.subjects == [f"{prefix}.>"]
        assert info.config.duplicate_window == 2 * 3600
        sub = await js.pull_subscribe(f"{prefix}.>", stream=name)
        msgs = await sub.fetch(10, timeout=2)
        for m in msgs:
            await m.ack()
    finally:
        await nc.close()
    assert [m.subject for m in msgs] == [f"{prefix}.order.shipped", f"{prefix}.order.delivered"]
    assert [json.loads(m.data) for m in msgs] == [shipped.data, delivered.data]
    assert [(m.headers or {}).get("Nats-Msg-Id") for m in msgs] == [shipped.event_id,
                                                                    delivered.event_id]


@pytest.mark.nats
async def test_an_existing_stream_is_used_as_it_is(nats_url: str,
                                                  stream: tuple[str, str]) -> None:
    name, prefix = stream
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().add_stream(name=name, subjects=[f"{prefix}.>"], duplicate_window=60)
    finally:
        await nc.close()
    sender = NatsSender(nats_url, stream=name, subject_prefix=prefix)
    try:
        result = await sender.send(event("order.paid", "DD2"))
    finally:
        await sender.close()
    assert result.ok and result.detail == f"{name}#1"
    nc = await nats.connect(nats_url)
    try:
        assert (await nc.jetstream().stream_info(name)).config.duplicate_window == 60
    finally:
        await nc.close()


async def test_an_unreachable_server_means_retry_later() -> None:
    sender = NatsSender("nats://127.0.0.1:1", connect_timeout=0.5)
    try:
        result = await sender.send(event("order.paid", "DD3"))
    finally:
        await sender.close()
    assert not result.ok and not result.permanent


@pytest.mark.nats
async def test_the_worker_publishes_each_order_event_once(
        nats_url: str, stream: tuple[str, str], settings: Settings, clock: Clock) -> None:
    """The real worker: outbox → delivery rows → JetStream, one message per event."""
    from asgi_lifespan import LifespanManager

    from dingdan.web.app import create_app
    from dingdan.web.deps import current_actor
    from dingdan.workers import Worker
    from dingdan.workers.config import worker_config

    name, prefix = stream
    settings = settings.model_copy(update={"nats_subject_prefix": prefix, "nats_stream": name})
    app = create_app(settings, clock)
    app.dependency_overrides[current_actor] = lambda: ADMIN
    sender = NatsSender(nats_url, stream=name, subject_prefix=prefix)
    async with LifespanManager(app) as manager:
        # Earlier tests' events in a shared PostgreSQL database are not this test's business:
        # a worker with no channels marks them handled.
        idle = Worker(app.state.uow, {}, worker_config(settings, []))
        while await idle.fan_out_all():
            pass
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test") as c:
            cat = await seed_catalogue(c, {"A": 2})
            r = await c.post("/api/v1/orders", json=order_body([(cat["skus"]["A"], 1)]))
            number = r.json()["number"]
            await c.post(f"/api/v1/orders/{number}/pay", json={"payment_reference": "P1"})
        worker = Worker(app.state.uow, {"nats": sender}, worker_config(settings, ["nats"]))
        try:
            for _ in range(20):
                await worker.fan_out_all()
                if not await worker.deliver_due():
                    break
        finally:
            await sender.close()
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(f"{prefix}.order.>", stream=name)
        msgs = await sub.fetch(100, timeout=2)
    finally:
        await nc.close()
    got = [(m.subject, json.loads(m.data)) for m in msgs]
    mine = [(s, body["type"]) for s, body in got if body["order_number"] == number]
    assert mine == [(f"{prefix}.order.placed", "order.placed"),
                    (f"{prefix}.order.paid", "order.paid")]
