"""Refuse control characters in the path, the query string and HTML form fields, before any
route runs: a 400 problem document with code ``INVALID_TEXT``.

The API's JSON bodies and parameters are typed (``web/fields.py``) and answer a 422 naming the
field; this is the backstop for everything else — page filters, sign-in and the other HTML
forms, and text path segments — so that no NUL byte (raw or ``%00``) reaches PostgreSQL,
which refuses it in text, and no other control character reaches a page or a log.
Tab, new line and carriage return are allowed in query and form values (a pasted search, a
textarea); the path may hold none of them.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingdan.web.errors import problem
from dingdan.web.fields import has_control_characters

# A form bigger than this is not read here (the body size limit and the route refuse it).
MAX_SCANNED_FORM_BYTES = 2 * 1024 * 1024
_FORM = b"application/x-www-form-urlencoded"


def _bad_pairs(raw: str) -> bool:
    pairs = parse_qsl(raw, keep_blank_values=True, errors="replace",
                      max_num_fields=10_000)
    return any(has_control_characters(k) or has_control_characters(v) for k, v in pairs)


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bytes(value).split(b";")[0].strip().lower()
    return b""


class RefuseControlCharacters:
    """Pure ASGI middleware; reads (and replays) only urlencoded form bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad = has_control_characters(scope["path"], multiline=False)
        query = scope.get("query_string", b"")
        if not bad and query:
            try:
                bad = _bad_pairs(query.decode("latin-1"))
            except ValueError:  # more fields than anyone sends
                bad = True
        if not bad and _content_type(scope) == _FORM:
            body, receive = await _buffer(receive)
            try:
                bad = body is not None and _bad_pairs(body.decode("latin-1"))
            except ValueError:
                bad = True
        if bad:
            response = problem(Request(scope), 400, "INVALID_TEXT")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole body and a ``receive`` that plays it again; None past the scanning bound
    (what was read is still played again, followed by the rest)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > MAX_SCANNED_FORM_BYTES or not message.get("more_body", False):
            break
    complete = size <= MAX_SCANNED_FORM_BYTES
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return (body if complete else None), replay
