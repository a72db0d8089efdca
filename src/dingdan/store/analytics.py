"""The analytics read model's rows: read the timeline since the cursor, keep each order's
measures, add deltas to the sums (one upsert per row), and the dashboard's grouped reads.

Sums are changed only by adding (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``,
which SQLite and PostgreSQL both speak), so two refreshes never lose each other's counts;
rows that fall to zero are deleted, so the tables equal a rebuild row for row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.analytics import DAILY_FIELDS, Event, Measures, OrderFacts, Rollup
from dingdan.store.tables import order_events, order_lines, orders
from dingdan.store.tables_analytics import (
    analytics_cursor,
    analytics_daily,
    analytics_orders,
    analytics_stages,
)

CURSOR = "orders"
DAILY_KEY = ("day", "warehouse_id", "province", "channel", "carrier", "currency")
STAGE_KEY = ("day", "warehouse_id", "status", "bucket")
DIMENSIONS = {"day": analytics_daily.c.day, "warehouse": analytics_daily.c.warehouse_id,
              "province": analytics_daily.c.province, "channel": analytics_daily.c.channel,
              "carrier": analytics_daily.c.carrier, "currency": analytics_daily.c.currency}


def measures_json(m: Measures) -> dict[str, Any]:
    out = asdict(m)
    for k, v in out.items():
        if isinstance(v, datetime | date):
            out[k] = v.isoformat()
    out["stays"] = [list(s) for s in m.stays]
    return out


def measures_of(d: Mapping[str, Any]) -> Measures:
    def when(v: str | None) -> datetime | None:
        return None if v is None else datetime.fromisoformat(v)

    return Measures(
        order_id=int(d["order_id"]), day=date.fromisoformat(d["day"]),
        warehouse_id=int(d["warehouse_id"]), province=d["province"], channel=d["channel"],
        carrier=d["carrier"], currency=d["currency"], total=int(d["total"]),
        cancelled=bool(d["cancelled"]), shipped_at=when(d["shipped_at"]),
        delivered_at=when(d["delivered_at"]), on_time_ship=d["on_time_ship"],
        on_time_deliver=d["on_time_deliver"],
        stays=tuple((str(s), int(n)) for s, n in d["stays"]),
        lead_seconds=d["lead_seconds"])


class AnalyticsRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # -- refreshing ------------------------------------------------------------------------

    async def lock_cursor(self, now: datetime) -> tuple[int, datetime | None]:
        """How far the model has read and when, with the cursor row locked on PostgreSQL
        until the transaction ends (a second refresher waits, then reads the new cursor)."""
        c = analytics_cursor.c
        query = select(c.last_event_id, c.refreshed_at).where(c.name == CURSOR)
        if self.conn.dialect.name == "postgresql":
            await self.conn.execute(postgresql.insert(analytics_cursor).values(
                name=CURSOR, last_event_id=0, refreshed_at=now).on_conflict_do_nothing())
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return (0, None) if row is None else (int(row[0]), row[1])

    async def set_cursor(self, last_event_id: int, now: datetime) -> None:
        done = await self.conn.execute(
            update(analytics_cursor).where(analytics_cursor.c.name == CURSOR)
            .values(last_event_id=last_event_id, refreshed_at=now))
        if not done.rowcount:
            await self.conn.execute(insert(analytics_cursor).values(
                name=CURSOR, last_event_id=last_event_id, refreshed_at=now))

    async def orders_touched(self, after_event_id: int, limit: int) -> tuple[list[int], int]:
        """Orders with events after ``after_event_id`` (at most ``limit`` events read), and
        the last event id read."""
        rows = (await self.conn.execute(
            select(order_events.c.id, order_events.c.order_id)
            .where(order_events.c.id > after_event_id)
            .order_by(order_events.c.id).limit(limit))).all()
        if not rows:
            return [], after_event_id
        return sorted({int(r[1]) for r in rows}), int(rows[-1][0])

    async def orders_touched_since(self, since: datetime, up_to_event_id: int,
                                   window: int) -> list[int]:
        """Orders with events stamped since ``since`` among the last ``window`` event ids at
        or below the cursor: read again, in case a transaction that took a lower id
        committed after the cursor passed it. (The id window keeps this on the primary key:
        order_events has no index on its time, and a scan of it took 10 s at 9.5M events.)"""
        e = order_events.c
        rows = await self.conn.execute(
            select(e.order_id).distinct()
            .where(e.id > up_to_event_id - window, e.id <= up_to_event_id,
                   e.created_at >= since))
        return sorted(int(r[0]) for r in rows)

    async def facts_and_events(self, order_ids: Sequence[int]
                               ) -> dict[int, tuple[OrderFacts, list[Event]]]:
        if not order_ids:
            return {}
        o = orders.c
        facts = {int(r.id): OrderFacts(int(r.id), int(r.warehouse_id or 0), r.placed_at,
                                       r.ship_province, r.channel, r.currency, int(r.total),
                                       r.carrier, r.ship_by, r.deliver_by)
                 for r in await self.conn.execute(
                     select(o.id, o.warehouse_id, o.placed_at, o.ship_province, o.channel,
                            o.currency, o.total, o.carrier, o.ship_by, o.deliver_by)
                     .where(o.id.in_(order_ids)))}
        events: dict[int, list[Event]] = {i: [] for i in facts}
        e = order_events.c
        for r in await self.conn.execute(
                select(e.order_id, e.to_status, e.created_at)
                .where(e.order_id.in_(order_ids)).order_by(e.order_id, e.id)):
            events[int(r.order_id)].append(Event(r.to_status, r.created_at))
        return {i: (facts[i], events[i]) for i in facts}

    async def measures(self, order_ids: Sequence[int]) -> dict[int, Measures]:
        if not order_ids:
            return {}
        rows = await self.conn.execute(
            select(analytics_orders.c.order_id, analytics_orders.c.measures)
            .where(analytics_orders.c.order_id.in_(order_ids)))
        return {int(r[0]): measures_of(r[1]) for r in rows}

    async def save_measures(self, changed: Mapping[int, Measures], known: Iterable[int],
                            now: datetime) -> None:
        known = set(known)
        fresh = [dict(order_id=i, measures=measures_json(m), updated_at=now)
                 for i, m in changed.items() if i not in known]
        if fresh:
            await self.conn.execute(insert(analytics_orders), fresh)
        moved = [dict(key=i, measures=measures_json(m), updated_at=now)
                 for i, m in changed.items() if i in known]
        if moved:
            await self.conn.execute(
                update(analytics_orders).where(analytics_orders.c.order_id == bindparam("key"))
                .values(measures=bindparam("measures"), updated_at=bindparam("updated_at")),
                moved)

    async def add(self, change: Rollup) -> None:
        """Add ``change`` to the sums; delete the rows it brings to zero."""
        if change.daily:
            await self._upsert(analytics_daily, DAILY_KEY, DAILY_FIELDS, [
                dict(zip(DAILY_KEY, key, strict=True)) | dict(zip(DAILY_FIELDS, v, strict=True))
                for key, v in change.daily.items()])
            await self._prune(analytics_daily, DAILY_KEY, "orders",
                              [k for k, v in change.daily.items() if v[0] < 0])
        if change.stages:
            await self._upsert(analytics_stages, STAGE_KEY, ("n", "seconds"), [
                dict(zip(STAGE_KEY, key, strict=True)) | {"n": v[0], "seconds": v[1]}
                for key, v in change.stages.items()])
            await self._prune(analytics_stages, STAGE_KEY, "n",
                              [k for k, v in change.stages.items() if v[0] < 0])

    async def _upsert(self, table: Any, key: Sequence[str], fields: Sequence[str],
                      rows: list[dict[str, Any]]) -> None:
        make = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        stmt = make(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(key),
            set_={f: table.c[f] + stmt.excluded[f] for f in fields})
        await self.conn.execute(stmt, rows)

    async def _prune(self, table: Any, key: Sequence[str], count: str,
                     keys: list[tuple[Any, ...]]) -> None:
        # Only a row whose count went down can have reached zero.
        for k in keys:
            await self.conn.execute(delete(table).where(
                and_(*(table.c[c] == v for c, v in zip(key, k, strict=True))),
                table.c[count] == 0))

    async def clear(self) -> None:
        for table in (analytics_daily, analytics_stages, analytics_orders, analytics_cursor):
            await self.conn.execute(delete(table))

    # -- reading ---------------------------------------------------------------------------

    def _where(self, start: date, end: date, warehouses: Sequence[int] | None,
               table: Any = analytics_daily) -> list[Any]:
        out = [table.c.day >= start, table.c.day <= end]
        if warehouses is not None:
            out.append(table.c.warehouse_id.in_(warehouses))
        return out

    async def daily_sums(self, start: date, end: date, warehouses: Sequence[int] | None,
                         by: Sequence[str] = (),
                         filters: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Sums of the daily counts grouped by ``by`` (dimension names): each row is the
        dimension values then the counts in ``DAILY_FIELDS`` order."""
        cols = [DIMENSIONS[d] for d in by]
        where = self._where(start, end, warehouses)
        for name, value in (filters or {}).items():
            where.append(DIMENSIONS[name] == value)
        stmt = select(*cols, *(func.coalesce(func.sum(analytics_daily.c[f]), 0)
                               for f in DAILY_FIELDS)).where(*where)
        if cols:
            stmt = stmt.group_by(*cols).order_by(*cols)
        return [tuple(r) for r in await self.conn.execute(stmt)]

    async def stage_sums(self, start: date, end: date, warehouses: Sequence[int] | None
                         ) -> list[tuple[str, int, int, int]]:
        s = analytics_stages.c
        rows = await self.conn.execute(
            select(s.status, s.bucket, func.sum(s.n), func.sum(s.seconds))
            .where(*self._where(start, end, warehouses, analytics_stages))
            .group_by(s.status, s.bucket))
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    async def cohort(self, placed_from: datetime, placed_to: datetime,
                     warehouses: Sequence[int] | None, open_only: bool, limit: int
                     ) -> list[dict[str, Any]]:
        """The latest ``limit`` orders placed in the range, for the Gantt's rows."""
        o = orders.c
        where = [o.placed_at >= placed_from, o.placed_at < placed_to]
        if warehouses is not None:
            where.append(o.warehouse_id.in_(warehouses))
        if open_only:
            where.append(o.status.not_in(("completed", "cancelled")))
        rows = await self.conn.execute(
            select(o.id, o.number, o.status, o.placed_at, o.warehouse_id).where(*where)
            .order_by(o.placed_at.desc(), o.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def events_of(self, order_ids: Sequence[int]) -> dict[int, list[Event]]:
        out: dict[int, list[Event]] = {i: [] for i in order_ids}
        if not order_ids:
            return out
        e = order_events.c
        for r in await self.conn.execute(
                select(e.order_id, e.to_status, e.created_at)
                .where(e.order_id.in_(order_ids), e.to_status.is_not(None))
                .order_by(e.order_id, e.id)):
            out[int(r.order_id)].append(Event(r.to_status, r.created_at))
        return out

    async def sku_sales(self, sku: str, since: datetime, warehouses: Sequence[int] | None
                        ) -> list[tuple[datetime, int]]:
        """(placed at, quantity) of every line of ``sku`` in orders placed since ``since``,
        cancelled orders left out (demand that was not met is not known here)."""
        o, ln = orders.c, order_lines.c
        where = [ln.sku == sku, o.placed_at >= since, o.status != "cancelled"]
        if warehouses is not None:
            where.append(ln.warehouse_id.in_(warehouses))
        rows = await self.conn.execute(
            select(o.placed_at, ln.quantity).select_from(order_lines.join(
                orders, o.id == ln.order_id)).where(*where))
        return [(r[0], int(r[1])) for r in rows]

    async def top_skus(self, since: datetime, warehouses: Sequence[int] | None,
                       limit: int) -> list[str]:
        o, ln = orders.c, order_lines.c
        where = [o.placed_at >= since, o.status != "cancelled"]
        if warehouses is not None:
            where.append(ln.warehouse_id.in_(warehouses))
        units = func.sum(ln.quantity)
        rows = await self.conn.execute(
            select(ln.sku, units).select_from(order_lines.join(orders, o.id == ln.order_id))
            .where(*where).group_by(ln.sku).order_by(units.desc(), ln.sku).limit(limit))
        return [str(r[0]) for r in rows]
