"""People: user rows, their roles and warehouses, and the sign-in bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.errors import AlreadyExists
from dingdan.store.tables_people import user_roles, user_warehouses, users


class UserRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, values: Mapping[str, Any]) -> int:
        try:
            async with self.conn.begin_nested():
                new_id: int = (await self.conn.execute(
                    insert(users).values(**values).returning(users.c.id))).scalar_one()
        except IntegrityError as exc:
            raise self._taken(values) from exc
        return new_id

    async def update(self, user_id: int, version: int, values: Mapping[str, Any]) -> bool:
        """Write ``values`` if the user is still at ``version``; bump the version."""
        try:
            async with self.conn.begin_nested():
                result = await self.conn.execute(
                    update(users).where(users.c.id == user_id, users.c.version == version)
                    .values(**values, version=version + 1))
        except IntegrityError as exc:
            raise self._taken(values) from exc
        return result.rowcount == 1

    @staticmethod
    def _taken(values: Mapping[str, Any]) -> AlreadyExists:
        field = "email" if values.get("email") else "phone"
        return AlreadyExists({"field": field, "value": values.get(field)})

    async def set_roles(self, user_id: int, roles: Iterable[str]) -> None:
        await self.conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
        rows = [{"user_id": user_id, "role": r} for r in sorted(set(roles))]
        if rows:
            await self.conn.execute(insert(user_roles), rows)

    async def set_warehouses(self, user_id: int, warehouse_ids: Iterable[int]) -> None:
        await self.conn.execute(
            delete(user_warehouses).where(user_warehouses.c.user_id == user_id))
        rows = [{"user_id": user_id, "warehouse_id": w} for w in sorted(set(warehouse_ids))]
        if rows:
            await self.conn.execute(insert(user_warehouses), rows)

    async def get(self, user_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(users).where(users.c.id == user_id))).first()
        return await self._with_access(dict(row._mapping)) if row else None

    async def by_login(self, login: str) -> dict[str, Any] | None:
        """The user whose email (any case) or phone (E.164) is ``login``."""
        row = (await self.conn.execute(select(users).where(
            or_(users.c.email == login.strip().lower(), users.c.phone == login.strip()))
            .limit(1))).first()
        return await self._with_access(dict(row._mapping)) if row else None

    async def search(self, active: bool | None = None) -> list[dict[str, Any]]:
        stmt = select(users).order_by(users.c.name, users.c.id)
        if active is not None:
            stmt = stmt.where(users.c.active.is_(active))
        out = [dict(r._mapping) for r in await self.conn.execute(stmt)]
        roles = await self._roles([u["id"] for u in out])
        whs = await self._warehouses([u["id"] for u in out])
        for u in out:
            u["roles"] = roles.get(u["id"], [])
            u["warehouse_ids"] = whs.get(u["id"], [])
        return out

    async def _with_access(self, user: dict[str, Any]) -> dict[str, Any]:
        user["roles"] = (await self._roles([user["id"]])).get(user["id"], [])
        user["warehouse_ids"] = (await self._warehouses([user["id"]])).get(user["id"], [])
        return user

    async def _roles(self, ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        if ids:
            rows = await self.conn.execute(select(user_roles).where(
                user_roles.c.user_id.in_(ids)).order_by(user_roles.c.role))
            for r in rows:
                out.setdefault(r.user_id, []).append(r.role)
        return out

    async def _warehouses(self, ids: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        if ids:
            rows = await self.conn.execute(select(user_warehouses).where(
                user_warehouses.c.user_id.in_(ids)).order_by(user_warehouses.c.warehouse_id))
            for r in rows:
                out.setdefault(r.user_id, []).append(r.warehouse_id)
        return out

    async def count_failure(self, user_id: int, now: datetime) -> int:
        """Add one failed sign-in, atomically (parallel guesses all count); the new count."""
        count: int = (await self.conn.execute(
            update(users).where(users.c.id == user_id)
            .values(failed_attempts=users.c.failed_attempts + 1, updated_at=now)
            .returning(users.c.failed_attempts))).scalar_one()
        return count

    async def set_sign_in_state(self, user_id: int, values: Mapping[str, Any]) -> None:
        """Sign-in bookkeeping (failures, lock, last sign-in, rehash): no version bump, so
        an admin editing the person at the same time is not refused for it."""
        await self.conn.execute(update(users).where(users.c.id == user_id).values(**values))

    async def bump_epoch(self, user_id: int, now: datetime) -> int:
        epoch: int = (await self.conn.execute(
            update(users).where(users.c.id == user_id)
            .values(session_epoch=users.c.session_epoch + 1, updated_at=now)
            .returning(users.c.session_epoch))).scalar_one()
        return epoch
