"""The app factory: ``create_app(settings)`` builds the FastAPI app; nothing happens at import.

The engine is made in the lifespan and disposed at shutdown. API docs are served from
assets installed by ``scripts/setup`` (npm), never from a CDN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from dingdan import __version__
from dingdan.settings import Settings
from dingdan.store.engine import make_engine
from dingdan.store.uow import Clock, UnitOfWorkFactory, utc_now
from dingdan.web import errors, live, ui
from dingdan.web.api import catalogue, notifications, orders, push, webhooks
from dingdan.web.auth import install_auth
from dingdan.web.deps import TokenCache
from dingdan.web.text_guard import RefuseControlCharacters

API = "/api/v1"


def assets_dir(settings: Settings) -> Path:
    if settings.static_dir is not None:
        return settings.static_dir
    return Path.cwd() / "node_modules"


# Started in the lifespan when ``settings.worker_in_process``: e.g. the in-process worker,
# which the composition root (``dingdan.server``) passes in — web does not import workers.
Background = Callable[[UnitOfWorkFactory], AbstractAsyncContextManager[object]]


def create_app(settings: Settings, clock: Clock = utc_now,
               background: Sequence[Background] = ()) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                             max_overflow=settings.db_max_overflow,
                             busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                             echo=settings.echo_sql)
        app.state.uow = UnitOfWorkFactory(engine, clock)
        try:
            async with AsyncExitStack() as stack:
                if settings.worker_in_process:
                    for start in background:
                        await stack.enter_async_context(start(app.state.uow))
                yield
        finally:
            await live.stop(app)
            await engine.dispose()

    app = FastAPI(
        title="Dingdan 订单 API", version=__version__, lifespan=lifespan,
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
    app.include_router(orders.router, prefix=API)
    app.include_router(catalogue.router, prefix=API)
    app.include_router(webhooks.router, prefix=API)
    app.include_router(push.router, prefix=API)
    app.include_router(push.assets)  # /sw.js, the push service worker
    app.include_router(notifications.router, prefix=API)
    ui.install(app, settings)  # the back office: pages at /, live updates at /live
    install_auth(app, settings)  # sessions, CSRF, sign-in; people, tokens and audit

    assets = assets_dir(settings)
    if assets.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=assets), name="vendor")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API}/openapi.json", title="Dingdan API",
            swagger_js_url="/static/vendor/swagger-ui-dist/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui-dist/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui-dist/favicon-32x32.png")

    return app
