"""Server-side request forgery, refused (issue 15, items 4 and 14): webhook URLs and push
endpoints that reach loopback, private, link-local or metadata addresses are refused when
they are registered and again at every connection (DNS rebinding); the allow-list lets an
on-premise receiver through; a receiver's body stays out of the delivery log; only staff who
may read personal data follow a customer's pushes, and anonymous attempts are limited.

Receivers are real local HTTP servers (tests/peers.py) on 127.0.0.1 — exactly the kind of
address the guard refuses, which is what these tests need: a refusal here means a live
service was not reached, and the allowed control case shows it was reachable.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from conftest import Clock
from dingdan.adapters.netguard import (
    OutboundGuard,
    OutboundRefused,
    guarded_client,
)
from dingdan.adapters.notify.port import Message
from dingdan.adapters.notify.webhook import StaticTargets, WebhookSender, WebhookTarget
from dingdan.adapters.notify.webpush import WebPushSender, create_vapid_key
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.outbound import IPAddress
from dingdan.services.push import push_recipients
from dingdan.services.webhooks import WebhookTargetLookup
from dingdan.settings import Settings
from dingdan.store.uow import UnitOfWorkFactory
from helpers import order_body, seed_catalogue
from peers import LOOPBACK, LocalHttpServer, loopback_guard

ADMIN = Actor(ActorKind.USER, "1", "admin", roles=frozenset({"admin"}))
API = "/api/v1"
KEYS = {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1"
                  "XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}

# (url, the problem's code): syntax is a plain validation failure, a destination is refused
REFUSED = [
    ("http://127.0.0.1/hook", "URL_NOT_ALLOWED"),
    ("http://localhost:8080/hook", "URL_NOT_ALLOWED"),
    ("http://[::1]/hook", "URL_NOT_ALLOWED"),
    ("http://[::ffff:127.0.0.1]/hook", "URL_NOT_ALLOWED"),
    ("http://2130706433/hook", "URL_NOT_ALLOWED"),
    ("http://0x7f000001/hook", "URL_NOT_ALLOWED"),
    ("http://0177.0.0.1/hook", "URL_NOT_ALLOWED"),
    ("http://127.1/hook", "URL_NOT_ALLOWED"),
    ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "URL_NOT_ALLOWED"),
    ("http://metadata.google.internal/computeMetadata/v1/", "URL_NOT_ALLOWED"),
    ("http://10.0.0.1/hook", "URL_NOT_ALLOWED"),
    ("http://172.16.5.4/hook", "URL_NOT_ALLOWED"),
    ("http://192.168.1.1/hook", "URL_NOT_ALLOWED"),
    ("http://100.64.0.1/hook", "URL_NOT_ALLOWED"),
    ("http://[fd00::1]/hook", "URL_NOT_ALLOWED"),
    ("http://0.0.0.0:8000/hook", "URL_NOT_ALLOWED"),
    ("file:///etc/passwd", "VALIDATION_FAILED"),
    ("gopher://127.0.0.1:6379/_INFO", "VALIDATION_FAILED"),
    ("http://user@example.com/hook", "VALIDATION_FAILED"),
]


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """Production's rule: no allow-list (the suite's settings allow loopback)."""
    return settings.model_copy(update={"outbound_allow": []})


async def app_client(settings: Settings, clock: Clock,
                     actor: Actor | None = ADMIN) -> AsyncIterator[httpx.AsyncClient]:
    """The app with ``actor`` behind every request (None: nobody signed in). Webhook
    subscriptions it made are deleted at the end: PostgreSQL tests share a database."""
    from dingdan.web.api.push import optional_actor
    from dingdan.web.app import create_app
    from dingdan.web.deps import current_actor

    app = create_app(settings, clock)
    if actor is not None:
        app.dependency_overrides[current_actor] = lambda: actor
        app.dependency_overrides[optional_actor] = lambda: actor
    made: list[int] = []

    async def remember(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.request.url.path == f"{API}/webhooks":
            await response.aread()
            if response.status_code == 201:
                made.append(response.json()["id"])

    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test",
                                     event_hooks={"response": [remember]}) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
            for sub_id in made:
                await c.delete(f"{API}/webhooks/{sub_id}")


@pytest.fixture
async def api(strict: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async for c in app_client(strict, clock):
        yield c


def uows_of(client: httpx.AsyncClient) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = client.app.state.uow  # type: ignore[attr-defined]
    return factory


async def place_order(client: httpx.AsyncClient, pay: bool = False) -> str:
    cat = await seed_catalogue(client, {"A": 5})
    r = await client.post(f"{API}/orders", json=order_body([(cat["skus"]["A"], 1)]))
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    if pay:
        r = await client.post(f"{API}/orders/{number}/pay", json={"payment_reference": "A-1"})
        assert r.status_code == 200, r.text
    return number


async def webhook_urls(client: httpx.AsyncClient) -> list[str]:
    return [h["url"] for h in (await client.get(f"{API}/webhooks")).json()]


# -- at registration ------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "code"), REFUSED, ids=[u for u, _ in REFUSED])
async def test_a_webhook_to_an_internal_address_is_refused_and_nothing_is_saved(
        api: httpx.AsyncClient, url: str, code: str) -> None:
    before = await webhook_urls(api)
    r = await api.post(f"{API}/webhooks", json={"url": url, "event_types": ["*"]},
                       headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == code and [e["loc"] for e in problem["errors"]] == ["url"]
    if code == "URL_NOT_ALLOWED":
        assert problem["title"] == "不允许的地址" and "不能向此地址发送" in problem["detail"]
    assert await webhook_urls(api) == before

    # nor can an existing subscription be pointed there
    r = await api.post(f"{API}/webhooks", json={"url": "https://erp.example.com/dingdan",
                                                "event_types": ["*"]})
    assert r.status_code == 201, r.text
    r = await api.patch(f"{API}/webhooks/{r.json()['id']}", json={"url": url})
    assert r.status_code == 422 and r.json()["code"] == code
    assert "https://erp.example.com/dingdan" in await webhook_urls(api)
    assert url not in await webhook_urls(api)


@pytest.mark.parametrize(("url", "code"), REFUSED, ids=[u for u, _ in REFUSED])
async def test_a_push_endpoint_at_an_internal_address_is_refused_even_with_the_orders_proof(
        strict: Settings, clock: Clock, url: str, code: str) -> None:
    async for staff in app_client(strict, clock):
        number = await place_order(staff)
        async for customer in app_client(strict, clock, actor=None):
            r = await customer.post(f"{API}/push/subscriptions", json={
                "subscription": {"endpoint": url, "keys": KEYS}, "order_number": number,
                "contact": "13800138000"})
            assert r.status_code == 422, r.text
            # the push endpoint's own checks refuse other schemes; credentials, the guard
            assert r.json()["code"] == ("URL_NOT_ALLOWED" if url.startswith("http") else code)
            assert r.json()["errors"][0]["loc"] in ("subscription", "subscription.endpoint")
        async with uows_of(staff)(read_only=True) as uow:
            assert await push_recipients(uow, number) == []


async def test_a_name_that_resolves_to_an_internal_address_is_refused_at_registration(
        api: httpx.AsyncClient) -> None:
    async def internal(host: str, port: int) -> list[IPAddress]:
        return [ip_address("93.184.216.34"), ip_address("10.1.2.3")]  # one is enough

    api.app.state.outbound_guard = OutboundGuard(resolver=internal)  # type: ignore[attr-defined]
    r = await api.post(f"{API}/webhooks", json={"url": "https://erp.corp.example/h",
                                                "event_types": ["*"]})
    assert r.status_code == 422 and r.json()["params"]["reason"] == "private"
    assert "10.1.2.3" not in r.text  # what a name resolves to inside is not told


# -- at every connection --------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f000001", "127.1",
                                  "[::ffff:127.0.0.1]", "localhost", "[::1]"])
async def test_the_connection_itself_refuses_a_live_loopback_service(host: str) -> None:
    with LocalHttpServer(lambda req: (200, {}, b"internal admin console")) as peer:
        strict_client = guarded_client(OutboundGuard())
        allowed_client = guarded_client(loopback_guard())
        try:
            with pytest.raises(OutboundRefused, match="loopback"):
                await strict_client.get(f"http://{host}:{peer.port}/admin")
            assert peer.requests == []
            r = await allowed_client.get(f"http://127.0.0.1:{peer.port}/admin")
        finally:
            await strict_client.aclose()
            await allowed_client.aclose()
        assert r.text == "internal admin console" and len(peer.requests) == 1


async def test_a_refused_webhook_and_push_give_up_at_once_and_reach_nothing(
        tmp_path: Any) -> None:
    with LocalHttpServer(lambda req: (200, {}, b"secret internal answer")) as peer:
        hook = WebhookSender(StaticTargets({"1": WebhookTarget(peer.url("/h"), "s")}))
        push = WebPushSender(create_vapid_key(tmp_path / "v.pem"), "mailto:ops@example.com")
        try:
            hooked = await hook.send(Message("e1", "webhook", "1", data={"type": "x.y"}))
            pushed = await push.send(Message("e1", "webpush", json.dumps(
                {"endpoint": peer.url("/push"), "keys": KEYS}), text="hi"))
        finally:
            await hook.close()
            await push.close()
        assert peer.requests == []
    for result in (hooked, pushed):
        assert not result.ok and result.permanent  # a retry would be refused again
        assert "loopback" in result.detail and "secret" not in result.detail


class Rebinding:
    """A name server under an attacker's control: a public address while the URL is being
    checked, then 127.0.0.1."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ip_address(a) for a in answers]
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [self.answers[min(len(self.asked), len(self.answers)) - 1]]


