"""Helpers the HTTP-speaking channels share: the event type of a message, canonical JSON, and
how a transport failure or an HTTP status maps onto a :class:`SendResult`.

Private to ``dingdan.adapters``; nothing here does I/O.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from dingdan.adapters.notify.port import Message, SendResult

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


def transport_failure(exc: httpx.HTTPError) -> SendResult:
    """Timeouts, refused connections, resets: the peer may be back later, so retry."""
    kind = type(exc).__name__
    return SendResult.retry(f"{kind}: {exc}"[:500])


def by_status(status: int, body: str, gone: frozenset[int] = frozenset({410})) -> SendResult:
    """The usual HTTP answer mapping.

    2xx sent; ``gone`` statuses give up (the recipient no longer exists); 408 and 429 retry
    (the peer asks to come back later); other 3xx/4xx give up (the request itself is wrong
    and sending it again cannot help); 5xx retry.
    """
    detail = body[:500]
    if 200 <= status < 300:
        return SendResult.sent(detail, status)
    if status in gone:
        return SendResult.give_up(f"gone ({status}): {detail}", status)
    if status in (408, 429) or status >= 500:
        return SendResult.retry(f"HTTP {status}: {detail}", status)
    return SendResult.give_up(f"HTTP {status}: {detail}", status)
