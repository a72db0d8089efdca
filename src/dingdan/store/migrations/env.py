"""Alembic environment: runs migrations over Dingdan's async engine (SQLite or PostgreSQL).

SQLite uses batch mode so that later ALTERs work on it too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from dingdan.store import (
    tables_aftersales,  # noqa: F401  (after-sales cases, refunds, complaints: 0012)
    tables_analytics,  # noqa: F401  (the analytics read model: 0013)
    tables_carriers,  # noqa: F401  (carriers, rates, labels, tracking: 0011)
    tables_delivery,  # noqa: F401  (delivery log, SLA, alerts: 0002)
    tables_intake,  # noqa: F401  (shop connections, channel versions, imports: 0009)
    tables_people,  # noqa: F401  (users, roles, audit log: 0003)
    tables_portal,  # noqa: F401  (the customer's page: ratings, 0007)
    tables_ui,  # noqa: F401  (back-office tables share the metadata)
    tables_webhooks,  # noqa: F401  (webhook and web-push subscriptions: 0004)
)
from dingdan.store.engine import make_engine
from dingdan.store.tables import UTCDateTime, metadata

config = context.config


def _render_item(type_: str, obj: Any, autogen_context: Any) -> Any:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True, render_item=_render_item,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = config.attributes.get("engine") or make_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_configure)
        await conn.commit()
    if "engine" not in config.attributes:
        await engine.dispose()


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                          literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
    else:
        asyncio.run(_run_online())


run()