async def test_dns_rebinding_after_registration_is_refused_by_the_connection_check(
        api: httpx.AsyncClient, clock: Clock, strict: Settings) -> None:
    from dingdan.workers import Worker
    from dingdan.workers.config import worker_config

    uows = uows_of(api)
    clock.now = datetime(2033, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**6))
    idle = Worker(uows, {}, worker_config(strict, []))  # earlier tests' events: not ours
    while await idle.fan_out_all():
        pass
    dns = Rebinding("93.184.216.34", "127.0.0.1")
    guard = OutboundGuard(resolver=dns)
    api.app.state.outbound_guard = guard  # type: ignore[attr-defined]
    with LocalHttpServer(lambda req: (200, {}, b"internal")) as peer:
        r = await api.post(f"{API}/webhooks", json={
            "url": f"http://hooks.attacker.example:{peer.port}/h", "event_types": ["order.paid"]})
        assert r.status_code == 201, r.text  # it looked public when it was registered
        sub_id = r.json()["id"]
        number = await place_order(api, pay=True)
        senders = {"webhook": WebhookSender(WebhookTargetLookup(uows), guard=guard)}
        worker = Worker(uows, senders, worker_config(strict, senders))
        try:
            await worker.fan_out_all()
            await worker.deliver_due()
        finally:
            await senders["webhook"].close()
        assert peer.requests == []
    assert dns.asked == ["hooks.attacker.example"] * 2  # registration, then the connection
    [log] = [d for d in (await api.get(f"{API}/webhooks/{sub_id}/deliveries")).json()
             if d["order_number"] == number]
    assert log["status"] == "dead" and log["attempts"] == 1
    assert "refused to connect to hooks.attacker.example (127.0.0.1)" in log["last_error"]


