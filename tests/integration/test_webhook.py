"""Webhooks end to end: subscriptions through the API, events from real orders, deliveries
through the delivery log to a real local receiver that verifies every signature with the
recipe of docs/webhooks.md and counts duplicates by event id; replay from a point in time.

The test plays the worker's part with its repository (fan-out, claim, mark sent), so it
exercises the same rows and the same sender the worker uses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from conftest import Clock
from dingdan.adapters.notify.port import Message
from dingdan.adapters.notify.registry import outbound_guard
from dingdan.adapters.notify.webhook import StaticTargets, WebhookSender, WebhookTarget, sign
from dingdan.domain.events import Actor, ActorKind
from dingdan.services.webhooks import WebhookTargetLookup, plan_webhook_deliveries
from dingdan.settings import Settings
from dingdan.store.deliveries import PENDING, DeliveryRepo, OutboxRow
from dingdan.store.tables import outbox
from dingdan.store.uow import UnitOfWorkFactory
from helpers import order_body, seed_catalogue
from peers import LocalHttpServer, Request, loopback_guard

ADMIN = Actor(ActorKind.USER, "1", "admin", roles=frozenset({"admin"}))
VIEWER = Actor(ActorKind.USER, "2", "viewer", roles=frozenset({"viewer"}))


# -- the receiver: docs/webhooks.md, "Verifying a delivery" -------------------------------

def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    timestamp = headers.get("dingdan-timestamp", "")
    signature = headers.get("dingdan-signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(f"v1={expected}", s.strip())
               for s in signature.split(","))


class Receiver:
    """An integrator's endpoint: refuses bad signatures, answers 200, counts event ids."""

    def __init__(self) -> None:
        self.secret = ""
        self.events: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.fail_next: list[int] = []  # statuses to answer before accepting again

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        if not verify(self.secret, req.headers, req.body):
            self.bad_signatures += 1
            return 401, {}, b"bad signature"
        if self.fail_next:
            return self.fail_next.pop(0), {}, b"try later"
        body = json.loads(req.body)
        assert req.headers["dingdan-event-id"] == body["event_id"]
        assert req.headers["dingdan-event-type"] == body["type"]
        assert req.headers["content-type"] == "application/json"
        self.events.append(body)
        return 200, {}, b"ok"

    @property
    def ids(self) -> list[str]:
        return [e["event_id"] for e in self.events]

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.ids).values())


# -- the app, with an admin behind every request ------------------------------------------

