"""Tracking subscriptions and events, the order a tracking number belongs to, the parcels
gone silent, and the tracking alerts (the shared ``alerts`` table, stage ``tracking``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.deliveries import insert_ignoring_duplicates
from dingdan.store.sla import SCAN_COLUMNS
from dingdan.store.tables import orders
from dingdan.store.tables_carriers import carriers, tracking_events, tracking_subscriptions
from dingdan.store.tables_delivery import alerts


class TrackingRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def order_number_for(self, tracking_number: str) -> str | None:
        """The order shipped with this tracking number (the newest, if reused)."""
        row = (await self.conn.execute(
            select(orders.c.number).where(orders.c.tracking_number == tracking_number)
            .order_by(orders.c.id.desc()).limit(1))).first()
        return str(row[0]) if row else None

    async def add_event(self, values: Mapping[str, Any]) -> int | None:
        """The new event's id, or None if this scan was recorded before (a repeated push)."""
        row = (await self.conn.execute(
            insert_ignoring_duplicates(self.conn, tracking_events).values(**values)
            .returning(tracking_events.c.id))).first()
        return int(row[0]) if row else None

    async def set_event_action(self, event_id: int, action: str) -> None:
        await self.conn.execute(update(tracking_events).where(tracking_events.c.id == event_id)
                                .values(order_action=action))

    async def events(self, order_id: int) -> list[dict[str, Any]]:
        """A parcel's history, newest scan first."""
        rows = await self.conn.execute(
            select(tracking_events).where(tracking_events.c.order_id == order_id)
            .order_by(tracking_events.c.occurred_at.desc(), tracking_events.c.id.desc()))
        return [dict(r._mapping) for r in rows]

    async def subscribe(self, values: Mapping[str, Any]) -> bool:
        """Record a subscription; False if this number was subscribed already."""
        row = (await self.conn.execute(
            insert_ignoring_duplicates(self.conn, tracking_subscriptions).values(**values)
            .returning(tracking_subscriptions.c.id))).first()
        return row is not None

    async def subscriptions(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(tracking_subscriptions).where(tracking_subscriptions.c.order_id == order_id)
            .order_by(tracking_subscriptions.c.id))
        return [dict(r._mapping) for r in rows]

    async def finish_subscription(self, provider: str, tracking_number: str,
                                  now: datetime) -> None:
        await self.conn.execute(
            update(tracking_subscriptions)
            .where(tracking_subscriptions.c.provider == provider,
                   tracking_subscriptions.c.tracking_number == tracking_number)
            .values(status="finished", updated_at=now))

    async def silent_parcels(self, statuses: Sequence[str], quiet_since: datetime,
                             limit: int) -> list[dict[str, Any]]:
        """Orders on the road whose last scan (or hand-over, if none) is before
        ``quiet_since``, oldest first."""
        last = (select(func.max(tracking_events.c.occurred_at))
                .where(tracking_events.c.order_id == orders.c.id).scalar_subquery())
        last_seen = func.coalesce(last, orders.c.shipped_at)
        rows = await self.conn.execute(
            select(*[orders.c[c] for c in SCAN_COLUMNS], last_seen.label("last_seen"))
            .where(orders.c.status.in_(list(statuses)), orders.c.shipped_at.is_not(None),
                   last_seen <= quiet_since)
            .order_by(orders.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def add_alert(self, values: Mapping[str, Any]) -> int | None:
        """The new alert's id, or None when this (order, stage, kind) fired before."""
        row = (await self.conn.execute(
            insert_ignoring_duplicates(self.conn, alerts).values(**values)
            .returning(alerts.c.id))).first()
        return int(row[0]) if row else None

    async def open_alerts(self, stage: str, limit: int = 200,
                          warehouses: Sequence[int] | None = None) -> list[dict[str, Any]]:
        """Open alerts of one stage with their order's carrier and tracking number; only
        orders of ``warehouses`` when given (a person limited to some)."""
        stmt = (select(alerts, orders.c.carrier, orders.c.tracking_number, orders.c.status,
                       orders.c.warehouse_id)
                .select_from(alerts.join(orders, orders.c.number == alerts.c.order_number))
                .where(alerts.c.stage == stage, alerts.c.resolved_at.is_(None)))
        if warehouses is not None:
            stmt = stmt.where(orders.c.warehouse_id.in_(list(warehouses)))
        rows = await self.conn.execute(stmt.order_by(alerts.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def resolve_alerts(self, order_number: str, stage: str, kinds: Sequence[str],
                             now: datetime) -> None:
        await self.conn.execute(
            update(alerts).where(alerts.c.order_number == order_number,
                                 alerts.c.stage == stage, alerts.c.kind.in_(list(kinds)),
                                 alerts.c.resolved_at.is_(None))
            .values(resolved_at=now))

    async def kuaidi100_code(self, carrier: str) -> str | None:
        """The carrier's code at Kuaidi100 (``SF`` → ``shunfeng``), from the catalogue."""
        row = (await self.conn.execute(
            select(carriers.c.kuaidi100_code).where(carriers.c.code == carrier.upper()))).first()
        return str(row[0]) if row and row[0] else None

    async def pending_subscriptions(self, provider: str, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(tracking_subscriptions, orders.c.ship_phone)
            .select_from(tracking_subscriptions.join(
                orders, orders.c.id == tracking_subscriptions.c.order_id))
            .where(tracking_subscriptions.c.provider == provider,
                   tracking_subscriptions.c.status == "pending")
            .order_by(tracking_subscriptions.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def set_subscription_status(self, subscription_id: int, status: str,
                                      now: datetime) -> None:
        await self.conn.execute(
            update(tracking_subscriptions)
            .where(tracking_subscriptions.c.id == subscription_id)
            .values(status=status, updated_at=now))
