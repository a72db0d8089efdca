"""Web push channel: encrypted messages to a browser's push service, with VAPID.

A message's ``recipient`` is the browser's ``PushSubscription`` as JSON
(``{"endpoint": …, "keys": {"p256dh": …, "auth": …}}``). The payload — a small JSON object
the service worker (``web/static/sw.js``) shows as a notification — is encrypted with
``aes128gcm`` for that subscription (RFC 8291, done by pywebpush) and POSTed to the endpoint
with a VAPID ``Authorization: vapid t=<JWT>,k=<public key>`` header (RFC 8292, py_vapid).

Answers: 201/2xx sent; 404 and 410 give up — the subscription is gone and should be forgotten;
413 and other 4xx give up; 429 and 5xx retry.

The POST goes through the outbound guard (``dingdan.adapters.netguard``): an endpoint that
resolves to an internal address when it is sent to gives up. pywebpush only encrypts here
(``WebPusher.encode``); its own sending (``requests``, unguarded) is never used.

The VAPID key pair lives in one PEM file (``Settings.vapid_key_file``), made once by
``dingdan vapid``; its public half is the ``applicationServerKey`` browsers subscribe with.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPusher

from dingdan.adapters.netguard import OutboundGuard, guarded_client
from dingdan.adapters.notify._common import (
    by_status,
    event_type_of,
    invalid_url,
    json_bytes,
    post,
    transport_failure,
)
from dingdan.adapters.notify.port import Message, SendResult
from dingdan.domain.errors import UrlNotAllowed

# RFC 8030 push services must accept at least 4096 bytes of body; aes128gcm adds an 86-byte
# header, a padding delimiter and a 16-byte tag.
MAX_PLAINTEXT = 4096 - 86 - 17
VAPID_LIFETIME = 12 * 3600  # RFC 8292: no more than 24 hours


def create_vapid_key(path: Path) -> Vapid:
    """Make a new P-256 VAPID key pair and save the private key as PEM, readable by us only."""
    vapid = Vapid()
    vapid.generate_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(vapid.private_pem())
    return vapid


def load_vapid_key(path: Path) -> Vapid:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path} does not hold a P-256 private key")
    return Vapid(key)


def application_server_key(vapid: Vapid) -> str:
    """The public key as browsers want it: base64url of the uncompressed point, no padding."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parse_subscription(text: str) -> dict[str, Any]:
    """The PushSubscription JSON, checked enough to encrypt for it; ValueError otherwise."""
    sub = json.loads(text)
    if not isinstance(sub, dict):
        raise ValueError("a push subscription is a JSON object")
    endpoint = sub.get("endpoint")
    keys = sub.get("keys")
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("https", "http"):
        raise ValueError("endpoint must be an http(s) URL")
    if not isinstance(keys, dict) or not all(isinstance(keys.get(k), str)
                                             for k in ("p256dh", "auth")):
        raise ValueError("keys.p256dh and keys.auth are required")
    # RFC 8291: p256dh is an uncompressed P-256 point, auth a 16-byte secret (base64url).
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64url(keys["p256dh"]))
    if len(_b64url(keys["auth"])) != 16:
        raise ValueError("keys.auth must be 16 bytes")
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def notification(message: Message) -> dict[str, Any]:
    """What the service worker receives: a title, a body, where a click goes, the event."""
    data = message.data
    return {"event_id": message.event_id, "type": event_type_of(message) or None,
            "title": message.subject or "Dingdan 订单", "body": message.text,
            "url": data.get("url"), "tag": data.get("order_number") or data.get("order"),
            "data": data}


def _payload(message: Message) -> bytes:
    note = notification(message)
    payload = json_bytes(note)
    if len(payload) > MAX_PLAINTEXT:  # keep what the notification shows, drop the extras
        note["data"] = {}
        payload = json_bytes(note)
    while len(payload) > MAX_PLAINTEXT and note["body"]:  # then shorten the text itself
        body = str(note["body"]).encode()
        cut = max(0, len(body) * MAX_PLAINTEXT // len(payload) - 16)  # escapes grow the JSON
        note["body"] = body[:cut].decode("utf-8", "ignore") + "…" if cut else ""
        payload = json_bytes(note)
    return payload


class WebPushSender:
    channel = "webpush"

    def __init__(self, vapid: Vapid, subject: str, *, ttl: int = 86_400, timeout: float = 10.0,
                 guard: OutboundGuard | None = None,
                 client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``guard``: the outbound rule (default: no internal address at all)."""
        self.vapid = vapid
        self.subject = subject  # mailto: or https: — whom a push service may contact
        self.ttl = ttl
        self.guard = guard or OutboundGuard()
        self._clock = clock
        self._owns_client = client is None
        self._client = client or guarded_client(self.guard, timeout=timeout)

    def request(self, message: Message) -> tuple[str, bytes, dict[str, str]]:
        """Encrypt for the subscription and sign for its push service (raises on a bad one)."""
        sub = parse_subscription(message.recipient)
        body = WebPusher(sub).encode(_payload(message), "aes128gcm")["body"]
        endpoint: str = sub["endpoint"]
        parts = urlsplit(endpoint)
        claims = {"sub": self.subject, "aud": f"{parts.scheme}://{parts.netloc}",
                  "exp": int(self._clock()) + VAPID_LIFETIME}
        headers = {"Content-Encoding": "aes128gcm", "Content-Type": "application/octet-stream",
                   "TTL": str(self.ttl),
                   "Urgency": message.headers.get("Urgency", "normal"),
                   **self.vapid.sign(claims)}
        return endpoint, bytes(body), headers

    async def send(self, message: Message) -> SendResult:
        try:
            endpoint, body, headers = self.request(message)
        except Exception as exc:  # malformed JSON, bad keys, invalid curve point…
            return SendResult.give_up(f"invalid push subscription: {exc}"[:300])
        try:
            self.guard.check_url(endpoint)
        except UrlNotAllowed as exc:
            return SendResult.give_up(f"refused to send: {exc.details[0].message}")
        try:
            status, answer = await post(self._client, endpoint, body, headers)
        except httpx.InvalidURL as exc:
            return invalid_url(exc)
        except httpx.HTTPError as exc:
            return transport_failure(exc)
        return by_status(status, answer, gone=frozenset({404, 410}))

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()
