"""Rows of the intake channels: shop connections, the channel versions applied, an order's
lines replaced after a channel's change, and sheet import batches with their orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import order_lines
from dingdan.store.tables_intake import (
    channel_orders,
    channel_sources,
    import_batches,
    import_mappings,
    import_orders,
)


@dataclass(frozen=True, slots=True)
class ChannelSource:
    id: int
    code: str
    kind: str
    name: str
    secret: str
    active: bool
    version: int


_SOURCE_COLS = [getattr(channel_sources.c, f) for f in ChannelSource.__dataclass_fields__]


class ChannelRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def source(self, code: str) -> ChannelSource | None:
        row = (await self.conn.execute(select(*_SOURCE_COLS)
                                       .where(channel_sources.c.code == code))).first()
        return ChannelSource(*row) if row else None

    async def sources(self) -> list[ChannelSource]:
        rows = await self.conn.execute(select(*_SOURCE_COLS).order_by(channel_sources.c.code))
        return [ChannelSource(*r) for r in rows]

    async def add_source(self, values: Mapping[str, Any]) -> int:
        return int((await self.conn.execute(insert(channel_sources).values(**values)
                                            .returning(channel_sources.c.id))).scalar_one())

    async def applied_version(self, channel: str, external_id: str,
                              ) -> tuple[bool, datetime | None]:
        """(known, version): whether a version was ever recorded, and which."""
        row = (await self.conn.execute(
            select(channel_orders.c.channel_version).where(
                channel_orders.c.channel == channel,
                channel_orders.c.external_id == external_id))).first()
        return (row is not None, row[0] if row else None)

    async def record_version(self, channel: str, external_id: str, number: str,
                             version: datetime | None, now: datetime, known: bool) -> None:
        """Remember the version applied; two messages racing on a new order both land here
        once each, the later write winning (an upsert, not a duplicate key)."""
        values = {"order_number": number, "channel_version": version, "updated_at": now}
        if known:
            await self.conn.execute(update(channel_orders).where(
                channel_orders.c.channel == channel,
                channel_orders.c.external_id == external_id).values(**values))
            return
        dialect = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        stmt = dialect(channel_orders).values(channel=channel, external_id=external_id,
                                              **values)
        await self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["channel", "external_id"], set_=values))

    async def replace_lines(self, order_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
        await self.conn.execute(delete(order_lines).where(order_lines.c.order_id == order_id))
        await self.conn.execute(insert(order_lines), [{**r, "order_id": order_id}
                                                      for r in rows])


class ImportRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, values: Mapping[str, Any], orders: Sequence[Mapping[str, Any]]) -> int:
        batch_id = int((await self.conn.execute(insert(import_batches).values(**values)
                                                .returning(import_batches.c.id))).scalar_one())
        if orders:
            await self.conn.execute(insert(import_orders),
                                    [{**o, "batch_id": batch_id} for o in orders])
        return batch_id

    async def any_of(self, channel: str) -> bool:
        """Whether some batch of this channel was ever uploaded."""
        row = (await self.conn.execute(select(import_batches.c.id).where(
            import_batches.c.channel == channel).limit(1))).first()
        return row is not None

    async def get(self, batch_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(import_batches)
                                       .where(import_batches.c.id == batch_id))).first()
        return dict(row._mapping) if row else None

    async def page(self, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(import_batches)
                                       .order_by(import_batches.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def update(self, batch_id: int, version: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(import_batches).where(import_batches.c.id == batch_id,
                                         import_batches.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def count_done(self, batch_id: int, done: int, created: int, failed: int) -> None:
        """Progress of a running import (no version bump: only the import writes it)."""
        await self.conn.execute(update(import_batches).where(import_batches.c.id == batch_id)
                                .values(done=import_batches.c.done + done,
                                        created=import_batches.c.created + created,
                                        failed=import_batches.c.failed + failed))

    async def orders(self, batch_id: int, outcome: str | None = None,
                     after_seq: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
        q = (select(import_orders).where(import_orders.c.batch_id == batch_id,
                                         import_orders.c.seq > after_seq)
             .order_by(import_orders.c.seq).limit(limit))
        if outcome is not None:
            q = q.where(import_orders.c.outcome == outcome)
        return [dict(r._mapping) for r in await self.conn.execute(q)]

    async def set_outcome(self, batch_id: int, seq: int, outcome: str, number: str | None,
                          errors: list[dict[str, Any]]) -> None:
        await self.conn.execute(update(import_orders).where(
            import_orders.c.batch_id == batch_id, import_orders.c.seq == seq).values(
            outcome=outcome, order_number=number, errors=errors))

    async def outcomes(self, batch_id: int) -> dict[str, int]:
        rows = await self.conn.execute(
            select(import_orders.c.outcome, func.count()).where(
                import_orders.c.batch_id == batch_id).group_by(import_orders.c.outcome))
        return {str(o): int(n) for o, n in rows}

    async def mapping(self, channel: str) -> dict[str, str]:
        row = (await self.conn.execute(select(import_mappings.c.mapping).where(
            import_mappings.c.channel == channel))).first()
        return dict(row[0]) if row else {}

    async def save_mapping(self, channel: str, mapping: Mapping[str, str], actor: str,
                           now: datetime) -> None:
        values = {"mapping": dict(mapping), "updated_by": actor, "updated_at": now}
        dialect = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        await self.conn.execute(dialect(import_mappings).values(channel=channel, **values)
                                .on_conflict_do_update(index_elements=["channel"],
                                                       set_=values))