async def test_the_allow_list_lets_an_on_premise_receiver_through(
        settings: Settings, clock: Clock) -> None:
    """The suite's settings allow loopback (DINGDAN_OUTBOUND_ALLOW); a name can be allowed
    too, whatever it resolves to."""
    assert settings.outbound_allow == list(LOOPBACK)
    on_premise = settings.model_copy(update={"outbound_allow": ["erp.corp.example"]})
    with LocalHttpServer(lambda req: (200, {}, b"ok")) as peer:
        async for client in app_client(settings, clock):
            r = await client.post(f"{API}/webhooks", json={"url": peer.url("/h"),
                                                           "event_types": ["*"]})
            assert r.status_code == 201, r.text
        async for client in app_client(on_premise, clock):
            r = await client.post(f"{API}/webhooks", json={"url": peer.url("/h"),
                                                           "event_types": ["*"]})
            assert r.status_code == 422  # loopback is not on this list

        async def erp(host: str, port: int) -> list[IPAddress]:
            return [ip_address("127.0.0.1")]

        guard = OutboundGuard.allowing(on_premise.outbound_allow, resolver=erp)
        sender = WebhookSender(StaticTargets({"1": WebhookTarget(
            f"http://erp.corp.example:{peer.port}/h", "s")}), guard=guard)
        try:
            result = await sender.send(Message("e1", "webhook", "1", data={"type": "x.y"}))
        finally:
            await sender.close()
        assert result.ok, result
        assert peer.requests[-1].headers["host"] == f"erp.corp.example:{peer.port}"


# -- what the delivery log keeps ------------------------------------------------------------

SECRET_PAGE = (b"Internal Server Error\n" + b"root:x:0:0:root:/root:/bin/bash\n" * 320
               + b"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")


