"""Who is asking: bearer tokens and signed-in sessions, and the CSRF guard of the browser.

``install_auth(app, settings)`` adds, once, from ``create_app``:

- sessions in a signed cookie (``dingdan_session``: Starlette's SessionMiddleware with
  itsdangerous; HttpOnly, SameSite=Lax, Secure when ``settings.https``). The session holds
  only the user id and the person's session epoch: signing out everywhere, a password change
  or a deactivation bumps the epoch and every older cookie stops working;
- CSRF protection (starlette-csrf, double-submit cookie ``csrftoken``): every state-changing
  request that carries the session cookie must echo the cookie's token, in the
  ``x-csrftoken`` header (HTMX, fetch) or in a ``csrftoken`` form field (plain HTML forms).
  Requests without the session cookie — API calls with a bearer token — are not affected;
  a browser cannot attach a bearer token to a cross-site request on its own;
- the redirect of pages to ``/login?next=…`` when nobody is signed in;
- the people, tokens and audit API and pages.

:func:`current_actor` accepts either credential; ``web.deps.ActorDep`` points at it and
``PageActorDep`` is its page flavour.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import http.cookies
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_csrf.middleware import CSRFMiddleware

from dingdan.domain.errors import Unauthenticated
from dingdan.domain.events import Actor
from dingdan.domain.people import LockoutPolicy
from dingdan.services.passwords import Passwords
from dingdan.services.tokens import authenticate
from dingdan.services.users import SignedIn, session_actor
from dingdan.settings import Settings

if TYPE_CHECKING:
    from dingdan.store.uow import UnitOfWorkFactory
    from dingdan.web.deps import TokenCache

log = structlog.get_logger("dingdan.auth")

SESSION_COOKIE = "dingdan_session"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "csrftoken"  # the hidden form field, for pages that work without script
MAX_FORM_BYTES = 1 << 20  # a form body read to find the token; bigger uploads use the header

_bearer = HTTPBearer(auto_error=False, description="An API token: `dingdan token create`")


def derive_key(settings: Settings, purpose: str) -> str:
    """One secret setting, a separate key per use (sessions, CSRF), so neither signature
    can stand in for the other."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, f"dingdan:{purpose}".encode(), hashlib.sha256).hexdigest()


# --- CSRF ------------------------------------------------------------------------------------

class FormCSRFMiddleware(CSRFMiddleware):
    """starlette-csrf's double-submit check, also reading the token from an HTML form field
    (the body is read once and handed on untouched), and answering refusals as problem
    documents. The token of a first visit is known before the response, so the page being
    rendered can already put it in its forms (:func:`csrf_token`)."""

    def __init__(self, app: ASGIApp, secret: str, *, always: frozenset[str] = frozenset(),
                 **kwargs: Any) -> None:
        super().__init__(app, secret, **kwargs)
        self.always = always  # paths whose changes are checked even without a session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(self.cookie_name)
        if cookie is None:
            scope.setdefault("state", {})["csrf_token"] = self._generate_csrf_token()
        unsafe = request.method not in self.safe_methods
        if self._url_is_required(request.url) or (unsafe and request.url.path in self.always) or (
                unsafe and not self._url_is_exempt(request.url)
                and self._has_sensitive_cookies(request.cookies)):
            submitted = request.headers.get(self.header_name)
            if not submitted and _is_form(request):
                body = await _read_body(receive)
                if body is not None:  # None: too big for a form; send the header instead
                    receive = _replay(body)
                    submitted = await _form_token(scope, body)
            if not cookie or not submitted or not self._csrf_tokens_match(cookie, submitted):
                log.warning("csrf refused", path=request.url.path, method=request.method,
                            had_cookie=cookie is not None, had_token=bool(submitted))
                await self._get_error_response(request)(scope, receive, send)
                return
        await self.app(scope, receive, functools.partial(self.send, send=send, scope=scope))

    async def send(self, message: Message, send: Send, scope: Scope) -> None:
        if message["type"] == "http.response.start" and CSRF_COOKIE not in Request(scope).cookies:
            token = scope.get("state", {}).get("csrf_token") or self._generate_csrf_token()
            MutableHeaders(scope=message).append("set-cookie", self.cookie_header(token))
        await send(message)

    def cookie_header(self, token: str) -> str:
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[self.cookie_name] = token
        cookie[self.cookie_name]["path"] = self.cookie_path
        cookie[self.cookie_name]["secure"] = self.cookie_secure
        cookie[self.cookie_name]["httponly"] = self.cookie_httponly
        cookie[self.cookie_name]["samesite"] = self.cookie_samesite
        return cookie.output(header="").strip()

    def new_token(self) -> str:
        return str(self._generate_csrf_token())

    def _get_error_response(self, request: Request) -> Response:
        from dingdan.web.errors import problem

        return problem(request, 403, "CSRF_FAILED")


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


def csrf_token(request: Request) -> str:
    """The CSRF token to put in this page's forms (``csrftoken`` field) or HTMX headers."""
    token = request.cookies.get(CSRF_COOKIE)
    if token:
        return token
    state: dict[str, Any] = request.scope.get("state", {})
    return str(state.get("csrf_token", ""))


# --- who is asking -----------------------------------------------------------------------

