"""Back-office reads and working state: today's counts, overdue orders, the review queue,
review assignments, saved views, bulk line reads for export, and the event feed that drives
live pages. Order facts are only read here; they change through ``services.orders``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import order_events, order_lines, orders
from dingdan.store.tables_ui import review_assignments, saved_views

_SUMMARY_COLS = (orders.c.id, orders.c.number, orders.c.channel, orders.c.status,
                 orders.c.payment_status, orders.c.customer_name, orders.c.customer_phone,
                 orders.c.ship_province, orders.c.ship_city, orders.c.currency, orders.c.total,
                 orders.c.placed_at, orders.c.ship_by, orders.c.payment_method,
                 orders.c.warehouse_id, orders.c.held_from, orders.c.version)


class BackofficeRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # -- today's counts ------------------------------------------------------------------
    async def count_placed_since(self, since: datetime) -> int:
        stmt = select(func.count()).select_from(orders).where(orders.c.placed_at >= since)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def count_by_status(self, statuses: Iterable[str]) -> dict[str, int]:
        rows = await self.conn.execute(
            select(orders.c.status, func.count()).where(orders.c.status.in_(list(statuses)))
            .group_by(orders.c.status))
        return {r[0]: int(r[1]) for r in rows}

    async def count_overdue(self, now: datetime, open_statuses: Iterable[str]) -> int:
        stmt = (select(func.count()).select_from(orders)
                .where(orders.c.status.in_(list(open_statuses)), orders.c.ship_by < now))
        return int((await self.conn.execute(stmt)).scalar_one())

    async def overdue(self, now: datetime, open_statuses: Iterable[str],
                      limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(*_SUMMARY_COLS)
            .where(orders.c.status.in_(list(open_statuses)), orders.c.ship_by < now)
            .order_by(orders.c.ship_by, orders.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    # -- the review queue ----------------------------------------------------------------
    async def review_queue(self, statuses: Sequence[str], reason_types: Sequence[str],
                           assignee: str | None, limit: int) -> list[dict[str, Any]]:
        """Orders in ``statuses``, oldest first, with who took them and the latest reason
        recorded by an event of ``reason_types`` (why the order is in the queue)."""
        ev = order_events.alias("ev")
        latest = (select(func.max(ev.c.id)).where(ev.c.order_id == orders.c.id,
                                                  ev.c.type.in_(list(reason_types)))
                  .correlate(orders).scalar_subquery())
        reason = (select(order_events.c.reason).where(order_events.c.id == latest)
                  .correlate(orders).scalar_subquery())
        reason_actor = (select(order_events.c.actor).where(order_events.c.id == latest)
                        .correlate(orders).scalar_subquery())
        reason_at = (select(order_events.c.created_at).where(order_events.c.id == latest)
                     .correlate(orders).scalar_subquery())
        stmt = (select(*_SUMMARY_COLS, review_assignments.c.assignee,
                       review_assignments.c.assignee_name, review_assignments.c.assigned_at,
                       reason.label("reason"), reason_actor.label("reason_actor"),
                       reason_at.label("queued_at"))
                .select_from(orders.outerjoin(review_assignments,
                                              review_assignments.c.order_id == orders.c.id))
                .where(orders.c.status.in_(list(statuses)))
                .order_by(orders.c.placed_at, orders.c.id).limit(limit))
        if assignee is not None:
            stmt = stmt.where(review_assignments.c.assignee == assignee)
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]

    async def assign(self, order_id: int, assignee: str, assignee_name: str,
                     now: datetime) -> None:
        await self.conn.execute(delete(review_assignments)
                                .where(review_assignments.c.order_id == order_id))
        await self.conn.execute(insert(review_assignments).values(
            order_id=order_id, assignee=assignee, assignee_name=assignee_name, assigned_at=now))

    async def unassign(self, order_id: int) -> None:
        await self.conn.execute(delete(review_assignments)
                                .where(review_assignments.c.order_id == order_id))

    async def assignment(self, order_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(review_assignments)
                                       .where(review_assignments.c.order_id == order_id))).first()
        return dict(row._mapping) if row else None

    # -- saved views ---------------------------------------------------------------------
    async def views(self, owner: str) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(saved_views).where(saved_views.c.owner == owner)
                                       .order_by(saved_views.c.name))
        return [dict(r._mapping) for r in rows]

    async def save_view(self, owner: str, name: str, query: str, now: datetime) -> int:
        """Create or replace the owner's view called ``name``."""
        await self.conn.execute(delete(saved_views).where(saved_views.c.owner == owner,
                                                          saved_views.c.name == name))
        view_id: int = (await self.conn.execute(
            insert(saved_views).values(owner=owner, name=name, query=query, created_at=now)
            .returning(saved_views.c.id))).scalar_one()
        return view_id

    async def delete_view(self, owner: str, view_id: int) -> bool:
        result = await self.conn.execute(delete(saved_views).where(
            saved_views.c.owner == owner, saved_views.c.id == view_id))
        return result.rowcount == 1

    # -- export --------------------------------------------------------------------------
    async def lines_for(self, order_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {i: [] for i in order_ids}
        if not order_ids:
            return out
        rows = await self.conn.execute(
            select(order_lines).where(order_lines.c.order_id.in_(list(order_ids)))
            .order_by(order_lines.c.order_id, order_lines.c.line_no))
        for r in rows:
            out[r.order_id].append(dict(r._mapping))
        return out

    # -- the event feed (live pages) -----------------------------------------------------
    async def last_event_id(self) -> int:
        return int((await self.conn.execute(select(func.max(order_events.c.id)))).scalar() or 0)

    async def events_after(self, last_id: int, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(order_events.c.id, orders.c.number, order_events.c.type,
                   order_events.c.to_status)
            .select_from(order_events.join(orders, orders.c.id == order_events.c.order_id))
            .where(order_events.c.id > last_id).order_by(order_events.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def order_id(self, number: str) -> int | None:
        row = (await self.conn.execute(select(orders.c.id)
                                       .where(orders.c.number == number))).first()
        return int(row[0]) if row else None
