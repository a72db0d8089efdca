"""For tests that publish a review rule set: the rules run on every paid order of the
database, so these tests never share a database with others. SQLite tests get their own copy
anyway; on PostgreSQL each test gets a database of its own (``own_pg_url``), copied from a
migrated template, dropped after.

Use in a test module::

    from review_support import db_url, own_pg_url, review_pg_template  # noqa: F401
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import NO_PG, PG_URL, require_services
from dingdan.domain.review import DEFAULT_RULES
from dingdan.settings import Settings
from dingdan.store.migrate import upgrade

API = "/api/v1"


def _admin_and_base() -> tuple[str, Any]:
    from sqlalchemy.engine import make_url

    base = make_url(Settings(database_url=PG_URL).database_url)
    return base.set(drivername="postgresql").render_as_string(hide_password=False), base


@pytest.fixture(scope="module")
def review_pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that tests copy (CREATE DATABASE … TEMPLATE)."""
    if not PG_URL:
        if require_services():
            pytest.fail(NO_PG)
        pytest.skip(NO_PG)
    import psycopg

    admin, base = _admin_and_base()
    name = f"dingdan_review_tpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(base.set(database=name).render_as_string(hide_password=False))
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_pg_url(review_pg_template: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own, copied from the migrated template."""
    import psycopg

    admin, base = _admin_and_base()
    name = f"dingdan_review_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{review_pg_template}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("own_pg_url")
        return url
    path = tmp_path / "dingdan.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def publish(client: httpx.AsyncClient, rules: Any = DEFAULT_RULES,
                  enabled: bool = True) -> dict[str, Any]:
    """Publish ``rules`` over whatever version is in force; the new rule set."""
    current = (await client.get(f"{API}/review/rules")).json()
    r = await client.put(f"{API}/review/rules", json={
        "rules": list(rules), "enabled": enabled, "expected_version": current["version"]})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
