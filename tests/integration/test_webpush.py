"""Web push against a local HTTP endpoint acting as the browser's push service.

The test is the browser: it holds the subscription's private key and auth secret, and
decrypts what the push service received with its own RFC 8291 / RFC 8188 code (only the
primitives of ``cryptography``), and checks the VAPID token (RFC 8292) with the server's
public key. Also the portal's subscribe endpoint and the service worker file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import Clock
from dingdan.adapters.notify.port import Message
from dingdan.adapters.notify.webpush import (
    WebPushSender,
    application_server_key,
    create_vapid_key,
)
from dingdan.domain.events import Actor, ActorKind
from dingdan.services.push import forget_push_subscriptions, push_recipients
from dingdan.settings import Settings
from dingdan.store.uow import UnitOfWorkFactory
from helpers import order_body, seed_catalogue
from peers import LocalHttpServer, Request, loopback_guard

ADMIN = Actor(ActorKind.USER, "1", "admin", roles=frozenset({"admin"}))
SUBJECT = "mailto:ops@dingdan.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A user agent's side of a push subscription (RFC 8291 §2)."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls) -> Browser:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def subscription(self, endpoint: str) -> dict[str, object]:
        return {"endpoint": endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(self.public_bytes), "auth": b64url(self.auth_secret)}}

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8188 aes128gcm framing with the RFC 8291 key derivation."""
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        as_public = body[21:21 + idlen]
        ciphertext = body[21 + idlen:]
        assert idlen == 65 and len(ciphertext) <= rs
        sender_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
        ecdh_secret = self.private_key.exchange(ec.ECDH(), sender_key)

        def hkdf(salt_: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
            prk = hmac.new(salt_, ikm, hashlib.sha256).digest()
            return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()[:length]

        ikm = hkdf(self.auth_secret, ecdh_secret,
                   b"WebPush: info\x00" + self.public_bytes + as_public, 32)
        cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        unpadded = padded.rstrip(b"\x00")
        assert unpadded.endswith(b"\x02"), "the last record ends with delimiter 0x02"
        return unpadded[:-1]


def check_vapid(authorization: str, server_key: str, audience: str) -> dict[str, object]:
    """RFC 8292: ``vapid t=<JWT ES256>, k=<public key>``; returns the JWT claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme.lower() == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == server_key
    header_b64, claims_b64, sig_b64 = parts["t"].split(".")
    assert json.loads(unb64url(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(sig_b64)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                       int.from_bytes(raw[32:], "big")),
                  f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, object] = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience
    assert claims["sub"] == SUBJECT
    assert time.time() < float(str(claims["exp"])) <= time.time() + 24 * 3600
    return claims


def push_service(req: Request) -> tuple[int, dict[str, str], bytes]:
    """Answers as FCM / Mozilla autopush do: 201 Created, or why not."""
    status = {"/gone": 410, "/expired": 404, "/busy": 429, "/down": 502,
              "/too-big": 413}.get(req.path, 201)
    return status, {"Location": "/m/1"} if status == 201 else {}, b""


async def test_push_message_is_encrypted_for_the_subscription_and_signed_with_vapid(
        tmp_path: Path) -> None:
    vapid = create_vapid_key(tmp_path / "vapid.pem")
    browser = Browser.new()
    with LocalHttpServer(push_service) as peer:
        sender = WebPushSender(vapid, SUBJECT, ttl=3600, guard=loopback_guard())
        try:
            message = Message(
                event_id="0b5c3d1e-0000-4000-8000-000000000001", channel="webpush",
                recipient=json.dumps(browser.subscription(peer.url("/push/abc123"))),
                subject="订单已发货", text="您的订单 DD2611110001 已由顺丰发出",
                data={"url": "/portal/orders/DD2611110001", "order_number": "DD2611110001"},
                headers={"Dingdan-Event-Type": "order.shipped", "Urgency": "high"})
            result = await sender.send(message)
        finally:
            await sender.close()
        [req] = peer.requests
    assert result.ok and result.response_code == 201, result
    assert req.method == "POST" and req.path == "/push/abc123"
    assert req.headers["content-encoding"] == "aes128gcm"
    assert req.headers["ttl"] == "3600" and req.headers["urgency"] == "high"
    check_vapid(req.headers["authorization"], application_server_key(vapid),
                f"http://127.0.0.1:{peer.port}")
    shown = json.loads(browser.decrypt(req.body))
    assert shown["title"] == "订单已发货"
    assert shown["body"] == "您的订单 DD2611110001 已由顺丰发出"
    assert shown["url"] == "/portal/orders/DD2611110001"
    assert shown["tag"] == "DD2611110001"
    assert shown["event_id"] == message.event_id and shown["type"] == "order.shipped"
    # another browser cannot read it
    with pytest.raises(Exception):  # noqa: B017 (InvalidTag)
        Browser.new().decrypt(req.body)


@pytest.mark.parametrize(("path", "ok", "permanent", "code"), [
    ("/gone", False, True, 410), ("/expired", False, True, 404),
    ("/too-big", False, True, 413), ("/busy", False, False, 429), ("/down", False, False, 502),
])
async def test_push_service_answers_map_to_give_up_or_retry(tmp_path: Path, path: str, ok: bool,
                                                            permanent: bool, code: int) -> None:
    sender = WebPushSender(create_vapid_key(tmp_path / "v.pem"), SUBJECT,
                           guard=loopback_guard())
    with LocalHttpServer(push_service) as peer:
        try:
            result = await sender.send(Message(
                event_id="e", channel="webpush",
                recipient=json.dumps(Browser.new().subscription(peer.url(path))), text="hi"))
        finally:
            await sender.close()
    assert (result.ok, result.permanent, result.response_code) == (ok, permanent, code)


async def test_a_malformed_subscription_gives_up_without_a_request(tmp_path: Path) -> None:
    sender = WebPushSender(create_vapid_key(tmp_path / "v.pem"), SUBJECT,
                           guard=loopback_guard())
    with LocalHttpServer(push_service) as peer:
        try:
            sub = Browser.new().subscription(peer.url("/p"))
            sub["keys"] = {"p256dh": "bm90IGEga2V5", "auth": "c2hvcnQ"}
            bad_keys = await sender.send(Message("e", "webpush", json.dumps(sub), text="x"))
            not_json = await sender.send(Message("e", "webpush", "{oops", text="x"))
        finally:
            await sender.close()
        assert peer.requests == []
    assert not bad_keys.ok and bad_keys.permanent
    assert not not_json.ok and not_json.permanent


# -- the portal's side: VAPID key, subscribe, unsubscribe, the service worker --------------

@pytest.fixture
async def portal(settings: Settings, clock: Clock, tmp_path: Path,
                 ) -> AsyncIterator[httpx.AsyncClient]:
    from dingdan.web.app import create_app
    from dingdan.web.deps import current_actor

    create_vapid_key(tmp_path / "vapid.pem")
    app = create_app(settings.model_copy(update={"vapid_key_file": tmp_path / "vapid.pem"}),
                     clock)
    app.dependency_overrides[current_actor] = lambda: ADMIN  # for placing orders
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


async def test_customer_subscribes_to_an_order_with_proof_and_unsubscribes(
        portal: httpx.AsyncClient, tmp_path: Path) -> None:
    from dingdan.adapters.notify.webpush import load_vapid_key
    from dingdan.web.api.push import optional_actor

    cat = await seed_catalogue(portal, {"A": 3})
    r = await portal.post("/api/v1/orders", json=order_body([(cat["skus"]["A"], 1)]))
    number = r.json()["number"]
    r = await portal.get("/api/v1/push/vapid-public-key")
    assert r.json()["public_key"] == application_server_key(
        load_vapid_key(tmp_path / "vapid.pem"))

    browser = Browser.new()
    sub = browser.subscription(f"https://fcm.googleapis.com/fcm/send/{os.urandom(8).hex()}")
    url = "/api/v1/push/subscriptions"
    wrong = await portal.post(url, json={"subscription": sub, "order_number": number,
                                         "contact": "13900000000"})
    unknown = await portal.post(url, json={"subscription": sub, "order_number": "DD-NONE",
                                           "contact": "13800138000"})
    no_proof = await portal.post(url, json={"subscription": sub, "order_number": number})
    customer_wide = await portal.post(url, json={"subscription": sub,
                                                 "customer_key": "13800138000",
                                                 "contact": "13800138000"})
    assert (wrong.status_code, unknown.status_code) == (404, 404)
    assert wrong.json()["code"] == unknown.json()["code"] == "NOT_FOUND"
    assert no_proof.status_code == 401 and customer_wide.status_code == 401
    bad = await portal.post(url, json={"subscription": {**sub, "keys": {"p256dh": "x",
                                                                        "auth": "y"}},
                                       "order_number": number, "contact": "13800138000"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "subscription"

    by_phone = await portal.post(url, json={"subscription": sub, "order_number": number,
                                            "contact": "138 0013 8000"})
    assert by_phone.status_code == 201, by_phone.text
    by_email = await portal.post(url, json={"subscription": sub, "order_number": number,
                                            "contact": "Zhang.Wei@Example.com"})
    assert by_email.status_code == 201 and by_email.json()["id"] == by_phone.json()["id"]

    uows: UnitOfWorkFactory = portal.app.state.uow  # type: ignore[attr-defined]
    async with uows(read_only=True) as uow:
        recipients = await push_recipients(uow, number)
    assert [json.loads(r) for r in recipients] == [
        {"endpoint": sub["endpoint"], "keys": sub["keys"]}]

    # the back office (signed in) may follow every order of a customer
    portal.app.dependency_overrides[optional_actor] = lambda: ADMIN  # type: ignore[attr-defined]
    other = Browser.new().subscription("https://updates.push.services.mozilla.com/wpush/v2/x1")
    r = await portal.post(url, json={"subscription": other,
                                     "customer_key": "Zhang.Wei@example.com"})
    assert r.status_code == 201 and r.json()["customer_key"] == "zhang.wei@example.com"
    async with uows(read_only=True) as uow:
        assert len(await push_recipients(uow, None, ["zhang.wei@example.com"])) == 1
        assert len(await push_recipients(uow, number, ["zhang.wei@example.com"])) == 2

    # a push service said 410 for the second one: the worker forgets it
    assert await forget_push_subscriptions([json.dumps(other)], uows()) == 1
    r = await portal.delete(url, params={"endpoint": sub["endpoint"]})
    assert r.status_code == 204
    r = await portal.delete(url, params={"endpoint": sub["endpoint"]})
    assert r.status_code == 404
    async with uows(read_only=True) as uow:
        assert await push_recipients(uow, number, ["zhang.wei@example.com"]) == []


async def test_service_worker_is_served_from_the_root(portal: httpx.AsyncClient) -> None:
    r = await portal.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/"
    assert "showNotification" in r.text and "notificationclick" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # nothing from a CDN


async def test_no_vapid_key_means_no_push(settings: Settings, clock: Clock,
                                          tmp_path: Path) -> None:
    from dingdan.web.app import create_app

    app = create_app(settings.model_copy(update={"vapid_key_file": tmp_path / "none.pem"}),
                     clock)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test") as c:
            r = await c.get("/api/v1/push/vapid-public-key")
    assert r.status_code == 404


async def test_a_long_message_is_shortened_to_what_push_services_accept(tmp_path: Path) -> None:
    browser = Browser.new()
    with LocalHttpServer(push_service) as peer:
        sender = WebPushSender(create_vapid_key(tmp_path / "v.pem"), SUBJECT,
                           guard=loopback_guard())
        try:
            result = await sender.send(Message(
                event_id="e", channel="webpush",
                recipient=json.dumps(browser.subscription(peer.url("/p"))),
                subject="延误通知", text="您的包裹因天气原因延误。" * 400,
                data={"url": "/portal/orders/DD1", "history": ["x" * 100] * 50}))
        finally:
            await sender.close()
        [req] = peer.requests
    assert result.ok
    assert len(req.body) <= 4096  # RFC 8030: what every push service must take
    shown = json.loads(browser.decrypt(req.body))
    assert shown["title"] == "延误通知" and shown["body"].endswith("…")
    assert shown["url"] == "/portal/orders/DD1"
