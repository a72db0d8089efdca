"""A limit on request bodies, before anything reads them: one ASGI middleware.

A body larger than ``settings.max_body_bytes`` (1 MiB) is refused with ``413
PAYLOAD_TOO_LARGE`` — up front when ``Content-Length`` says so, without reading a byte; and,
for a chunked body that says nothing, as soon as the chunks received pass the limit. The
rest is never read and the connection is closed, so nobody makes the server buffer or
parse a 20 MB body to find out it is wrong.

It sits outside the CSRF check, which reads form bodies itself.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the chunks pass the limit; FastAPI's handlers turn it into
    the problem document when a route was reading, this middleware when anything else was."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimitMiddleware:
    """``uploads``: paths (exact) that take files, up to ``max_upload_bytes`` instead."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, uploads: frozenset[str] = frozenset(),
                 max_upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if scope.get("path") in self.uploads else self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        from dingdan.web.errors import problem

        response = problem(Request(scope), 413, "PAYLOAD_TOO_LARGE", {"max_bytes": limit})
        response.headers["Connection"] = "close"  # the unread rest of the body is not wanted
        await response(scope, _no_body, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