async def test_a_receivers_body_stays_out_of_the_delivery_log(
        settings: Settings, clock: Clock) -> None:
    from dingdan.adapters.notify.registry import close_senders
    from dingdan.workers import Worker, build_channels
    from dingdan.workers.config import worker_config

    assert len(SECRET_PAGE) > 10_000
    with LocalHttpServer(lambda req: (500, {"Content-Type": "text/plain"}, SECRET_PAGE)) as peer:
        async for api in app_client(settings, clock):
            uows = uows_of(api)
            clock.now = datetime(2034, 1, 1, tzinfo=UTC) + timedelta(
                minutes=random.randrange(10**6))
            idle = Worker(uows, {}, worker_config(settings, []))
            while await idle.fan_out_all():
                pass
            r = await api.post(f"{API}/webhooks", json={"url": peer.url("/h"),
                                                        "event_types": ["order.paid"]})
            sub_id = r.json()["id"]
            number = await place_order(api, pay=True)
            senders = build_channels(settings, uows)  # as `dingdan worker` builds them
            worker = Worker(uows, senders, worker_config(settings, senders))
            try:
                await worker.fan_out_all()
                await worker.deliver_due()
            finally:
                await close_senders(senders)
            [log] = [d for d in (await api.get(f"{API}/webhooks/{sub_id}/deliveries")).json()
                     if d["order_number"] == number]
        assert len(peer.requests) == 1
    error = log["last_error"]
    assert log["status"] == "pending" and log["response_code"] == 500  # 5xx: retried later
    assert error.startswith("HTTP 500: Internal Server Error root:x:0:0"), error
    assert len(error) <= 220 and error.count("root:x") <= 6
    assert "AWS_SECRET" not in error and "\n" not in error


# -- who may follow a customer's pushes (item 14) ---------------------------------------------

def push_body(**extra: Any) -> dict[str, Any]:
    endpoint = f"https://push.example.com/{os.urandom(6).hex()}"
    return {"subscription": {"endpoint": endpoint, "keys": KEYS}, **extra}


@pytest.mark.parametrize("role", ["viewer", "finance"])
async def test_staff_without_pii_read_cannot_follow_a_customers_pushes(
        app_client: httpx.AsyncClient, role_client: Callable[..., Awaitable[httpx.AsyncClient]],
        role: str) -> None:
    number = await place_order(app_client)
    phone = f"139{random.randrange(10**8):08d}"  # a customer of this test's own
    client = await role_client(role)
    by_phone = await client.post(f"{API}/push/subscriptions", json=push_body(customer_key=phone))
    by_order = await client.post(f"{API}/push/subscriptions", json=push_body(order_number=number))
    for r in (by_phone, by_order):
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN", r.text
    async with uows_of(app_client)(read_only=True) as uow:
        assert await push_recipients(uow, number, [f"+86{phone}"]) == []
    service = await role_client("customer_service")
    r = await service.post(f"{API}/push/subscriptions", json=push_body(customer_key=phone))
    assert r.status_code == 201 and r.json()["customer_key"] == f"+86{phone}", r.text


async def test_anonymous_subscribing_is_limited_per_order_and_per_address(
        settings: Settings, clock: Clock) -> None:
    limited = settings.model_copy(update={"push_subscribe_limit_per_order": "3/hour",
                                          "push_subscribe_limit_per_ip": "5/hour"})
    async for staff in app_client(limited, clock):
        first, second = await place_order(staff), await place_order(staff)
        async for customer in app_client(limited, clock, actor=None):
            url = f"{API}/push/subscriptions"
            guesses = [await customer.post(url, json=push_body(
                order_number=first, contact=f"1390000000{i}")) for i in range(3)]
            assert [g.status_code for g in guesses] == [404, 404, 404]
            r = await customer.post(url, json=push_body(order_number=first,
                                                        contact="13800138000"))
            assert r.status_code == 429 and r.json()["code"] == "RATE_LIMITED", r.text
            assert 0 < int(r.headers["retry-after"]) <= 3600
            # another order from the same address: two more tries, then the address is spent
            ok = await customer.post(url, json=push_body(order_number=second,
                                                         contact="13800138000"))
            assert ok.status_code == 201, ok.text
            assert (await customer.post(url, json=push_body(
                order_number=second, contact="13900000009"))).status_code == 404
            r = await customer.post(url, json=push_body(order_number=second,
                                                        contact="13800138000"))
            assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # signed-in staff are not counted
        r = await staff.post(url, json=push_body(order_number=first))
        assert r.status_code == 201, r.text
        async with uows_of(staff)(read_only=True) as uow:
            assert len(await push_recipients(uow, second)) == 1
