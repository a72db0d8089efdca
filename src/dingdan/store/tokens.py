"""API tokens, stored as SHA-256 digests (the tokens are 256 random bits, so a fast hash is
the right tool: there is nothing to brute-force)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import api_tokens


class TokenRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, name: str, prefix: str, token_hash: str, now: datetime,
                  expires_at: datetime | None, *, roles: Iterable[str] = (),
                  user_id: int | None = None, created_by: str | None = None) -> int:
        new_id: int = (await self.conn.execute(insert(api_tokens).values(
            name=name, prefix=prefix, token_hash=token_hash, created_at=now,
            expires_at=expires_at, roles=sorted(set(roles)), user_id=user_id,
            created_by=created_by).returning(api_tokens.c.id))).scalar_one()
        return new_id

    async def get(self, token_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(api_tokens).where(api_tokens.c.id == token_id))).first()
        return dict(row._mapping) if row else None

    async def search(self, user_id: int | None = None,
                   include_revoked: bool = True) -> list[dict[str, Any]]:
        stmt = select(api_tokens).order_by(api_tokens.c.id.desc())
        if user_id is not None:
            stmt = stmt.where(api_tokens.c.user_id == user_id)
        if not include_revoked:
            stmt = stmt.where(api_tokens.c.revoked_at.is_(None))
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]

    async def by_hash(self, token_hash: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash))).first()
        return dict(row._mapping) if row else None

    async def by_name(self, name: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(api_tokens).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .order_by(api_tokens.c.id.desc()).limit(1))).first()
        return dict(row._mapping) if row else None

    async def revoke(self, token_id: int, now: datetime) -> bool:
        result = await self.conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now))
        return result.rowcount == 1

    async def all(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(api_tokens).order_by(api_tokens.c.id))
        return [dict(r._mapping) for r in rows]