@pytest.fixture
async def api(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    from dingdan.web.app import create_app
    from dingdan.web.deps import current_actor

    app = create_app(settings, clock)
    app.dependency_overrides[current_actor] = lambda: ADMIN
    made: list[int] = []

    async def remember(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.request.url.path == "/api/v1/webhooks":
            await response.aread()
            if response.status_code == 201:
                made.append(response.json()["id"])

    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test",
                                     event_hooks={"response": [remember]}) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
            # PostgreSQL tests share one database: leave no subscription to the next test.
            app.dependency_overrides[current_actor] = lambda: ADMIN
            for sub_id in made:
                await c.delete(f"/api/v1/webhooks/{sub_id}")


def uows_of(client: httpx.AsyncClient) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = client.app.state.uow  # type: ignore[attr-defined]
    return factory


async def outbox_rows(uows: UnitOfWorkFactory, *numbers: str) -> list[OutboxRow]:
    async with uows(read_only=True) as uow:
        rows = await uow.conn.execute(
            select(outbox.c.id, outbox.c.event_id, outbox.c.type, outbox.c.order_number,
                   outbox.c.payload, outbox.c.created_at)
            .where(outbox.c.order_number.in_(numbers)).order_by(outbox.c.id))
        return [OutboxRow(*r) for r in rows]


async def fan_out(uows: UnitOfWorkFactory, *numbers: str) -> int:
    """The worker's fan-out step for webhooks: these orders' outbox rows → delivery rows."""
    events = await outbox_rows(uows, *numbers)
    async with uows() as uow:
        rows = await plan_webhook_deliveries(uow, events, uow.now())
        await DeliveryRepo(uow.conn).add(rows)
        await uow.commit()
    return len(rows)


async def drain(uows: UnitOfWorkFactory, sender: WebhookSender, rounds: int = 50,
                only: str | None = None) -> list[Any]:
    """The worker's delivery step: claim due rows (one order's events in order), send, record.
    ``only``: leave other orders' rows (another test's, in a shared database) alone."""
    results = []
    for _ in range(rounds):
        async with uows() as uow:
            now = uow.now()
            claimed = await DeliveryRepo(uow.conn).claim(
                "test-worker", now, now + timedelta(minutes=5), 100, ["webhook"])
            await uow.commit()
        def mine(r: dict[str, Any]) -> bool:
            return r["channel"] == "webhook" and only in (None, r["order_number"])

        foreign = [r["id"] for r in claimed if not mine(r)]
        claimed = [r for r in claimed if mine(r)]
        if foreign:  # another test's leftovers in a shared PostgreSQL database
            async with uows() as uow:
                await DeliveryRepo(uow.conn).release(foreign, "test-worker", now)
                await uow.commit()
        if not claimed:
            return results
        for row in claimed:
            result = await sender.send(Message(
                event_id=row["event_id"], channel="webhook", recipient=row["recipient"],
                data=row["payload"], headers={"Dingdan-Event-Type": row["event_type"]}))
            results.append(result)
            async with uows() as uow:
                repo = DeliveryRepo(uow.conn)
                if result.ok:
                    await repo.mark_sent(row["id"], now, result.detail, result.response_code)
                else:
                    await repo.mark_failed(row["id"], "test-worker", now,
                                           status="dead" if result.permanent else PENDING,
                                           next_attempt_at=now, error=result.detail,
                                           response_code=result.response_code)
                await uow.commit()
    raise AssertionError("the delivery log did not drain")


async def place_paid_order(api: httpx.AsyncClient) -> str:
    cat = await seed_catalogue(api, {"A": 5})
    r = await api.post("/api/v1/orders", json=order_body([(cat["skus"]["A"], 1)]))
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    r = await api.post(f"/api/v1/orders/{number}/pay", json={"payment_reference": "ALI-1"})
    assert r.status_code == 200, r.text
    return number


# -- tests ----------------------------------------------------------------------------------

async def test_deliveries_are_signed_ordered_and_replayed_with_the_same_event_ids(
        api: httpx.AsyncClient, clock: Clock) -> None:
    receiver = Receiver()
    uows = uows_of(api)
    with LocalHttpServer(receiver) as peer:
        r = await api.post("/api/v1/webhooks", json={
            "url": peer.url("/hooks/dingdan"), "event_types": ["order.*"],
            "description": "ERP"})
        assert r.status_code == 201, r.text
        created = r.json()
        receiver.secret = created["secret"]
        assert receiver.secret.startswith("whsec_")
        assert created["secret_hint"] == receiver.secret[-4:]
        sub_id = created["id"]
        listed = (await api.get("/api/v1/webhooks")).json()
        assert [s["id"] for s in listed] == [sub_id] and "secret" not in listed[0]

        # A moment of its own, so a shared PostgreSQL database holds no other test's events
        # in the replay windows.
        clock.now = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**6))
        t0 = clock.now
        number = await place_paid_order(api)
        clock.advance(hours=1)
        t1 = clock.now
        r = await api.post(f"/api/v1/orders/{number}/notes", json={"note": "客户要求周末送货"})
        assert r.status_code in (200, 201, 204), r.text

        sender = WebhookSender(WebhookTargetLookup(uows), timeout=5, guard=loopback_guard())
        try:
            assert await fan_out(uows, number) == 3
            receiver.fail_next = [503]  # the first attempt meets a hiccup and is retried
            results = await drain(uows, sender, only=number)
            assert [r.ok for r in results] == [False, True, True, True]

            assert receiver.bad_signatures == 0 and receiver.duplicates == 0
            assert [e["type"] for e in receiver.events] == [
                "order.placed", "order.paid", "order.note_added"]
            assert {e["order_number"] for e in receiver.events} == {number}
            first_ids = receiver.ids

            log = (await api.get(f"/api/v1/webhooks/{sub_id}/deliveries")).json()
            assert [(d["status"], d["response_code"], d["replay"]) for d in log] == [
                ("sent", 200, False)] * 3
            assert max(d["attempts"] for d in log) == 2

            # Replay everything since before the order: the same three event ids again.
            r = await api.post(f"/api/v1/webhooks/{sub_id}/replay",
                               json={"since": t0.isoformat(),
                                     "until": (t1 + timedelta(minutes=1)).isoformat()})
            assert r.status_code == 202, r.text
            report = r.json()
            assert (report["events"], report["queued"], report["complete"]) == (3, 3, True)
            await drain(uows, sender, only=number)
            assert receiver.ids == first_ids + first_ids
            assert receiver.duplicates == 3 and receiver.bad_signatures == 0

            # Replay from a point in time: only what happened since then.
            r = await api.post(f"/api/v1/webhooks/{sub_id}/replay",
                               json={"since": t1.isoformat(),
                                     "until": (t1 + timedelta(minutes=1)).isoformat()})
            assert r.json()["events"] == 1
            await drain(uows, sender, only=number)
            assert receiver.ids[-1] == first_ids[-1]
            assert len(receiver.ids) == 7

            log = (await api.get(f"/api/v1/webhooks/{sub_id}/deliveries")).json()
            assert len(log) == 7 and sum(d["replay"] for d in log) == 4
            assert all(d["status"] == "sent" for d in log)
        finally:
            await sender.close()


