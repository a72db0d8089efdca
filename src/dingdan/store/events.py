"""The order-event timeline and the outbox, written together in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import order_events, outbox

# inline(): no RETURNING of the new ids, which nobody reads.
_INSERT_EVENT = insert(order_events).inline()
_INSERT_OUTBOX = insert(outbox).inline()


class EventRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(self, *, event_id: str, order_id: int, order_number: str, type: str,
                     from_status: str | None, to_status: str | None, actor: str, source: str,
                     reason: str | None, data: dict[str, Any], now: datetime,
                     payload: dict[str, Any]) -> None:
        """Append one timeline event and its outbox row (same event id in both)."""
        # Values as execution parameters, not .values(): building bind parameters for every
        # value costs more than the insert itself.
        await self.conn.execute(_INSERT_EVENT, dict(
            event_id=event_id, order_id=order_id, type=type, from_status=from_status,
            to_status=to_status, actor=actor, source=source, reason=reason, data=data,
            created_at=now))
        await self.conn.execute(_INSERT_OUTBOX, dict(
            event_id=event_id, type=type, order_number=order_number, payload=payload,
            created_at=now))
