"""Shared by the worker tests: a database of the test's own (the worker reads every row, so
on PostgreSQL each test gets a fresh database cloned from a migrated template instead of the
session's shared one), a worker built for tests, and a fake channel you can read.

Import the fixtures into a test module to use them there:

    from worker_support import db_url, pg_template  # noqa: F401  (fixtures)
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dingdan.adapters.notify.port import Message, Sender, SendResult
from dingdan.domain.sla import WorkingCalendar
from dingdan.services.delivery import DeliveryPolicy
from dingdan.settings import Settings
from dingdan.store.uow import UnitOfWorkFactory
from dingdan.workers.config import WorkerConfig
from dingdan.workers.runner import Worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = {"reviewer": ("reviewer@shop.example",), "warehouse": ("warehouse@shop.example",),
         "manager": ("manager@shop.example",)}


def _server(url: str) -> tuple[Any, str]:
    """(the SQLAlchemy URL, a plain URL to the server's ``postgres`` database)."""
    from sqlalchemy.engine import make_url

    base = make_url(Settings(database_url=url).database_url)
    admin = base.set(drivername="postgresql", database="postgres")
    return base, admin.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(pg_session_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database that per-test databases are cloned from."""
    import psycopg

    from dingdan.store.migrate import upgrade

    base, server = _server(pg_session_url)
    name = f"dingdan_tmpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(base.set(database=name).render_as_string(hide_password=False))
    yield name
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_template: Path,
           tmp_path: Path) -> Iterator[str]:
    """Overrides conftest's ``db_url``: a database of this test's own on both engines."""
    if request.param == "sqlite":
        path = tmp_path / "dingdan.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield from fresh_pg_database(request)


def fresh_pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of one test's own, cloned from the migrated template."""
    import psycopg

    template: str = request.getfixturevalue("pg_template")
    base, server = _server(request.getfixturevalue("pg_session_url"))
    name = f"dingdan_w_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class FakeSender:
    """A channel that answers what it is told to and remembers what it was given."""

    def __init__(self, channel: str, result: SendResult | None = None) -> None:
        self.channel = channel
        self.result = result or SendResult.sent("ok", 200)
        self.sent: list[Message] = []

    async def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        return self.result

    async def close(self) -> None:
        pass


def policy(senders: dict[str, Sender], **kw: Any) -> DeliveryPolicy:
    base = DeliveryPolicy(available=frozenset(senders), default_language="en", tz=SHANGHAI,
                          staff=STAFF, base_url="https://shop.example", max_attempts=3,
                          backoff_base_seconds=10, backoff_max_seconds=600,
                          fallback_after_attempts=2)
    return replace(base, **kw)


def make_worker(uows: UnitOfWorkFactory, senders: dict[str, Sender], *,
                owner: str | None = None, policy_kw: dict[str, Any] | None = None,
                **config_kw: Any) -> Worker:
    config = WorkerConfig(policy=policy(senders, **(policy_kw or {})),
                          calendar=WorkingCalendar(SHANGHAI), lease_seconds=30,
                          batch_size=100, concurrency=10, poll_seconds=0.05)
    return Worker(uows, senders, replace(config, **config_kw), rng=random.Random(4),
                  owner=owner)


def uows_of(client: httpx.AsyncClient) -> UnitOfWorkFactory:
    factory: UnitOfWorkFactory = client.app.state.uow  # type: ignore[attr-defined]
    return factory


def email_address(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
