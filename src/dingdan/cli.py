"""The ``dingdan`` command: serve, migrate, demo, token, version.

Settings come from the environment (``DINGDAN_*``); see ``docs/configuration.md``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dingdan import __version__
from dingdan.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from dingdan.store.uow import UnitOfWorkFactory

# No locals in tracebacks: they would print settings and passwords given as options.
app = typer.Typer(help="Dingdan 订单 — order management.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_show_locals=False)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _settings(**overrides: Any) -> Settings:
    """The settings from the environment (and command-line options), refused with a message
    rather than a traceback; logging is configured from them once per process."""
    from pydantic import ValidationError

    from dingdan.logs import ensure_logging

    try:
        s = Settings(**overrides)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            typer.echo(f"settings refused: {where + ': ' if where else ''}"
                       f"{error['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None
    ensure_logging(s)
    return s


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

    from dingdan.settings import with_local_secret

    given = {"host": host, "port": port}
    s = _settings(**{k: v for k, v in given.items() if v is not None})
    if with_local_secret(s) is not s:  # made now, read by every server process
        typer.echo(f"Sessions are signed with the private key in {s.secret_key_file} "
                   "(set DINGDAN_SECRET_KEY to choose one).")
    if migrate_first:
        from dingdan.store.migrate import upgrade

        upgrade(s.database_url)
    n = workers or s.workers
    if s.is_sqlite and n > 1:
        typer.echo("SQLite serves from one process; use PostgreSQL for several.", err=True)
        n = 1
    typer.echo(f"Dingdan {__version__} on http://{s.host}:{s.port}  "
               f"(API docs: /docs, database: {_safe_url(s.database_url)})")
    # dingdan.server adds the in-process worker when settings say so (SQLite by default).
    # log_config=None: uvicorn's lines go through dingdan.logs like every other.
    uvicorn.run("dingdan.server:app", factory=True, host=s.host, port=s.port,
                workers=n, log_level=s.log_level.lower(), access_log=False, log_config=None)


@app.command()
def worker(once: Annotated[bool, typer.Option(help="one step, then exit")] = False,
           jobs: Annotated[bool, typer.Option("--jobs/--no-jobs",
                                              help="also run the timed jobs")] = True) -> None:
    """Deliver notifications and run the timed jobs until stopped (SIGTERM or Ctrl-C).

    On PostgreSQL run as many as you like side by side; on SQLite `dingdan serve` already
    runs one, so run this only with DINGDAN_RUN_WORKER_IN_PROCESS=false.
    """
    from dingdan.settings import with_local_secret
    from dingdan.workers.process import run_worker

    # the development server's key: the customer links it signs must open on that server
    asyncio.run(run_worker(with_local_secret(_settings()), once=once, jobs=jobs))


@app.command()
def demo(orders: Annotated[int, typer.Option(help="orders to generate")] = 2000,
         seed: Annotated[int, typer.Option()] = 2026) -> None:
    """Load believable demo data (idempotent) and print an API token."""
    from datetime import timedelta

    from dingdan.services.demo import ShopRules, load_demo
    from dingdan.store.migrate import upgrade

    s = _settings()
    upgrade(s.database_url)

    async def run() -> None:
        from dingdan.services.tokens import issue_token
        from dingdan.services.users import OPERATOR
        from dingdan.store.engine import make_engine
        from dingdan.store.uow import UnitOfWorkFactory

        engine = make_engine(s.database_url)
        try:
            # The demo's history obeys the worker's timed rules, as configured.
            rules = ShopRules(timedelta(minutes=s.payment_timeout_minutes),
                              timedelta(days=s.auto_complete_days))
            report = await load_demo(UnitOfWorkFactory(engine), orders=orders, seed=seed,
                                     rules=rules)
            typer.echo(report)
            issued = await issue_token("demo", UnitOfWorkFactory(engine)(), roles=["admin"],
                                       actor=OPERATOR)
            login, password = await _demo_admin(UnitOfWorkFactory(engine))
            url = f"http://{s.host}:{s.port}"
            typer.echo(f"Open {url}/ and sign in as {login} / {password}  (shown once)")
            typer.echo(f"API token (shown once): {issued.token}   API docs: {url}/docs")
            sample = await _demo_order_page(UnitOfWorkFactory(engine), s, url)
            if sample:
                typer.echo(f"A customer's own page (signed link, as their messages carry it): "
                           f"{sample}")
        finally:
            await engine.dispose()

    asyncio.run(run())


async def _demo_order_page(uows: UnitOfWorkFactory, s: Settings, url: str) -> str | None:
    """The signed link of the newest shipped demo order's page."""
    from datetime import UTC, datetime

    from dingdan.domain.portal import link_expiry, sign_link
    from dingdan.store.orders import ListQuery

    async with uows(read_only=True) as uow:
        rows, _ = await uow.orders.page(ListQuery(status=("shipped", "in_transit"), limit=1))
    if not rows:
        return None
    number = str(rows[0]["number"])
    from dingdan.settings import with_local_secret

    key = with_local_secret(s).portal_keys[0]  # what `dingdan serve` verifies with
    token = sign_link(key, number, link_expiry(datetime.now(UTC)))
    return f"{url}/track/{number}?t={token}"