async def test_only_matching_active_subscriptions_receive_an_event(
        api: httpx.AsyncClient) -> None:
    uows = uows_of(api)
    ids = {}
    for name, types, active in (("paid", ["order.paid"], True), ("all", ["*"], True),
                                ("shipped", ["order.shipped"], True),
                                ("off", ["*"], False)):
        r = await api.post("/api/v1/webhooks", json={
            "url": f"https://{name}.example.com/hook", "event_types": types, "active": active})
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    number = await place_paid_order(api)
    events = await outbox_rows(uows, number)
    async with uows() as uow:
        rows = await plan_webhook_deliveries(uow, events, uow.now())
    got = sorted((r["event_type"], r["recipient"]) for r in rows)
    assert got == sorted([("order.placed", str(ids["all"])), ("order.paid", str(ids["all"])),
                          ("order.paid", str(ids["paid"]))])
    assert all(r["kind"] == "event" and r["audience"] == "integrator" for r in rows)


async def test_subscription_changes_and_refusals(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/webhooks", json={"url": "ftp://x", "event_types": ["order.sent"]})
    assert r.status_code == 422
    assert {e["loc"] for e in r.json()["errors"]} == {"url", "event_types.0"}
    r = await api.post("/api/v1/webhooks", json={"url": "https://erp.example.com/h",
                                                 "event_types": ["order.shipped"]})
    sub = r.json()
    sid, secret = sub["id"], sub["secret"]

    r = await api.patch(f"/api/v1/webhooks/{sid}", json={"event_types": ["order.*"],
                                                         "active": False})
    assert r.status_code == 200, r.text
    assert r.json()["event_types"] == ["order.*"] and r.json()["active"] is False
    assert r.json()["secret"] is None and r.json()["version"] == 2
    r = await api.patch(f"/api/v1/webhooks/{sid}", json={"rotate_secret": True})
    rotated = r.json()["secret"]
    assert rotated.startswith("whsec_") and rotated != secret
    r = await api.patch(f"/api/v1/webhooks/{sid}", json={"active": True,
                                                         "expected_version": 1})
    assert r.status_code == 409
    r = await api.patch(f"/api/v1/webhooks/{sid}", json={"url": None})
    assert r.status_code == 422

    target = await WebhookTargetLookup(uows_of(api))(str(sid))
    assert target == WebhookTarget("https://erp.example.com/h", rotated, active=False)

    assert (await api.delete(f"/api/v1/webhooks/{sid}")).status_code == 204
    assert (await api.get(f"/api/v1/webhooks/{sid}")).status_code == 404
    assert (await api.get(f"/api/v1/webhooks/{sid}/deliveries")).status_code == 404
    assert await WebhookTargetLookup(uows_of(api))(str(sid)) is None

    api.app.dependency_overrides[  # type: ignore[attr-defined]
        __import__("dingdan.web.deps", fromlist=["x"]).current_actor] = lambda: VIEWER
    assert (await api.get("/api/v1/webhooks")).status_code == 403


@pytest.mark.parametrize(("status", "ok", "permanent"), [
    (200, True, False), (204, True, False), (410, False, True), (400, False, True),
    (404, False, True), (301, False, True), (429, False, False), (500, False, False),
    (503, False, False)])
async def test_receiver_answers_map_to_sent_retry_or_give_up(status: int, ok: bool,
                                                             permanent: bool) -> None:
    with LocalHttpServer(lambda req: (status, {"Location": "/elsewhere"}, b"")) as peer:
        sender = WebhookSender(StaticTargets({"1": WebhookTarget(peer.url("/h"), "s")}),
                               guard=loopback_guard())
        try:
            result = await sender.send(Message(event_id="e1", channel="webhook",
                                               recipient="1", data={"type": "order.paid"}))
        finally:
            await sender.close()
    assert (result.ok, result.permanent, result.response_code) == (ok, permanent, status)


async def test_timeouts_and_gone_subscriptions() -> None:
    import threading

    release = threading.Event()

    def slow(req: Request) -> tuple[int, dict[str, str], bytes]:
        release.wait(5)
        return 200, {}, b""

    with LocalHttpServer(slow) as peer:
        targets = StaticTargets({"1": WebhookTarget(peer.url("/h"), "s"),
                                 "2": WebhookTarget(peer.url("/h"), "s", active=False)})
        sender = WebhookSender(targets, timeout=0.2, guard=loopback_guard())
        try:
            msg = Message(event_id="e1", channel="webhook", recipient="1",
                          data={"type": "order.paid"})
            timed_out = await sender.send(msg)
            release.set()
            missing = await sender.send(Message(event_id="e1", channel="webhook",
                                                recipient="9", data={}))
            inactive = await sender.send(Message(event_id="e1", channel="webhook",
                                                 recipient="2", data={}))
        finally:
            await sender.close()
    assert not timed_out.ok and not timed_out.permanent and "Timeout" in timed_out.detail
    assert not missing.ok and missing.permanent
    assert not inactive.ok and inactive.permanent


def test_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = b'{"event_id":"e1","type":"order.paid"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_x", 1700000000, body) == f"v1={expected}"


async def test_the_worker_delivers_webhooks_in_order_and_replays_them(
        api: httpx.AsyncClient, clock: Clock, settings: Settings) -> None:
    """The real worker (fan-out, claims, outcomes) with the real webhook sender."""
    from dingdan.workers import Worker
    from dingdan.workers.config import worker_config

    receiver = Receiver()
    uows = uows_of(api)
    clock.now = datetime(2032, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**6))
    # Earlier tests' events in a shared PostgreSQL database are not this test's business:
    # a worker with no channels marks them handled.
    idle = Worker(uows, {}, worker_config(settings, []))
    while await idle.fan_out_all():
        pass
    with LocalHttpServer(receiver) as peer:
        r = await api.post("/api/v1/webhooks", json={"url": peer.url("/h"),
                                                     "event_types": ["order.placed",
                                                                     "order.paid"]})
        receiver.secret, sub_id = r.json()["secret"], r.json()["id"]
        since = clock.now
        number = await place_paid_order(api)
        senders = {"webhook": WebhookSender(WebhookTargetLookup(uows), timeout=5,
                                            guard=outbound_guard(settings))}
        worker = Worker(uows, senders, worker_config(settings, senders))

        async def deliver_all() -> None:
            for _ in range(20):
                await worker.fan_out_all()
                if not await worker.deliver_due():
                    return
            raise AssertionError("the worker did not settle")

        def mine() -> list[dict[str, Any]]:
            return [e for e in receiver.events if e["order_number"] == number]

        try:
            await deliver_all()
            assert [e["type"] for e in mine()] == ["order.placed", "order.paid"]
            first = [e["event_id"] for e in mine()]
            r = await api.post(f"/api/v1/webhooks/{sub_id}/replay", json={
                "since": since.isoformat(), "until": (since + timedelta(hours=1)).isoformat()})
            assert r.json()["queued"] == 2
            await deliver_all()
            assert [e["event_id"] for e in mine()] == first + first
            assert receiver.bad_signatures == 0
        finally:
            await senders["webhook"].close()
    log = (await api.get(f"/api/v1/webhooks/{sub_id}/deliveries")).json()
    assert [(d["status"], d["replay"]) for d in log if d["order_number"] == number] == [
        ("sent", True)] * 2 + [("sent", False)] * 2
