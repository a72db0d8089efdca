"""CSRF: every state-changing browser request proves it came from one of our pages of the
same session.

The token is ``HMAC(key, session id)``: bound to the signed-in session (the ``sid`` kept on
the server), or before sign-in to a random pre-session id (``pre``) that the signed session
cookie carries — so a token taken from another session, even one the attacker planted as a
cookie, is refused, and so is a sign-in form posted from another site (login CSRF).

It is sent as before: in the ``x-csrftoken`` header (HTMX and fetch; ``static/app.js`` reads
it from the ``csrftoken`` cookie, refreshed whenever the session changes) or in a
``csrftoken`` form field (plain HTML forms). The check applies to every unsafe request that
carries a signed-in session, and to the ``always`` paths (``/login``) even without one.
Requests without one — API clients with a bearer token, or a visitor whose cookie holds only
a pre-session — are not affected: a browser never attaches a bearer token to a cross-site
request by itself, and a pre-session signs nobody in.

Our own middleware rather than starlette-csrf: that library's double-submit check compares
the header with a cookie, which an attacker who can set cookies (a sibling subdomain, plain
HTTP) can set too; it has no way to bind the token to the session.
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookies
import secrets
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("dingdan.csrf")

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "csrftoken"  # the hidden form field, for pages that work without script
MAX_FORM_BYTES = 1 << 20  # a form body read to find the token; bigger uploads use the header
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_ID = "sid"  # in the signed session cookie: the signed-in session's id
PRE_SESSION_ID = "pre"  # ... or, before sign-in, a random id the CSRF token is bound to


def token_for(key: bytes, bound_to: str) -> str:
    return hmac.new(key, bound_to.encode(), hashlib.sha256).hexdigest()


def _bound_to(session: dict[str, Any] | None) -> str | None:
    if not session:
        return None
    value = session.get(SESSION_ID) or session.get(PRE_SESSION_ID)
    return value if isinstance(value, str) and value else None


def csrf_token(request: Request) -> str:
    """The CSRF token of this request's session, to put in forms and HTMX headers. Before
    sign-in this starts a pre-session (the session cookie then carries its id)."""
    key: bytes | None = getattr(request.app.state, "csrf_key", None)
    session: dict[str, Any] | None = request.scope.get("session")
    if key is None or session is None:
        return ""
    bound = _bound_to(session)
    if bound is None:
        bound = session[PRE_SESSION_ID] = secrets.token_urlsafe(24)
    return token_for(key, bound)


class CSRFMiddleware:
    """Inside the session middleware (it reads the decoded session from the scope)."""

    def __init__(self, app: ASGIApp, *, key: bytes, secure: bool,
                 always: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.key = key
        self.secure = secure
        self.always = always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session: dict[str, Any] = scope.get("session") or {}
        if request.method not in SAFE_METHODS and (
                request.url.path in self.always or SESSION_ID in session):
            submitted = request.headers.get(CSRF_HEADER)
            if not submitted and _is_form(request):
                body = await _read_body(receive)
                if body is not None:  # None: too big for a form; send the header instead
                    receive = _replay(body)
                    submitted = await _form_token(scope, body)
            bound = _bound_to(session)
            if bound is None or not submitted or not hmac.compare_digest(
                    submitted.encode(), token_for(self.key, bound).encode()):
                log.warning("csrf refused", path=request.url.path, method=request.method,
                            had_session=bound is not None, had_token=bool(submitted))
                from dingdan.web.errors import problem

                await problem(request, 403, "CSRF_FAILED")(scope, receive, send)
                return
        sent_cookie = request.cookies.get(CSRF_COOKIE)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                bound = _bound_to(scope.get("session"))  # as the route left it
                token = token_for(self.key, bound) if bound else None
                if token and token != sent_cookie:
                    MutableHeaders(scope=message).append("set-cookie", self._cookie(token))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, token: str) -> str:
        """Readable by the page's script (app.js puts it in the header); SameSite=Lax."""
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[CSRF_COOKIE] = token
        cookie[CSRF_COOKIE]["path"] = "/"
        cookie[CSRF_COOKIE]["samesite"] = "lax"
        cookie[CSRF_COOKIE]["secure"] = self.secure
        return cookie.output(header="").strip()


def _is_form(request: Request) -> bool:
    ctype = request.headers.get("content-type", "")
    return ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None past MAX_FORM_BYTES (the request is then refused, so nobody
    makes the server buffer an upload just to look for a token)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


async def _form_token(scope: Scope, body: bytes) -> str | None:
    form = await Request(scope, _replay(body)).form()
    try:
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()