async def _demo_admin(uows: UnitOfWorkFactory) -> tuple[str, str]:
    """The demo's admin account, with a fresh random password each run (printed once)."""
    import secrets

    from dingdan.services.users import (
        OPERATOR,
        CreateUser,
        ResetPassword,
        UserFields,
        create_user,
        reset_password,
    )

    login = "admin@demo.example.com"
    password = secrets.token_urlsafe(12)
    async with uows(read_only=True) as uow:
        existing = await uow.users.by_login(login)
    if existing is None:
        await create_user(CreateUser(UserFields("演示管理员 Demo admin", email=login,
                                                roles=frozenset({"admin"})), OPERATOR,
                                     password), uows())
    else:
        await reset_password(ResetPassword(existing["id"], password, OPERATOR), uows())
    return login, password


@app.command()
def anonymise(
    reason: Annotated[str, typer.Option(help="the customer's request and its reference")],
    phone: Annotated[str | None, typer.Option(help="the customer's phone")] = None,
    email: Annotated[str | None, typer.Option(help="the customer's email")] = None,
) -> None:
    """Erase a customer's personal data from all their orders (PIPL), keeping the order
    facts; refused while one of their orders is open. Same as POST /api/v1/privacy/anonymise."""
    from dingdan.domain.errors import DomainError
    from dingdan.services.privacy import AnonymiseCustomer, anonymise_customer
    from dingdan.services.users import OPERATOR
    from dingdan.store.engine import make_engine
    from dingdan.store.uow import UnitOfWorkFactory

    s = _settings()

    async def run() -> None:
        engine = make_engine(s.database_url)
        try:
            done = await anonymise_customer(AnonymiseCustomer(OPERATOR, reason, phone, email),
                                            UnitOfWorkFactory(engine)())
        finally:
            await engine.dispose()
        typer.echo(f"anonymised {len(done.orders)} order(s): {', '.join(done.orders)} "
                   f"(audit: customer {done.contact_digest})")

    try:
        asyncio.run(run())
    except DomainError as exc:
        fields = "; ".join(f"{d.loc}: {d.message}" for d in exc.details)
        typer.echo(f"refused: {exc.code} {exc.params or ''} {fields}".rstrip(), err=True)
        raise typer.Exit(1) from exc


@app.command("backup")
def backup_cmd(
    to: Annotated[Path | None, typer.Option(help="directory (default DINGDAN_BACKUP_DIR)")] = None,
    keep: Annotated[int | None, typer.Option(help="keep the newest N backups there")] = None,
) -> None:
    """Write a consistent backup of the database (SQLite online backup, or pg_dump)."""
    from datetime import UTC, datetime

    from dingdan.store import backup

    s = _settings()
    directory = to or s.backup_dir
    try:
        made = backup.backup(s.database_url, directory, datetime.now(UTC))
        pruned = backup.prune(directory, keep) if keep else []
    except backup.BackupError as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"backup written: {made.path} ({made.size} bytes)"
               + (f"; {len(pruned)} older removed" if pruned else ""))


