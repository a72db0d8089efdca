"""PostgreSQL LISTEN: the notifications that migration 0005's trigger sends on every new
order event (``NOTIFY dingdan_orders``), across every server process.

One dedicated autocommit connection per process; the caller reconnects on error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ORDERS_CHANNEL = "dingdan_orders"


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://…`` (SQLAlchemy) to the plain URL psycopg connects with."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def listening(url: str, channel: str = ORDERS_CHANNEL,
                    ) -> AsyncIterator[AsyncIterator[str]]:
    """Enter once LISTEN is in effect (so a caller can catch up from the table first and miss
    nothing); iterate the payloads until the connection fails."""
    conn = await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True)
    async with conn:
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

        async def payloads() -> AsyncGenerator[str, None]:
            async for note in conn.notifies():
                yield note.payload

        yield payloads()
