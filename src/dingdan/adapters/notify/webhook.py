"""Webhook channel: a signed JSON POST to an integrator's URL.

Every request carries

    Content-Type: application/json
    Dingdan-Event-Id: <event id, the same on every retry and replay>
    Dingdan-Event-Type: order.shipped
    Dingdan-Timestamp: <Unix seconds when this attempt was signed>
    Dingdan-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

and the body is the event (``message.data``) as compact UTF-8 JSON. ``docs/webhooks.md``
tells receivers how to verify it. Answers: 2xx sent (the code is kept for the delivery log);
410 Gone gives up, the receiver has said the subscription is over; other 3xx/4xx give up,
except 408 and 429 which ask to come back later; 5xx, timeouts and refused connections retry.

Every connection goes through the outbound guard (``dingdan.adapters.netguard``): a URL that
resolves to a loopback, private, link-local or metadata address *when it is sent to* gives up
with "refused to connect …", however it looked when it was registered.

The sender knows subscriptions only through a :class:`WebhookTargets` lookup, which maps a
message's ``recipient`` (a subscription id) to the URL and secret *at send time*: secrets stay
out of queued messages, a rotated secret applies to the next retry, and a deleted or
deactivated subscription stops its retries.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

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

SIGNATURE_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: str
    secret: str
    active: bool = True


class WebhookTargets(Protocol):
    """Finds the subscription behind a recipient; ``None`` when it no longer exists."""

    async def __call__(self, recipient: str) -> WebhookTarget | None: ...


class StaticTargets:
    """A fixed recipient → target table (tests, or a single configured endpoint)."""

    def __init__(self, targets: Mapping[str, WebhookTarget]) -> None:
        self.targets = dict(targets)

    async def __call__(self, recipient: str) -> WebhookTarget | None:
        return self.targets.get(recipient)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``Dingdan-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


class WebhookSender:
    channel = "webhook"

    def __init__(self, targets: WebhookTargets, *, timeout: float = 10.0,
                 guard: OutboundGuard | None = None,
                 client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time,
                 user_agent: str = "Dingdan-Webhooks/1") -> None:
        """``guard``: the outbound rule (default: no internal address at all). A ``client``
        given instead is used as it is — a unit test's, not guarded."""
        self.targets = targets
        self.guard = guard or OutboundGuard()
        self._clock = clock
        self._user_agent = user_agent
        self._owns_client = client is None
        # Redirects are not followed: a receiver that moved must be re-subscribed, or a
        # signed event could be handed to a host the merchant never chose.
        self._client = client or guarded_client(self.guard, timeout=timeout,
                                                follow_redirects=False)

    def request(self, message: Message, target: WebhookTarget) -> tuple[bytes, dict[str, str]]:
        body = json_bytes(message.data)
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self._user_agent,
            "Dingdan-Event-Id": message.event_id,
            "Dingdan-Event-Type": event_type_of(message),
            "Dingdan-Timestamp": str(timestamp),
            "Dingdan-Signature": sign(target.secret, timestamp, body),
        }
        return body, headers

    async def send(self, message: Message) -> SendResult:
        target = await self.targets(message.recipient)
        if target is None:
            return SendResult.give_up(f"webhook subscription {message.recipient} not found")
        if not target.active:
            return SendResult.give_up(f"webhook subscription {message.recipient} is inactive")
        try:
            self.guard.check_url(target.url)
        except UrlNotAllowed as exc:
            return SendResult.give_up(f"refused to send: {exc.details[0].message}")
        body, headers = self.request(message, target)
        try:
            status, answer = await post(self._client, target.url, body, headers)
        except httpx.InvalidURL as exc:
            return invalid_url(exc)
        except httpx.HTTPError as exc:
            return transport_failure(exc)
        return by_status(status, answer)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()
