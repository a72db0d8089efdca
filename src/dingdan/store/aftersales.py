"""After-sales rows: cases and their lines, refunds, return rules, complaints and their
messages, and the case timeline with its outbox rows. Updates are optimistic (``version``).
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import orders, outbox
from dingdan.store.tables_aftersales import (
    aftersales_case_lines,
    aftersales_cases,
    case_events,
    complaint_messages,
    complaints,
    refunds,
    return_rules,
)
from dingdan.store.tables_people import user_roles, users


def _cursor(created_at: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([created_at.isoformat(), row_id])).decode()


def _uncursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        at, row_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), int(row_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        return None


async def _page(conn: AsyncConnection, stmt: Select[Any], table: Any, limit: int,
                cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, ``limit`` rows after ``cursor`` (an unreadable cursor: the first page)."""
    after = _uncursor(cursor) if cursor else None
    if after is not None:
        # A row-value comparison, not an OR: both databases walk the (created_at, id) index.
        stmt = stmt.where(tuple_(table.c.created_at, table.c.id) <
                          tuple_(literal(after[0], table.c.created_at.type),
                                 literal(after[1], table.c.id.type)))
    stmt = stmt.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit + 1)
    rows = [dict(r._mapping) for r in await conn.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more and rows else None)


def _scoped(stmt: Select[Any], table: Any, warehouse_ids: Collection[int] | None
            ) -> Select[Any]:
    if warehouse_ids is not None:
        stmt = stmt.where(table.c.warehouse_id.in_(sorted(warehouse_ids)))
    return stmt


class CaseRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def insert(self, values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        case_id = int((await self.conn.execute(
            insert(aftersales_cases).values(**values).returning(aftersales_cases.c.id))
        ).scalar_one())
        await self.conn.execute(insert(aftersales_case_lines),
                                [{**ln, "case_id": case_id} for ln in lines])
        return case_id

    async def get(self, number: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(aftersales_cases).where(
            aftersales_cases.c.number == number))).first()
        if row is None:
            return None
        case = dict(row._mapping)
        case["lines"] = [dict(r._mapping) for r in await self.conn.execute(
            select(aftersales_case_lines).where(aftersales_case_lines.c.case_id == case["id"])
            .order_by(aftersales_case_lines.c.line_no))]
        return case

    async def update(self, case_id: int, version: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(aftersales_cases).where(aftersales_cases.c.id == case_id,
                                           aftersales_cases.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def set_condition(self, case_id: int, line_no: int, condition: str) -> None:
        await self.conn.execute(update(aftersales_case_lines).where(
            aftersales_case_lines.c.case_id == case_id,
            aftersales_case_lines.c.line_no == line_no).values(condition=condition))

    async def taken(self, order_id: int, statuses: Iterable[str]) -> dict[int, int]:
        """Per order line, the quantity cases in ``statuses`` hold."""
        rows = await self.conn.execute(
            select(aftersales_case_lines.c.line_no, func.sum(aftersales_case_lines.c.quantity))
            .join(aftersales_cases, aftersales_cases.c.id == aftersales_case_lines.c.case_id)
            .where(aftersales_cases.c.order_id == order_id,
                   aftersales_cases.c.status.in_(sorted(statuses)))
            .group_by(aftersales_case_lines.c.line_no))
        return {int(r[0]): int(r[1]) for r in rows}

    async def for_order(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(aftersales_cases).where(
            aftersales_cases.c.order_id == order_id).order_by(aftersales_cases.c.id))
        return [dict(r._mapping) for r in rows]

    async def page(self, *, statuses: Sequence[str] = (), type: str | None = None,
                   order_number: str | None = None, limit: int = 50,
                   cursor: str | None = None,
                   warehouse_ids: Collection[int] | None = None,
                   ) -> tuple[list[dict[str, Any]], str | None]:
        stmt = select(aftersales_cases)
        if statuses:
            stmt = stmt.where(aftersales_cases.c.status.in_(list(statuses)))
        if type:
            stmt = stmt.where(aftersales_cases.c.type == type)
        if order_number:
            stmt = stmt.where(aftersales_cases.c.order_number == order_number)
        stmt = _scoped(stmt, aftersales_cases, warehouse_ids)
        return await _page(self.conn, stmt, aftersales_cases, limit, cursor)

    async def rules(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(return_rules).order_by(return_rules.c.sku_prefix))
        return [dict(r._mapping) for r in rows]

    async def rule(self, sku_prefix: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(return_rules).where(
            return_rules.c.sku_prefix == sku_prefix))).first()
        return dict(row._mapping) if row else None

    async def insert_rule(self, values: Mapping[str, Any]) -> None:
        await self.conn.execute(insert(return_rules).values(**values))

    async def update_rule(self, rule_id: int, version: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(return_rules).where(return_rules.c.id == rule_id,
                                       return_rules.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1


class RefundRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def insert(self, values: Mapping[str, Any]) -> int:
        return int((await self.conn.execute(
            insert(refunds).values(**values).returning(refunds.c.id))).scalar_one())

    async def get(self, refund_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(refunds).where(refunds.c.id == refund_id))).first()
        return dict(row._mapping) if row else None

    async def update(self, refund_id: int, version: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(refunds).where(refunds.c.id == refund_id, refunds.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def for_order(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(refunds).where(refunds.c.order_id == order_id)
                                       .order_by(refunds.c.id))
        return [dict(r._mapping) for r in rows]

    async def totals(self, order_id: int) -> tuple[int, int]:
        """(committed: every refund not failed, succeeded) of one order."""
        rows = await self.conn.execute(
            select(refunds.c.status, func.sum(refunds.c.amount))
            .where(refunds.c.order_id == order_id).group_by(refunds.c.status))
        by = {r[0]: int(r[1]) for r in rows}
        return by.get("pending", 0) + by.get("succeeded", 0), by.get("succeeded", 0)

    async def page(self, *, statuses: Sequence[str] = (), limit: int = 50,
                   cursor: str | None = None, warehouse_ids: Collection[int] | None = None,
                   ) -> tuple[list[dict[str, Any]], str | None]:
        stmt = select(refunds)
        if statuses:
            stmt = stmt.where(refunds.c.status.in_(list(statuses)))
        if warehouse_ids is not None:
            stmt = stmt.where(refunds.c.order_id.in_(
                select(orders.c.id).where(orders.c.warehouse_id.in_(sorted(warehouse_ids)))))
        return await _page(self.conn, stmt, refunds, limit, cursor)


class ComplaintRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def insert(self, values: Mapping[str, Any]) -> int:
        return int((await self.conn.execute(
            insert(complaints).values(**values).returning(complaints.c.id))).scalar_one())

    async def get(self, number: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(complaints).where(
            complaints.c.number == number))).first()
        return dict(row._mapping) if row else None

    async def update(self, complaint_id: int, version: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(complaints).where(complaints.c.id == complaint_id,
                                     complaints.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def add_message(self, values: Mapping[str, Any]) -> None:
        await self.conn.execute(insert(complaint_messages).values(**values))

    async def messages(self, complaint_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(complaint_messages).where(complaint_messages.c.complaint_id == complaint_id)
            .order_by(complaint_messages.c.id))
        return [dict(r._mapping) for r in rows]

    async def staff(self, role: str, open_statuses: Sequence[str]) -> list[tuple[int, str, int]]:
        """Active people holding ``role``, each with how many open complaints they own."""
        load = (select(complaints.c.owner_id, func.count().label("n"))
                .where(complaints.c.status.in_(list(open_statuses)))
                .group_by(complaints.c.owner_id).subquery())
        rows = await self.conn.execute(
            select(users.c.id, users.c.name, func.coalesce(load.c.n, 0))
            .join(user_roles, user_roles.c.user_id == users.c.id)
            .outerjoin(load, load.c.owner_id == users.c.id)
            .where(user_roles.c.role == role, users.c.active.is_(True)))
        return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def earlier_from(self, phone: str | None, email: str | None,
                           before_id: int | None = None) -> int:
        """How many complaints the same customer (phone or email) made about any order."""
        keys = []
        if phone:
            keys.append(orders.c.customer_phone == phone)
        if email:
            keys.append(orders.c.customer_email == email)
        if not keys:
            return 0
        cond = keys[0] if len(keys) == 1 else keys[0] | keys[1]
        stmt = (select(func.count()).select_from(complaints.join(
            orders, orders.c.id == complaints.c.order_id)).where(cond))
        if before_id is not None:
            stmt = stmt.where(complaints.c.id < before_id)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def running(self, statuses: Sequence[str], now: datetime,
                      limit: int = 500) -> list[dict[str, Any]]:
        """Complaints in ``statuses`` with a deadline before ``now`` (the breach scan)."""
        rows = await self.conn.execute(
            select(complaints).where(complaints.c.status.in_(list(statuses)),
                                     (complaints.c.first_response_due < now)
                                     | (complaints.c.resolution_due < now))
            .order_by(complaints.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def page(self, *, statuses: Sequence[str] = (), category: str | None = None,
                   owner_id: int | None = None, escalated: bool | None = None,
                   order_number: str | None = None, limit: int = 50,
                   cursor: str | None = None, warehouse_ids: Collection[int] | None = None,
                   ) -> tuple[list[dict[str, Any]], str | None]:
        stmt = select(complaints)
        if statuses:
            stmt = stmt.where(complaints.c.status.in_(list(statuses)))
        if category:
            stmt = stmt.where(complaints.c.category == category)
        if owner_id:
            stmt = stmt.where(complaints.c.owner_id == owner_id)
        if escalated is not None:
            stmt = stmt.where(complaints.c.escalated_at.is_not(None) if escalated
                              else complaints.c.escalated_at.is_(None))
        if order_number:
            stmt = stmt.where(complaints.c.order_number == order_number)
        stmt = _scoped(stmt, complaints, warehouse_ids)
        return await _page(self.conn, stmt, complaints, limit, cursor)

    async def by_category(self, since: datetime) -> dict[str, int]:
        """Why customers complain: complaints per category since ``since``."""
        rows = await self.conn.execute(
            select(complaints.c.category, func.count()).where(complaints.c.created_at >= since)
            .group_by(complaints.c.category))
        return {str(r[0]): int(r[1]) for r in rows}


class CaseEventRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(self, *, values: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
        """Append one timeline event and its outbox row (same event id in both)."""
        await self.conn.execute(insert(case_events).values(**values))
        await self.conn.execute(insert(outbox).values(
            event_id=values["event_id"], type=values["type"],
            order_number=values["order_number"], payload=dict(payload),
            created_at=values["created_at"]))

    async def timeline(self, kind: str, case_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(case_events).where(case_events.c.kind == kind,
                                      case_events.c.case_id == case_id)
            .order_by(case_events.c.id))
        return [dict(r._mapping) for r in rows]
