"""SLA policies, the holiday calendar, alerts, scheduler ticks, and the order queries the timed
jobs run (stage scan, unpaid orders, delivered orders)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.deliveries import insert_ignoring_duplicates
from dingdan.store.tables import orders
from dingdan.store.tables_delivery import alerts, holidays, scheduler_ticks, sla_policies

SCAN_COLUMNS = ("id", "number", "status", "held_from", "placed_at", "paid_at", "shipped_at",
                "ship_by", "deliver_by", "customer_name", "customer_email", "customer_phone",
                "carrier", "tracking_number", "payment_status", "fulfillment_status", "channel",
                "external_id", "total", "currency", "version")


class SlaRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # -- policies and calendar ----------------------------------------------------------

    async def policies(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(sla_policies).order_by(sla_policies.c.stage))
        return [dict(r._mapping) for r in rows]

    async def put_policy(self, stage: str, values: Mapping[str, Any],
                         expected_version: int | None, now: datetime) -> bool:
        if expected_version is None:
            inserted = (await self.conn.execute(
                insert_ignoring_duplicates(self.conn, sla_policies).values(
                    stage=stage, **values, version=1, updated_at=now)
                .returning(sla_policies.c.stage))).first()
            if inserted is not None:
                return True
        conds = [sla_policies.c.stage == stage]
        if expected_version is not None:
            conds.append(sla_policies.c.version == expected_version)
        result = await self.conn.execute(
            update(sla_policies).where(*conds)
            .values(**values, version=sla_policies.c.version + 1, updated_at=now))
        return result.rowcount == 1

    async def days(self, start: date | None = None, end: date | None = None,
                   ) -> list[dict[str, Any]]:
        stmt = select(holidays).order_by(holidays.c.day)
        if start is not None:
            stmt = stmt.where(holidays.c.day >= start)
        if end is not None:
            stmt = stmt.where(holidays.c.day < end)
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]

    async def put_day(self, day: date, kind: str, name: str) -> None:
        updated = await self.conn.execute(
            update(holidays).where(holidays.c.day == day).values(kind=kind, name=name))
        if updated.rowcount == 0:
            await self.conn.execute(holidays.insert().values(day=day, kind=kind, name=name))

    async def delete_day(self, day: date) -> bool:
        result = await self.conn.execute(delete(holidays).where(holidays.c.day == day))
        return result.rowcount == 1

    # -- alerts -------------------------------------------------------------------------

    async def add_alert(self, values: Mapping[str, Any]) -> int | None:
        """The new alert's id, or None when this (order, stage, kind) has fired already."""
        row = (await self.conn.execute(
            insert_ignoring_duplicates(self.conn, alerts).values(**values)
            .returning(alerts.c.id))).first()
        return int(row[0]) if row else None

    async def alerts(self, *, order_number: str | None = None, open_only: bool = False,
                     kind: str | None = None, stage: str | None = None,
                     before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        stmt = select(alerts)
        if order_number:
            stmt = stmt.where(alerts.c.order_number == order_number)
        if open_only:
            stmt = stmt.where(alerts.c.resolved_at.is_(None))
        if kind:
            stmt = stmt.where(alerts.c.kind == kind)
        if stage:
            stmt = stmt.where(alerts.c.stage == stage)
        if before_id is not None:
            stmt = stmt.where(alerts.c.id < before_id)
        rows = await self.conn.execute(stmt.order_by(alerts.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def open_breaches(self, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The earliest-due open breached alert of each of these orders, in one query."""
        if not numbers:
            return {}
        rows = await self.conn.execute(
            select(alerts.c.order_number, alerts.c.stage, alerts.c.deadline)
            .where(alerts.c.order_number.in_(list(numbers)), alerts.c.kind == "breached",
                   alerts.c.resolved_at.is_(None))
            .order_by(alerts.c.deadline))
        found: dict[str, dict[str, Any]] = {}
        for r in rows:
            found.setdefault(r.order_number, {"stage": r.stage, "deadline": r.deadline})
        return found

    async def acknowledge(self, alert_id: int, actor: str, now: datetime) -> bool:
        result = await self.conn.execute(
            update(alerts).where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None))
            .values(acknowledged_at=now, acknowledged_by=actor))
        return result.rowcount == 1

    async def alert_exists(self, alert_id: int) -> bool:
        return (await self.conn.execute(
            select(alerts.c.id).where(alerts.c.id == alert_id))).first() is not None

    async def resolve_left(self, stage: str, running_statuses: Sequence[str],
                           now: datetime) -> int:
        """Close the open alerts of orders that have left ``stage``."""
        still_running = select(orders.c.number).where(
            orders.c.status.in_(list(running_statuses)))
        result = await self.conn.execute(
            update(alerts).where(alerts.c.stage == stage, alerts.c.resolved_at.is_(None),
                                 alerts.c.order_number.not_in(still_running))
            .values(resolved_at=now))
        return max(result.rowcount, 0)

    # -- scheduler ----------------------------------------------------------------------

    async def claim_tick(self, job: str, tick: str, owner: str, now: datetime) -> bool:
        """True for exactly one caller per (job, tick), however many workers ask."""
        row = (await self.conn.execute(
            insert_ignoring_duplicates(self.conn, scheduler_ticks).values(
                job=job, tick=tick, owner=owner, created_at=now)
            .returning(scheduler_ticks.c.job))).first()
        return row is not None

    async def prune_ticks(self, before: datetime) -> None:
        await self.conn.execute(delete(scheduler_ticks)
                                .where(scheduler_ticks.c.created_at < before))

    # -- the orders the timed jobs look at ----------------------------------------------

    async def scan_candidates(self, *, before_shipping: Sequence[str],
                              on_the_road: Sequence[str], started_before: datetime,
                              shipped_before: datetime, promised_before: datetime,
                              after_id: int, limit: int) -> list[dict[str, Any]]:
        """Open orders whose stage clock may have reached its warning, by id: a cheap
        pre-filter on indexed columns; the domain decides."""
        o = orders.c
        started = func.coalesce(o.paid_at, o.placed_at)
        waiting = o.status.in_(list(before_shipping))
        travelling = o.status.in_(list(on_the_road))
        rows = await self.conn.execute(
            select(*[o[c] for c in SCAN_COLUMNS]).where(
                o.id > after_id,
                or_(and_(waiting, or_(started <= started_before,
                                      o.ship_by <= promised_before)),
                    and_(travelling, or_(o.shipped_at <= shipped_before,
                                         o.deliver_by <= promised_before))))
            .order_by(o.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def order_clock(self, number: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(*[orders.c[c] for c in SCAN_COLUMNS]).where(orders.c.number == number))
        ).first()
        return dict(row._mapping) if row else None

    async def numbers_in_status(self, status: str, *, column: str, before: datetime,
                                limit: int, exclude_payment_methods: Sequence[str] = (),
                                ) -> list[str]:
        """Order numbers in ``status`` whose ``column`` time is before ``before``, oldest
        first."""
        col = orders.c[column]
        stmt = select(orders.c.number).where(orders.c.status == status, col < before)
        if exclude_payment_methods:
            stmt = stmt.where(or_(orders.c.payment_method.is_(None),
                                  orders.c.payment_method.not_in(list(exclude_payment_methods))))
        rows = await self.conn.execute(stmt.order_by(col, orders.c.id).limit(limit))
        return [r[0] for r in rows]
