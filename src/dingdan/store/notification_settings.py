"""Customer notification preferences and template overrides."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.deliveries import insert_ignoring_duplicates
from dingdan.store.tables_delivery import notification_preferences, notification_templates

_P, _T = notification_preferences, notification_templates


class PreferenceRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def for_contacts(self, contacts: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = sorted({c for c in contacts if c})
        if not keys:
            return {}
        rows = await self.conn.execute(select(_P).where(_P.c.contact.in_(keys)))
        return {r.contact: dict(r._mapping) for r in rows}

    async def get(self, contact: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(_P).where(_P.c.contact == contact))).first()
        return dict(row._mapping) if row else None

    async def put(self, contact: str, values: Mapping[str, Any], expected_version: int | None,
                  now: datetime) -> bool:
        """Create or replace; with ``expected_version``, only if nobody changed it since."""
        if expected_version is None:
            inserted = (await self.conn.execute(
                insert_ignoring_duplicates(self.conn, _P).values(
                    contact=contact, **values, version=1, updated_at=now)
                .returning(_P.c.contact))).first()
            if inserted is not None:
                return True
        conds = [_P.c.contact == contact]
        if expected_version is not None:
            conds.append(_P.c.version == expected_version)
        result = await self.conn.execute(
            update(_P).where(*conds).values(**values, version=_P.c.version + 1, updated_at=now))
        return result.rowcount == 1


class TemplateRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def all(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(_T).order_by(_T.c.kind, _T.c.channel,
                                                           _T.c.language))
        return [dict(r._mapping) for r in rows]

    async def get(self, kind: str, channel: str, language: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(_T).where(
            _T.c.kind == kind, _T.c.channel == channel, _T.c.language == language))).first()
        return dict(row._mapping) if row else None

    async def put(self, kind: str, channel: str, language: str, values: Mapping[str, Any],
                  expected_version: int | None, now: datetime) -> bool:
        key = dict(kind=kind, channel=channel, language=language)
        if expected_version is None:
            inserted = (await self.conn.execute(
                insert_ignoring_duplicates(self.conn, _T).values(
                    **key, **values, version=1, updated_at=now)
                .returning(_T.c.kind))).first()
            if inserted is not None:
                return True
        conds = [_T.c.kind == kind, _T.c.channel == channel, _T.c.language == language]
        if expected_version is not None:
            conds.append(_T.c.version == expected_version)
        result = await self.conn.execute(
            update(_T).where(*conds).values(**values, version=_T.c.version + 1, updated_at=now))
        return result.rowcount == 1

    async def delete(self, kind: str, channel: str, language: str) -> bool:
        result = await self.conn.execute(delete(_T).where(
            _T.c.kind == kind, _T.c.channel == channel, _T.c.language == language))
        return result.rowcount == 1
