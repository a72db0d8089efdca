"""A request id for every request: taken from ``X-Request-ID`` when a proxy sent a sane one,
else made here; bound to every log line written while the request is served (structlog's
context variables), kept in ``scope["state"]["request_id"]`` for the error pages, and echoed
in the response's ``X-Request-ID`` header.

Pure ASGI (no ``BaseHTTPMiddleware``), so streamed answers (server-sent events) pass through
untouched and the context variables reach the endpoint.
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bound_contextvars

HEADER = "X-Request-ID"
# What proxies and load balancers send (UUIDs, hex, "Root=1-5759e988-bd86…"), and nothing
# that could break a log line or a header: no spaces, quotes, angle brackets or non-ASCII.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/@-]{0,127}")


def request_id(scope: Scope) -> str:
    """The id of the request being served ("" outside :class:`RequestIdMiddleware`)."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def _choose(sent: str | None) -> str:
    if sent is not None and _SANE.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _choose(Headers(scope=scope).get(HEADER))
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        with bound_contextvars(request_id=rid):
            await self.app(scope, receive, send_with_id)
