"""Back-office sessions kept on the server (``user_sessions``), by the digest of their id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables_people import user_sessions


class SessionRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, values: Mapping[str, Any]) -> None:
        await self.conn.execute(insert(user_sessions).values(**values))

    async def get(self, digest: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(user_sessions).where(user_sessions.c.id == digest))).first()
        return dict(row._mapping) if row else None

    async def touch(self, digest: str, now: datetime) -> None:
        await self.conn.execute(update(user_sessions).where(user_sessions.c.id == digest)
                                .values(last_seen_at=now))

    async def revoke(self, digest: str, now: datetime) -> bool:
        result = await self.conn.execute(
            update(user_sessions).where(user_sessions.c.id == digest,
                                        user_sessions.c.revoked_at.is_(None))
            .values(revoked_at=now))
        return result.rowcount == 1

    async def revoke_all(self, user_id: int, now: datetime, *, keep: str | None = None) -> int:
        """End every open session of the person (but ``keep``, the one asking); how many."""
        stmt = update(user_sessions).where(user_sessions.c.user_id == user_id,
                                           user_sessions.c.revoked_at.is_(None))
        if keep is not None:
            stmt = stmt.where(user_sessions.c.id != keep)
        result = await self.conn.execute(stmt.values(revoked_at=now))
        return result.rowcount

    async def set_epoch(self, digest: str, epoch: int) -> None:
        await self.conn.execute(update(user_sessions).where(user_sessions.c.id == digest)
                                .values(session_epoch=epoch))