def client_address(request: Request) -> str | None:
    """The caller's address: the connecting peer, or — only behind a proxy the settings
    trust — the nearest untrusted hop of X-Forwarded-For."""
    peer = request.client.host if request.client else None
    settings: Settings | None = getattr(request.app.state, "settings", None)
    proxies = settings.trusted_proxies if settings else []
    forwarded = request.headers.get("x-forwarded-for")
    if not (peer and proxies and forwarded and ("*" in proxies or peer in proxies)):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    if not hops:
        return peer
    if "*" in proxies:
        return hops[0]
    for hop in reversed(hops):
        if hop not in proxies:
            return hop
    return hops[0]


def _uows(request: Request) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = request.app.state.uow
    return factory


async def current_actor(request: Request,
                        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                        ) -> Actor:
    """The caller: a bearer token if one is given, else the signed-in person's session."""
    ip = client_address(request)
    agent = request.headers.get("user-agent")
    if creds is not None:
        if creds.scheme.lower() != "bearer" or not creds.credentials:
            raise Unauthenticated()
        cache: TokenCache = request.app.state.token_cache
        actor = cache.get(creds.credentials)
        if actor is None:
            actor = await authenticate(creds.credentials, _uows(request)(read_only=True))
            cache.put(creds.credentials, actor)
        return dataclasses.replace(actor, ip=ip, client=agent)
    session: dict[str, Any] | None = request.scope.get("session")
    uid = session.get("uid") if session else None
    epoch = session.get("epoch") if session else None
    if session is None or not isinstance(uid, int) or not isinstance(epoch, int):
        raise Unauthenticated()
    try:
        actor, user = await session_actor(uid, epoch, _uows(request)(read_only=True), ip=ip,
                                          client=agent)
    except Unauthenticated:
        session.clear()  # the cookie is dead: deactivated, or signed out everywhere
        raise
    request.state.user = user
    return actor


class SignInRequired(Exception):
    """A page was asked for by nobody signed in: send them to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def page_actor(request: Request,
                     creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                     ) -> Actor:
    try:
        return await current_actor(request, creds)
    except Unauthenticated as exc:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target) from exc


def login_url(next_url: str | None) -> str:
    return "/login" if not next_url else f"/login?next={quote(next_url, safe='')}"


def safe_next(next_url: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…``."""
    if not next_url or not next_url.startswith("/") or next_url.startswith(("//", "/\\")):
        return "/"
    return next_url


def start_session(request: Request, response: Response, signed: SignedIn) -> None:
    """Sign in: a fresh session (user id and epoch) and a fresh CSRF token."""
    request.session.clear()
    request.session.update({"uid": signed.user_id, "epoch": signed.epoch})
    csrf: FormCSRFMiddleware | None = getattr(request.app.state, "csrf", None)
    if csrf is not None:
        response.headers.append("set-cookie", csrf.cookie_header(csrf.new_token()))


def end_session(request: Request) -> None:
    request.session.clear()


# --- installation ------------------------------------------------------------------------

class _Recorder:
    """Keeps a reference to the CSRF middleware instance Starlette builds, so sign-in can
    issue a fresh token with the same key and cookie flags."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def __call__(self, inner: ASGIApp, **kwargs: Any) -> FormCSRFMiddleware:
        middleware = FormCSRFMiddleware(inner, **kwargs)
        self.app.state.csrf = middleware
        return middleware


def install_auth(app: FastAPI, settings: Settings) -> None:
    """Sessions, CSRF, the sign-in redirect, and the people/tokens/audit API and pages."""
    from dingdan.web.api import audit as audit_api
    from dingdan.web.api import people as people_api
    from dingdan.web.ui import people as people_pages

    app.state.passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib,
                                    settings.argon2_parallelism)
    app.state.lockout = LockoutPolicy(settings.lockout_threshold,
                                      timedelta(seconds=settings.lockout_base_seconds),
                                      timedelta(seconds=settings.lockout_max_seconds))
    if not hasattr(app.state, "templates"):  # the back office normally sets them up first
        from dingdan.web.ui import build_templates

        app.state.templates = build_templates(settings)
    app.add_middleware(
        _Recorder(app),  # type: ignore[arg-type]
        secret=derive_key(settings, "csrf"), sensitive_cookies={SESSION_COOKIE},
        always=frozenset({"/login"}),  # no signing in to someone else's account (login CSRF)
        cookie_name=CSRF_COOKIE, header_name=CSRF_HEADER, cookie_secure=settings.https,
        cookie_samesite="lax")
    app.add_middleware(
        SessionMiddleware, secret_key=derive_key(settings, "session"),
        session_cookie=SESSION_COOKIE, max_age=settings.session_max_age_seconds,
        same_site="lax", https_only=settings.https)

    @app.exception_handler(SignInRequired)
    async def _to_sign_in(request: Request, exc: SignInRequired) -> Response:
        url = login_url(exc.next_url)
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    api = "/api/v1"
    app.include_router(people_api.router, prefix=api)
    app.include_router(audit_api.router, prefix=api)
    app.include_router(people_pages.router, include_in_schema=False)


PageActorDep = Annotated[Actor, Depends(page_actor)]
