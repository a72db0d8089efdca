"""Helpers the HTTP-speaking channels share: the event type of a message, canonical JSON, a
POST that reads no more of the answer than it keeps, and how a transport failure or an HTTP
status maps onto a :class:`SendResult`.

What a :class:`SendResult` says about the receiver's answer ends up in the delivery log
(``last_error``), which people read: it is the status and a short printable excerpt
(``dingdan.domain.outbound.excerpt``), never the receiver's body.

Private to ``dingdan.adapters``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from dingdan.adapters.netguard import OutboundRefused
from dingdan.adapters.notify.port import Message, SendResult
from dingdan.domain.outbound import excerpt

ANSWER_BYTES = 1024  # read of a receiver's answer: enough for the excerpt, whatever it sends

EVENT_TYPE_HEADER = "Dingdan-Event-Type"


def event_type_of(message: Message) -> str:
    """The order event a message is about (``order.shipped``).

    Taken from ``message.headers["Dingdan-Event-Type"]``, else from ``message.data["type"]``
    (an outbox payload carries it there); empty when neither says.
    """
    value = message.headers.get(EVENT_TYPE_HEADER) or message.data.get("type") or ""
    return str(value)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese stays readable; a receiver signs exactly these bytes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str).encode("utf-8")


async def post(client: httpx.AsyncClient, url: str, body: bytes,
               headers: dict[str, str]) -> tuple[int, str]:
    """POST and return the status and the start of the answer (at most ANSWER_BYTES are
    read: a receiver that answers a gigabyte costs us a kilobyte)."""
    async with client.stream("POST", url, content=body, headers=headers) as response:
        head = b""
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= ANSWER_BYTES:
                break
        try:
            text = head[:ANSWER_BYTES].decode(response.charset_encoding or "utf-8", "replace")
        except LookupError:  # a charset Python does not know
            text = head[:ANSWER_BYTES].decode("utf-8", "replace")
        return response.status_code, text


def invalid_url(exc: httpx.InvalidURL) -> SendResult:
    """httpx cannot even build the request: the URL will not get better."""
    return SendResult.give_up(excerpt(f"invalid URL: {exc}"))


def transport_failure(exc: httpx.HTTPError) -> SendResult:
    """Timeouts, refused connections, resets: the peer may be back later, so retry. A
    connection the outbound guard refused will not be allowed later either: give up."""
    if isinstance(exc, OutboundRefused | httpx.UnsupportedProtocol):
        return SendResult.give_up(excerpt(str(exc)))
    kind = type(exc).__name__
    return SendResult.retry(excerpt(f"{kind}: {exc}"))


def by_status(status: int, body: str, gone: frozenset[int] = frozenset({410})) -> SendResult:
    """The usual HTTP answer mapping.

    2xx sent; ``gone`` statuses give up (the recipient no longer exists); 408 and 429 retry
    (the peer asks to come back later); other 3xx/4xx give up (the request itself is wrong
    and sending it again cannot help); 5xx retry.
    """
    detail = excerpt(body)
    if 200 <= status < 300:
        return SendResult.sent(detail, status)
    if status in gone:
        return SendResult.give_up(f"gone ({status}): {detail}", status)
    if status in (408, 429) or status >= 500:
        return SendResult.retry(f"HTTP {status}: {detail}", status)
    return SendResult.give_up(f"HTTP {status}: {detail}", status)
