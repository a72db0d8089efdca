"""The customers' ratings of their orders (``tables_portal.order_ratings``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.errors import AlreadyExists
from dingdan.store.tables_portal import order_ratings


class RatingRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, order_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(order_ratings).where(order_ratings.c.order_id == order_id))).first()
        return dict(row._mapping) if row else None

    async def add(self, values: dict[str, Any]) -> None:
        """Store a rating; an order rated already is ``AlreadyExists`` (a race included)."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(insert(order_ratings).values(**values))
        except IntegrityError as exc:
            raise AlreadyExists({"field": "rating", "value": str(values["order_id"])}) from exc
