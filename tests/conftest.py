"""Shared fixtures. SQLite by default; PostgreSQL too when DINGDAN_TEST_DATABASE_URL is set.

``db_url`` is parametrised over both databases: the PostgreSQL case is marked ``postgres`` and
skips, saying why, when no server is configured. Each SQLite test gets a fresh copy of a
database migrated once per session; PostgreSQL tests share one database migrated once per
session and stay apart by using random SKUs and references.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncEngine

from dingdan.settings import Settings
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.uow import UnitOfWorkFactory
from peers import LOOPBACK

PG_URL = os.environ.get("DINGDAN_TEST_DATABASE_URL")
NO_PG = "PostgreSQL tests need DINGDAN_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test)"


class Clock:
    """A controllable clock for tests: starts at a fixed instant, moves when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 11, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    if not PG_URL:
        if require_services():
            pytest.fail(NO_PG)
        pytest.skip(NO_PG)
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(Settings(database_url=PG_URL).database_url)
    name = f"dingdan_test_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_session_url")
        return url
    path = tmp_path / "dingdan.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def pg_url(pg_session_url: str) -> str:
    return pg_session_url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(db_url, pool_size=5, max_overflow=60)
    yield eng
    await eng.dispose()


@pytest.fixture
def uows(engine: AsyncEngine, clock: Clock) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(engine, clock)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, env="test", default_language="en",
                    token_cache_seconds=0.0, db_pool_size=5, db_max_overflow=60,
                    # cheap Argon2 in tests; tests/api/test_auth.py checks rehashing
                    argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1,
                    # the tests' receivers (tests/peers.py) listen on loopback, which
                    # production refuses (tests/integration/test_outbound_guard.py)
                    outbound_allow=list(LOOPBACK))


@pytest.fixture
async def app_client(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR
    from dingdan.web.app import create_app

    app = create_app(settings, clock)
    async with LifespanManager(app) as manager:
        # An admin token: API tests that are not about permissions may do anything.
        issued = await issue_token("tests", app.state.uow(), roles=["admin"], actor=OPERATOR)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test",
                                     headers={"Authorization": f"Bearer {issued.token}"}) as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


RoleClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def role_client(app_client: httpx.AsyncClient) -> AsyncIterator[RoleClient]:
    """Make API clients of the same app with a token of the given roles:
    ``await role_client("finance")``; ``warehouses=[code]`` makes a person limited to those
    warehouses and gives the client their personal token."""
    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR, CreateUser, UserFields, create_user

    app = app_client.app  # type: ignore[attr-defined]
    opened: list[httpx.AsyncClient] = []

    async def make(*roles: str, warehouses: tuple[str, ...] | list[str] = ()) -> httpx.AsyncClient:
        user_id = None
        if warehouses:
            user = await create_user(CreateUser(UserFields(
                f"{'+'.join(roles)} {ref()}", email=f"{ref().lower()}@example.com",
                roles=frozenset(roles), warehouses=frozenset(warehouses)), OPERATOR),
                app.state.uow())
            user_id = user["id"]
        issued = await issue_token(f"{'-'.join(roles)}-{ref()}", app.state.uow(), roles=roles,
                                   actor=OPERATOR, user_id=user_id)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://dingdan.test",
                                   headers={"Authorization": f"Bearer {issued.token}"})
        client.app = app  # type: ignore[attr-defined]
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


def ref(prefix: str = "T") -> str:
    """A random reference, so tests sharing a database never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def require_services() -> bool:
    """In CI (.ci/run sets DINGDAN_REQUIRE_SERVICES=1) a missing service fails, never skips."""
    return os.environ.get("DINGDAN_REQUIRE_SERVICES") == "1"


@pytest.fixture
def fresh_logging() -> Iterator[None]:
    """Logging as a new process finds it (nothing configured: ``create_app`` configures it);
    put back as it was afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level
              for name in ("httpx", "httpcore", "alembic.runtime.plugins")}
    config = structlog.get_config()
    for h in handlers:
        if type(h).__module__.startswith("dingdan"):
            root.removeHandler(h)
    structlog.reset_defaults()
    yield
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, was in chatty.items():
        logging.getLogger(name).setLevel(was)
