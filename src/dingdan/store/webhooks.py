"""Webhook and web-push subscriptions, and the slices of the outbox and the delivery log that
belong to one webhook subscription. Repositories over the caller's connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.deliveries import insert_ignoring_duplicates
from dingdan.store.tables import outbox
from dingdan.store.tables_delivery import deliveries
from dingdan.store.tables_webhooks import push_subscriptions, webhook_subscriptions

W = webhook_subscriptions
WEBHOOK = "webhook"
REPLAY_MARK = "@replay-"


def webhook_recipient(subscription_id: int, replay: str | None = None) -> str:
    """The delivery-log recipient of a subscription: ``"12"``, or ``"12@replay-<tag>"``."""
    return f"{subscription_id}{REPLAY_MARK}{replay}" if replay else str(subscription_id)


def subscription_id_of(recipient: str) -> int | None:
    head = recipient.partition("@")[0]
    return int(head) if head.isdigit() else None


class WebhookRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, values: Mapping[str, Any]) -> dict[str, Any]:
        row = (await self.conn.execute(insert(W).values(**values).returning(*W.c))).one()
        return dict(row._mapping)

    async def get(self, subscription_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(W).where(W.c.id == subscription_id))).first()
        return dict(row._mapping) if row else None

    async def all(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in await self.conn.execute(select(W).order_by(W.c.id))]

    async def active(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(W).where(W.c.active.is_(True)).order_by(W.c.id))
        return [dict(r._mapping) for r in rows]

    async def update(self, subscription_id: int, version: int,
                     changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """Apply ``changes`` if the row is still at ``version``; None if it is not."""
        row = (await self.conn.execute(
            update(W).where(W.c.id == subscription_id, W.c.version == version)
            .values(**changes, version=version + 1).returning(*W.c))).first()
        return dict(row._mapping) if row else None

    async def delete(self, subscription_id: int) -> bool:
        result = await self.conn.execute(delete(W).where(W.c.id == subscription_id))
        return result.rowcount == 1

    async def events_since(self, since: datetime, until: datetime | None,
                           limit: int) -> list[dict[str, Any]]:
        """Outbox events created in [since, until), oldest first."""
        stmt = select(outbox.c.event_id, outbox.c.type, outbox.c.order_number,
                      outbox.c.payload, outbox.c.created_at).where(outbox.c.created_at >= since)
        if until is not None:
            stmt = stmt.where(outbox.c.created_at < until)
        rows = await self.conn.execute(stmt.order_by(outbox.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def queue(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Add delivery rows (an existing (event, recipient, channel) is kept); how many were
        new. Counted from RETURNING: a multi-row rowcount is not reliable on every driver."""
        if not rows:
            return 0
        result = await self.conn.execute(
            insert_ignoring_duplicates(self.conn, deliveries).returning(deliveries.c.id),
            [dict(r) for r in rows])
        return len(result.all())

    async def deliveries(self, subscription_id: int, limit: int,
                         before_id: int | None) -> list[dict[str, Any]]:
        """This subscription's delivery log, replays included, newest first."""
        d = deliveries
        mine = or_(d.c.recipient == webhook_recipient(subscription_id),
                   d.c.recipient.startswith(f"{subscription_id}{REPLAY_MARK}", autoescape=True))
        stmt = select(d).where(d.c.channel == WEBHOOK, mine)
        if before_id is not None:
            stmt = stmt.where(d.c.id < before_id)
        rows = await self.conn.execute(stmt.order_by(d.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]


P = push_subscriptions


class PushRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def save(self, *, endpoint: str, subscription: str, order_number: str | None,
                   customer_key: str | None, user_agent: str | None, now: datetime) -> int:
        """Insert, or move an existing endpoint to the new order or customer."""
        values = dict(endpoint=endpoint, subscription=subscription, order_number=order_number,
                      customer_key=customer_key, user_agent=user_agent, created_at=now,
                      updated_at=now)
        ins = (pg_insert(P) if self.conn.dialect.name == "postgresql" else sqlite_insert(P))
        stmt = ins.values(**values).on_conflict_do_update(
            index_elements=[P.c.endpoint],
            set_={k: ins.excluded[k] for k in ("subscription", "order_number", "customer_key",
                                                  "user_agent", "updated_at")})
        new_id: int = (await self.conn.execute(stmt.returning(P.c.id))).scalar_one()
        return new_id

    async def remove(self, endpoints: Sequence[str]) -> int:
        if not endpoints:
            return 0
        result = await self.conn.execute(delete(P).where(P.c.endpoint.in_(list(endpoints))))
        return result.rowcount

    async def recipients(self, order_number: str | None,
                         customer_keys: Sequence[str] = ()) -> list[str]:
        """PushSubscription JSON of every browser following the order or the customer."""
        conds = []
        if order_number:
            conds.append(P.c.order_number == order_number)
        keys = [k for k in customer_keys if k]
        if keys:
            conds.append(P.c.customer_key.in_(keys))
        if not conds:
            return []
        rows = await self.conn.execute(select(P.c.subscription).where(or_(*conds))
                                       .order_by(P.c.id))
        return list(rows.scalars())

    async def get(self, endpoint: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(P).where(P.c.endpoint == endpoint))).first()
        return dict(row._mapping) if row else None
