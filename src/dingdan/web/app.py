"""The app factory: ``create_app(settings)`` builds the FastAPI app; nothing happens at import.

The engine is made in the lifespan and disposed at shutdown. API docs are served from
assets installed by ``scripts/setup`` (npm), never from a CDN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from dingdan import __version__
from dingdan.logs import ensure_logging
from dingdan.services.health import readiness
from dingdan.settings import Settings
from dingdan.store.engine import make_engine
from dingdan.store.uow import Clock, UnitOfWorkFactory, utc_now
from dingdan.web import errors, intake_hooks, live, metrics, payments, portal, ui
from dingdan.web.api import (
    aftersales,
    analytics,
    catalogue,
    complaints,
    notifications,
    orders,
    portal_aftersales,
    privacy,
    push,
    webhooks,
)
from dingdan.web.api import carriers as carriers_api
from dingdan.web.api import customers as customers_api
from dingdan.web.api import intake as intake_api
from dingdan.web.api import review as review_api
from dingdan.web.api import tracking as tracking_api
from dingdan.web.auth import install_auth
from dingdan.web.body_limit import BodyLimitMiddleware
from dingdan.web.deps import TokenCache
from dingdan.web.metrics import HttpMetricsMiddleware
from dingdan.web.request_ids import RequestIdMiddleware
from dingdan.web.security_headers import SecurityHeadersMiddleware
from dingdan.web.text_guard import RefuseControlCharacters

API = "/api/v1"
# Swagger UI started by a static script (no inline script: see web/security_headers.py).
DOCS_PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Dingdan API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/vendor/swagger-ui-dist/swagger-ui.css">
<link rel="icon" href="/static/vendor/swagger-ui-dist/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi-url="{API}/openapi.json"></div>
<script src="/static/vendor/swagger-ui-dist/swagger-ui-bundle.js"></script>
<script src="/static/app/swagger-init.js"></script></body></html>
"""


def assets_dir(settings: Settings) -> Path:
    if settings.static_dir is not None:
        return settings.static_dir
    return Path.cwd() / "node_modules"


# Started in the lifespan when ``settings.worker_in_process``: e.g. the in-process worker,
# which the composition root (``dingdan.server``) passes in — web does not import workers.
Background = Callable[[UnitOfWorkFactory], AbstractAsyncContextManager[object]]


def create_app(settings: Settings, clock: Clock = utc_now,
               background: Sequence[Background] = ()) -> FastAPI:
    ensure_logging(settings)  # unless the process (``dingdan serve``) already did
    if settings.env == "development" and settings.uses_development_secret:
        structlog.get_logger("dingdan.web").warning(
            "session cookies are signed with the public development key; set "
            "DINGDAN_SECRET_KEY (dingdan serve makes a private one: settings.with_local_secret)")
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow,
                             busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                             echo=settings.echo_sql,
                             writer_queue=settings.sqlite_writer_queue)
        app.state.uow = UnitOfWorkFactory(engine, clock)
        try:
            async with AsyncExitStack() as stack:
                if settings.worker_in_process:
                    for start in background:
                        await stack.enter_async_context(start(app.state.uow))
                yield
        finally:
            await live.stop(app)
            await payments.close(app)
            await engine.dispose()

    app = FastAPI(
        title="Dingdan 订单 API", version=__version__, lifespan=lifespan,
        debug=False,  # never Starlette's debug page: tracebacks stay in the log
        openapi_url=f"{API}/openapi.json", docs_url=None, redoc_url=None,
        description="Order management: intake, stock reservation, lifecycle, timeline. "
                    "Every error is an RFC 9457 problem document with a stable `code`.",
    )
    app.state.settings = settings
    app.state.default_language = settings.default_language
    app.state.token_cache = TokenCache(settings.token_cache_seconds)
    errors.install(app)
    # Innermost of the middleware (added first): sessions, CSRF and size limits run before it.
    app.add_middleware(RefuseControlCharacters)
    # The customer's page (/track/{number}) first: routes are matched in order, and its
    # visitors are the many (bench/README.md: status page).
    portal.install(app, settings)
    app.include_router(orders.router, prefix=API)
    app.include_router(catalogue.router, prefix=API)
    app.include_router(webhooks.router, prefix=API)
    app.include_router(push.router, prefix=API)
    app.include_router(push.assets)  # /sw.js, the push service worker
    app.include_router(notifications.router, prefix=API)
    app.include_router(privacy.router, prefix=API)
    app.include_router(customers_api.router, prefix=API)
    app.include_router(review_api.router, prefix=API)
    app.include_router(intake_api.router, prefix=API)  # imports, connected shops
    app.include_router(intake_hooks.router)  # the shops' signed order webhooks
    app.include_router(tracking_api.router, prefix=API)
    app.include_router(carriers_api.router, prefix=API)
    app.include_router(aftersales.router, prefix=API)  # after-sales and refunds (issue 13)
    app.include_router(complaints.router, prefix=API)
    app.include_router(portal_aftersales.router, prefix=API)  # the customer's own
    app.include_router(analytics.router, prefix=API)
    ui.install(app, settings)  # the back office: pages at /, live updates at /live
    install_auth(app, settings)  # sessions, CSRF, sign-in; people, tokens and audit
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       uploads=frozenset({f"{API}/imports", "/imports"}),
                       max_upload_bytes=settings.max_upload_bytes)

    assets = assets_dir(settings)
    if assets.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=assets), name="vendor")

    app.include_router(metrics.router)  # /metrics, for Prometheus (token protected)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready to serve: the database answers and is migrated to head; else 503."""
        state = await readiness(app.state.uow)
        body = {"status": "ready" if state.ready else "unavailable", "database": state.database,
                "revision": state.revision, "head": state.head}
        if state.ready:
            return JSONResponse(body)
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    # Added last, so outermost (Starlette wraps in reverse): a crash anywhere inside is
    # answered by InternalErrorMiddleware, that answer still gets the security headers, and
    # every line logged carries the request id.
    app.add_middleware(errors.InternalErrorMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    app.add_middleware(HttpMetricsMiddleware)  # sees every answer, the 500s included
    app.add_middleware(RequestIdMiddleware)
    return app