@app.command("restore")
def restore_cmd(
    source: Annotated[Path, typer.Argument(help="a .sqlite or .dump file from dingdan backup")],
    force: Annotated[bool, typer.Option(help="replace a database that holds data")] = False,
) -> None:
    """Restore a backup into DINGDAN_DATABASE_URL (refuses to overwrite without --force).

    Stop the servers and workers first; run `dingdan migrate` after restoring an older
    backup into a newer Dingdan.
    """
    from dingdan.store import backup

    s = _settings()
    try:
        backup.restore(s.database_url, source, force=force)
    except backup.BackupError as exc:
        typer.echo(f"restore refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"restored {source} into {_safe_url(s.database_url)}")


@app.command()
def vapid(force: Annotated[bool, typer.Option(help="replace an existing key pair")] = False,
          ) -> None:
    """Create the VAPID key pair for web push (DINGDAN_VAPID_KEY_FILE); print its public key.

    Keep the file: replacing the key invalidates every browser's push subscription.
    """
    from dingdan.adapters.notify.webpush import (
        application_server_key,
        create_vapid_key,
        load_vapid_key,
    )

    path = _settings().vapid_key_file
    if path.exists() and not force:
        key = load_vapid_key(path)
        typer.echo(f"VAPID key already in {path} (--force replaces it)")
    else:
        if path.exists():
            path.unlink()
        key = create_vapid_key(path)
        typer.echo(f"VAPID key pair written to {path}")
    typer.echo(f"public key (applicationServerKey): {application_server_key(key)}")


@token_app.command("create")
def token_create(
    name: str,
    role: Annotated[list[str] | None, typer.Option(
        "--role", help="a role (repeat for several): admin, manager, customer_service, "
                       "reviewer, finance, warehouse, viewer, integration")] = None,
    expires_days: Annotated[int | None, typer.Option(help="valid for N days")] = None,
    user: Annotated[int | None, typer.Option(help="the person it acts for (user id)")] = None,
) -> None:
    """Issue an API token; it is printed once and stored only as a digest."""
    from datetime import timedelta

    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR

    async def run() -> None:
        engine, uows = _uows()
        try:
            uow = uows()
            expires = uow.now() + timedelta(days=expires_days) if expires_days else None
            issued = await issue_token(name, uow, expires, roles=role or ["integration"],
                                       actor=OPERATOR, user_id=user)
            typer.echo(issued.token)
        finally:
            await engine.dispose()

    asyncio.run(_guarded(run()))


user_app = typer.Typer(help="People who sign in to the back office.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    email: Annotated[str | None, typer.Option(help="sign-in email")] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    phone: Annotated[str | None, typer.Option(help="sign-in phone")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="a role; repeat")] = None,
    language: Annotated[str | None, typer.Option(help="zh-CN or en")] = None,
    password: Annotated[str | None, typer.Option(
        help="the password; asked for (hidden) when not given")] = None,
) -> None:
    """Create a person, e.g. the first admin: dingdan user create --email … --name … --role admin"""
    from dingdan.services.users import OPERATOR, CreateUser, UserFields, create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def run() -> None:
        engine, uows = _uows()
        try:
            user = await create_user(CreateUser(
                UserFields(name or (email or phone or ""), email, phone, language,
                           frozenset(role or [])), OPERATOR, password), uows())
            typer.echo(f"user {user['id']}: {user['name']} ({', '.join(user['roles'])})")
        finally:
            await engine.dispose()

    asyncio.run(_guarded(run()))


async def _guarded(job: Coroutine[Any, Any, None]) -> None:
    """Run a command's job; a refusal (bad input, a duplicate) is a message, not a trace."""
    from dingdan.domain.errors import DomainError

    try:
        await job
    except DomainError as exc:
        details = "; ".join(f"{d.loc}: {d.message}" for d in exc.details)
        typer.echo(f"refused: {exc.code} {exc.params or ''} {details}".strip(), err=True)
        raise typer.Exit(2) from exc


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    from dingdan.services.tokens import revoke_token
    from dingdan.services.users import OPERATOR

    async def run() -> None:
        engine, uows = _uows()
        try:
            await revoke_token(token_id, uows(), actor=OPERATOR)
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
                    roles = ",".join(t["roles"] or [])
                    typer.echo(f"{t['id']}\t{t['name']}\t{t['prefix']}…\t{state}\t{roles}")
        finally:
            await engine.dispose()

    asyncio.run(run())


import_app = typer.Typer(help="Import orders from a sheet.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("orders")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    channel: Annotated[str, typer.Option(help="the orders' channel (their ids are unique "
                                              "within it)")] = "csv",
    partial: Annotated[bool, typer.Option(help="import the good orders even if some rows "
                                               "are bad")] = False,
    check_only: Annotated[bool, typer.Option("--check", help="the dry run only")] = False,
    report: Annotated[Path | None, typer.Option(help="write the row-by-row report (CSV) "
                                                     "here")] = None,
) -> None:
    """Check a CSV or .xlsx of orders row by row, then import it (docs/intake.md).

    Exits 1 if the check found bad rows and nothing was imported, 2 if the file could not be
    read at all."""
    import csv
    from zoneinfo import ZoneInfo

    from dingdan.domain.errors import DomainError
    from dingdan.services import imports
    from dingdan.services.users import OPERATOR
    from dingdan.web.ui.export import spreadsheet_text

    s = _settings()

    async def run() -> int:
        engine, uows = _uows()
        tz = ZoneInfo(s.timezone)
        try:
            try:
                batch = await imports.check_import(imports.CheckImport(
                    channel, file.name, file.read_bytes(), OPERATOR, tz, partial=partial),
                    uows())
            except DomainError as exc:
                typer.echo(f"{file}: {exc.params.get('reason') or exc.code}", err=True)
                for d in exc.details:
                    typer.echo(f"  {d.loc}: {d.code} {d.message}", err=True)
                return 2
            typer.echo(f"import {batch['id']}: {batch['row_count']} rows, "
                       f"{batch['order_count']} orders, {batch['bad_rows']} bad rows")
            if not check_only and (batch["bad_rows"] == 0 or partial):
                await imports.start_import(batch["id"], uows(), actor=OPERATOR)
                batch = await imports.continue_import(batch["id"], uows, actor=OPERATOR,
                                                      tz=tz)
                typer.echo(f"imported: {batch['created']} created, {batch['failed']} failed "
                           f"of {batch['done']} orders")
            rows = await imports.import_report(batch["id"], uows(read_only=True),
                                               actor=OPERATOR)
            for r in rows:
                if r["code"]:
                    typer.echo(f"  row {r['row']} {r['column']}: {r['code']} {r['message']}")
            if report is not None:
                with report.open("w", newline="", encoding="utf-8-sig") as f:
                    w = csv.DictWriter(f, ["row", "column", "code", "message", "order_id",
                                           "outcome", "order_number"])
                    w.writeheader()
                    w.writerows({k: spreadsheet_text(str(v)) if isinstance(v, str) else v
                                 for k, v in r.items() if k != "text"} for r in rows)
            return 1 if batch["bad_rows"] and not partial else 0
        finally:
            await engine.dispose()

    raise typer.Exit(asyncio.run(run()))
analytics_app = typer.Typer(help="The analytics read model (dashboard figures).",
                            no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")


@analytics_app.command("refresh")
def analytics_refresh() -> None:
    """Bring the dashboard's figures up to the end of the order timeline now."""
    _analytics(rebuild=False)


@analytics_app.command("rebuild")
def analytics_rebuild() -> None:
    """Forget the dashboard's figures and build them again from the whole timeline."""
    _analytics(rebuild=True)


def _analytics(rebuild: bool) -> None:
    from zoneinfo import ZoneInfo

    from dingdan.services import analytics_model

    tz = ZoneInfo(_settings().timezone)

    async def run() -> None:
        engine, uows = _uows()
        try:
            job = analytics_model.rebuild if rebuild else analytics_model.refresh
            report = await job(uows, tz)
            typer.echo(f"{report.orders} orders measured in {report.batches} batches, "
                       f"up to event {report.last_event_id}")
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
