"""Who is asking: bearer tokens and signed-in sessions, and the CSRF guard of the browser.

``install_auth(app, settings)`` adds, once, from ``create_app``:

- sessions kept on the server (``user_sessions``), their random id in a signed cookie
  (``dingdan_session``: Starlette's SessionMiddleware with itsdangerous; HttpOnly,
  SameSite=Lax, Secure when ``settings.https``). Signing out revokes the session on the
  server; signing out everywhere, a password change or a deactivation end them all;
- CSRF protection bound to the session (``web/csrf.py``);
- the sign-in limits per address and account (``services/sign_in_limits.py``);
- the redirect of pages to ``/login?next=…`` when nobody is signed in;
- the people, tokens and audit API and pages.

:func:`current_actor` accepts either credential; ``web.deps.ActorDep`` points at it and
``PageActorDep`` is its page flavour.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.middleware.sessions import SessionMiddleware

from dingdan.domain.errors import Unauthenticated
from dingdan.domain.events import Actor
from dingdan.services.passwords import Passwords
from dingdan.services.sign_in_limits import SignInLimits
from dingdan.services.tokens import authenticate
from dingdan.services.users import SignedIn, session_actor, sign_out, touch_session
from dingdan.settings import Settings
from dingdan.web.csrf import SESSION_ID, CSRFMiddleware

if TYPE_CHECKING:
    from dingdan.store.uow import UnitOfWorkFactory
    from dingdan.web.deps import TokenCache

log = structlog.get_logger("dingdan.auth")

SESSION_COOKIE = "dingdan_session"

_bearer = HTTPBearer(auto_error=False, description="An API token: `dingdan token create`")


def derive_key(settings: Settings, purpose: str) -> str:
    """One secret setting, a separate key per use (sessions, CSRF), so neither signature
    can stand in for the other."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, f"dingdan:{purpose}".encode(), hashlib.sha256).hexdigest()


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
    sid = session.get(SESSION_ID) if session else None
    if session is None or not isinstance(sid, str):
        raise Unauthenticated()
    try:
        actor, user, stale = await session_actor(sid, _uows(request)(read_only=True), ip=ip,
                                                 client=agent)
    except Unauthenticated:
        session.clear()  # the cookie is dead: signed out, expired, deactivated…
        raise
    if stale:
        await touch_session(sid, _uows(request)())
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


def start_session(request: Request, signed: SignedIn) -> None:
    """Sign in: the cookie carries the new server-side session's id (and so a new CSRF
    token, which ``web/csrf.py`` sends with this response)."""
    request.session.clear()
    request.session[SESSION_ID] = signed.session


def session_id(request: Request) -> str | None:
    sid = request.session.get(SESSION_ID)
    return sid if isinstance(sid, str) else None


async def end_session(request: Request) -> None:
    """Sign out: the session ends on the server, so a copy of the cookie stops working too."""
    sid = session_id(request)
    if sid is not None:
        await sign_out(sid, _uows(request)(), ip=client_address(request),
                       client=request.headers.get("user-agent"))
    request.session.clear()


# --- installation ------------------------------------------------------------------------

def install_auth(app: FastAPI, settings: Settings) -> None:
    """Sessions, CSRF, the sign-in redirect, and the people/tokens/audit API and pages."""
    from dingdan.web.api import audit as audit_api
    from dingdan.web.api import people as people_api
    from dingdan.web.ui import people as people_pages

    app.state.passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib,
                                    settings.argon2_parallelism)
    app.state.sign_in_limits = SignInLimits(settings.sign_in_limit_per_address,
                                            settings.sign_in_limit_per_account,
                                            settings.sign_in_limits_storage)
    app.state.csrf_key = derive_key(settings, "csrf").encode()
    if not hasattr(app.state, "templates"):  # the back office normally sets them up first
        from dingdan.web.ui import build_templates

        app.state.templates = build_templates(settings)
    app.add_middleware(  # inside the session middleware: it reads the decoded session
        CSRFMiddleware, key=app.state.csrf_key, secure=settings.https,
        always=frozenset({"/login"}))  # no signing in to someone else's account (login CSRF)
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
