"""The ``dingdan`` command: serve, migrate, demo, token, version.

Settings come from the environment (``DINGDAN_*``); see ``docs/configuration.md``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from dingdan import __version__
from dingdan.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from dingdan.store.uow import UnitOfWorkFactory

app = typer.Typer(help="Dingdan 订单 — order management.", no_args_is_help=True,
                  add_completion=False)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _settings() -> Settings:
    return Settings()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Bring the database schema up to date (Alembic)."""
    from dingdan.store.migrate import upgrade

    s = _settings()
    upgrade(s.database_url, revision)
    typer.echo(f"database at {revision}: {_safe_url(s.database_url)}")


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None,
          workers: Annotated[int | None, typer.Option(help="server processes")] = None,
          migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True) -> None:
    """Serve the API (and, later, the pages) with uvicorn."""
    import uvicorn

    s = _settings()
    if migrate_first:
        from dingdan.store.migrate import upgrade

        upgrade(s.database_url)
    n = workers or s.workers
    if s.is_sqlite and n > 1:
        typer.echo("SQLite serves from one process; use PostgreSQL for several.", err=True)
        n = 1
    typer.echo(f"Dingdan {__version__} on http://{host or s.host}:{port or s.port}  "
               f"(API docs: /docs, database: {_safe_url(s.database_url)})")
    uvicorn.run("dingdan.web.main:app", factory=True, host=host or s.host, port=port or s.port,
                workers=n, log_level="info", access_log=False)


@app.command()
def demo(orders: Annotated[int, typer.Option(help="orders to generate")] = 2000,
         seed: Annotated[int, typer.Option()] = 2026) -> None:
    """Load believable demo data (idempotent) and print an API token."""
    from dingdan.services.demo import load_demo
    from dingdan.store.migrate import upgrade

    s = _settings()
    upgrade(s.database_url)

    async def run() -> None:
        from dingdan.services.tokens import issue_token
        from dingdan.store.engine import make_engine
        from dingdan.store.uow import UnitOfWorkFactory

        engine = make_engine(s.database_url)
        try:
            report = await load_demo(UnitOfWorkFactory(engine), orders=orders, seed=seed)
            typer.echo(report)
            issued = await issue_token("demo", UnitOfWorkFactory(engine)())
            typer.echo(f"API token (shown once): {issued.token}")
        finally:
            await engine.dispose()

    asyncio.run(run())


@token_app.command("create")
def token_create(name: str) -> None:
    """Issue an API token; it is printed once and stored only as a digest."""
    from dingdan.services.tokens import issue_token

    async def run() -> None:
        engine, uows = _uows()
        try:
            issued = await issue_token(name, uows())
            typer.echo(issued.token)
        finally:
            await engine.dispose()

    asyncio.run(run())


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    from dingdan.services.tokens import revoke_token

    async def run() -> None:
        engine, uows = _uows()
        try:
            await revoke_token(token_id, uows())
            typer.echo(f"revoked {token_id}")
        finally:
            await engine.dispose()

    asyncio.run(run())


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secret)."""

    async def run() -> None:
        engine, uows = _uows()
        try:
            async with uows(read_only=True) as uow:
                for t in await uow.tokens.all():
                    state = "revoked" if t["revoked_at"] else "active"
                    typer.echo(f"{t['id']}\t{t['name']}\t{t['prefix']}…\t{state}")
        finally:
            await engine.dispose()

    asyncio.run(run())


def _uows() -> tuple[AsyncEngine, UnitOfWorkFactory]:
    from dingdan.store.engine import make_engine
    from dingdan.store.uow import UnitOfWorkFactory

    s = _settings()
    engine = make_engine(s.database_url)
    return engine, UnitOfWorkFactory(engine)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()
