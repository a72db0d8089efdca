"""The delivery log: fan-out from the outbox, claims with leases, outcomes, dead letters.

Claims take rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers split the
due rows without waiting on each other; SQLite ignores the clause and serialises writers
with ``BEGIN IMMEDIATE`` (one worker). A claim stamps a lease; a row whose lease ran out is
due again, so a killed worker's messages are taken over. ``sent`` is final: no claim ever
selects it again, and the unique (event_id, recipient, channel) key means it is never queued
twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import outbox
from dingdan.store.tables_delivery import deliveries

PENDING, SENT, DEAD, FAILED_OVER = "pending", "sent", "dead", "failed_over"


def insert_ignoring_duplicates(conn: AsyncConnection, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    event_id: str
    type: str
    order_number: str | None
    payload: dict[str, Any]
    created_at: datetime


class DeliveryRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # -- fan-out ------------------------------------------------------------------------

    async def unpublished(self, limit: int) -> list[OutboxRow]:
        """The oldest outbox rows not yet fanned out, locked against other workers."""
        rows = await self.conn.execute(
            select(outbox.c.id, outbox.c.event_id, outbox.c.type, outbox.c.order_number,
                   outbox.c.payload, outbox.c.created_at)
            .where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(limit)
            .with_for_update(skip_locked=True))
        return [OutboxRow(*r) for r in rows]

    async def mark_published(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self.conn.execute(update(outbox).where(outbox.c.id.in_(list(ids)))
                                    .values(published_at=now))

    async def add_outbox(self, *, event_id: str, type: str, order_number: str | None,
                         payload: Mapping[str, Any], now: datetime) -> None:
        """An outbox row that is not an order event (an alert, a dead-letter digest)."""
        await self.conn.execute(outbox.insert().values(
            event_id=event_id, type=type, order_number=order_number, payload=dict(payload),
            created_at=now))

    async def add(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Queue deliveries; one already queued for (event, recipient, channel) is kept.
        Returns how many were new."""
        if not rows:
            return 0
        # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs.
        # One batch needs one set of keys: rows planned by different channels may omit
        # optional columns (webhook rows have no fallback_of), so fill the gaps with NULL.
        keys = {k for r in rows for k in r}
        params = [{k: r.get(k) for k in keys} for r in rows]
        stmt = insert_ignoring_duplicates(self.conn, deliveries).returning(deliveries.c.id)
        return len((await self.conn.execute(stmt, params)).all())

    # -- claims and outcomes ------------------------------------------------------------

    async def claim(self, owner: str, now: datetime, lease_until: datetime, limit: int,
                    ordered_channels: Iterable[str]) -> list[dict[str, Any]]:
        """Lease up to ``limit`` due rows to ``owner``; each claim counts as an attempt.

        On an ordered channel (webhooks, the broker) a row waits while an earlier row of the
        same order to the same recipient is still pending, so one order's events arrive in
        the order they happened.
        """
        d, earlier = deliveries, deliveries.alias("earlier")
        still_pending_before = exists().where(
            earlier.c.order_number == d.c.order_number, earlier.c.channel == d.c.channel,
            earlier.c.recipient == d.c.recipient, earlier.c.status == PENDING,
            earlier.c.id < d.c.id)
        ordered = list(ordered_channels)
        ids = list((await self.conn.execute(
            select(d.c.id)
            .where(d.c.status == PENDING, d.c.next_attempt_at <= now,
                   or_(d.c.lease_until.is_(None), d.c.lease_until < now),
                   or_(d.c.channel.not_in(ordered), d.c.order_number.is_(None),
                       ~still_pending_before))
            .order_by(d.c.next_attempt_at, d.c.id).limit(limit)
            .with_for_update(skip_locked=True, of=d))).scalars())
        if not ids:
            return []
        rows = await self.conn.execute(
            update(d).where(d.c.id.in_(ids))
            .values(lease_owner=owner, lease_until=lease_until, attempts=d.c.attempts + 1,
                    updated_at=now)
            .returning(*d.c))
        return sorted((dict(r._mapping) for r in rows), key=lambda r: r["id"])

    async def mark_sent(self, delivery_id: int, now: datetime, detail: str | None,
                        response_code: int | None) -> bool:
        """Sent is a fact, whoever holds the lease now: it ends every further claim."""
        result = await self.conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id,
                                     deliveries.c.status == PENDING)
            .values(status=SENT, sent_at=now, lease_owner=None, lease_until=None,
                    last_error=None, response_code=response_code, updated_at=now))
        return result.rowcount == 1

    async def mark_failed(self, delivery_id: int, owner: str, now: datetime, *, status: str,
                          next_attempt_at: datetime | None, error: str,
                          response_code: int | None) -> bool:
        """Record a failed try: back to pending (retry), dead, or failed over. Only the
        lease holder may, so a worker whose lease ran out cannot undo another's claim."""
        values: dict[str, Any] = dict(status=status, lease_owner=None, lease_until=None,
                                      last_error=error[:2000], response_code=response_code,
                                      updated_at=now)
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        if status == DEAD:
            values["dead_at"] = now
        result = await self.conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id,
                                     deliveries.c.status == PENDING,
                                     deliveries.c.lease_owner == owner).values(**values))
        return result.rowcount == 1

    async def release(self, delivery_ids: Sequence[int], owner: str, now: datetime) -> None:
        """Give claimed rows back untried (the claim is not counted as an attempt)."""
        if delivery_ids:
            await self.conn.execute(
                update(deliveries).where(deliveries.c.id.in_(list(delivery_ids)),
                                         deliveries.c.status == PENDING,
                                         deliveries.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, updated_at=now,
                        attempts=deliveries.c.attempts - 1))

    # -- reading and replay -------------------------------------------------------------

    async def for_order(self, order_number: str) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(deliveries).where(deliveries.c.order_number == order_number)
            .order_by(deliveries.c.id))
        return [dict(r._mapping) for r in rows]

    async def dead(self, *, channel: str | None = None, kind: str | None = None,
                   order_number: str | None = None, before_id: int | None = None,
                   limit: int = 50) -> list[dict[str, Any]]:
        """Dead letters, newest first (keyset pages by id)."""
        stmt = select(deliveries).where(*self._dead_filter(channel, kind, order_number))
        if before_id is not None:
            stmt = stmt.where(deliveries.c.id < before_id)
        rows = await self.conn.execute(stmt.order_by(deliveries.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def replay(self, now: datetime, *, ids: Sequence[int] | None = None,
                     channel: str | None = None, kind: str | None = None,
                     dead_from: datetime | None = None, dead_to: datetime | None = None,
                     limit: int = 10_000) -> list[int]:
        """Put dead letters back in the queue, due now, with a fresh count of attempts."""
        conds = self._dead_filter(channel, kind, None)
        if ids is not None:
            conds.append(deliveries.c.id.in_(list(ids)))
        if dead_from is not None:
            conds.append(deliveries.c.dead_at >= dead_from)
        if dead_to is not None:
            conds.append(deliveries.c.dead_at < dead_to)
        chosen = list((await self.conn.execute(
            select(deliveries.c.id).where(*conds).order_by(deliveries.c.id).limit(limit)
            .with_for_update(skip_locked=True))).scalars())
        if chosen:
            await self.conn.execute(
                update(deliveries).where(deliveries.c.id.in_(chosen),
                                         deliveries.c.status == DEAD)
                .values(status=PENDING, attempts=0, next_attempt_at=now, dead_at=None,
                        lease_owner=None, lease_until=None, updated_at=now))
        return chosen

    async def dead_counts(self, since: datetime, until: datetime,
                          exclude_kind: str) -> dict[str, int]:
        """Messages that went dead in [since, until), by channel (for the staff digest)."""
        rows = await self.conn.execute(
            select(deliveries.c.channel, func.count())
            .where(deliveries.c.status == DEAD, deliveries.c.dead_at >= since,
                   deliveries.c.dead_at < until, deliveries.c.kind != exclude_kind)
            .group_by(deliveries.c.channel))
        return {r[0]: int(r[1]) for r in rows}

    @staticmethod
    def _dead_filter(channel: str | None, kind: str | None,
                     order_number: str | None) -> list[Any]:
        conds: list[Any] = [deliveries.c.status == DEAD]
        if channel:
            conds.append(deliveries.c.channel == channel)
        if kind:
            conds.append(deliveries.c.kind == kind)
        if order_number:
            conds.append(deliveries.c.order_number == order_number)
        return [and_(*conds)]
