"""Customer records: match by contact, link orders, history figures, edits with optimistic
concurrency, merge. A repository over the caller's connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import order_lines, orders
from dingdan.store.tables_review import customer_contacts, customer_orders, customers

C, K, L = customers, customer_contacts, customer_orders
# Built once (intake runs them for every order): building a statement costs more than
# executing it. A merge moves the contacts to the survivor, so ``merged_into`` is a safety.
_KNOWN = (select(K.c.kind, K.c.value, K.c.customer_id, C.c.merged_into)
          .select_from(K.join(C, C.c.id == K.c.customer_id))
          .where(K.c.value.in_(bindparam("p_values", expanding=True))))
_CREATE = insert(C).returning(C.c.id)
_ADD_CONTACT = insert(K)
_LINK = insert(L)
# Orders still owed for: not paid, not cancelled (cash on delivery, credit terms).
_OPEN = (orders.c.payment_status == "unpaid") & (orders.c.status != "cancelled")


class CustomerRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def known(self, contacts: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which of ``contacts`` (kind, value) are on file, and the customer that lives on
        (a merged record's survivor) for each. One statement: intake runs it for every order."""
        if not contacts:
            return {}
        rows = await self.conn.execute(_KNOWN, {"p_values": [v for _, v in contacts]})
        wanted = set(contacts)
        return {(r.kind, r.value): int(r.merged_into or r.customer_id) for r in rows
                if (r.kind, r.value) in wanted}

    async def match(self, contacts: Sequence[tuple[str, str]]) -> int | None:
        """The customer known by the first of ``contacts`` (kind, value) that is on file."""
        known = await self.known(contacts)
        return next((known[c] for c in contacts if c in known), None)

    async def create(self, values: Mapping[str, Any]) -> int:
        new_id = (await self.conn.execute(_CREATE, dict(values))).scalar_one()
        return int(new_id)

    async def add_contacts(self, customer_id: int, contacts: Sequence[tuple[str, str]]) -> None:
        """Record contacts (the caller left out those on file)."""
        if contacts:
            await self.conn.execute(_ADD_CONTACT, [
                {"customer_id": customer_id, "kind": k, "value": v} for k, v in contacts])

    async def link(self, order_id: int, customer_id: int) -> None:
        await self.conn.execute(_LINK, {"order_id": order_id, "customer_id": customer_id})

    async def customer_of(self, order_id: int) -> int | None:
        row = (await self.conn.execute(select(L.c.customer_id)
                                       .where(L.c.order_id == order_id))).first()
        return int(row[0]) if row else None

    async def get(self, customer_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(C).where(C.c.id == customer_id))).first()
        return dict(row._mapping) if row else None

    async def contacts(self, customer_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(K.c.kind, K.c.value)
                                       .where(K.c.customer_id == customer_id).order_by(K.c.id))
        return [dict(r._mapping) for r in rows]

    async def history(self, customer_id: int, before_order_id: int | None = None
                      ) -> dict[str, int]:
        """Order count, paid and cancelled counts, lifetime value (paid), open exposure."""
        o = orders
        stmt = (select(
            func.count().label("orders"),
            func.coalesce(func.sum(case((o.c.payment_status == "paid", 1), else_=0)), 0)
            .label("paid_orders"),
            func.coalesce(func.sum(case((o.c.status == "cancelled", 1), else_=0)), 0)
            .label("cancelled_orders"),
            func.coalesce(func.sum(case((o.c.payment_status == "paid", o.c.total), else_=0)),
                          0).label("lifetime_value"),
            func.coalesce(func.sum(case((_OPEN, o.c.total), else_=0)), 0)
            .label("open_exposure"))
            .select_from(L.join(o, o.c.id == L.c.order_id))
            .where(L.c.customer_id == customer_id))
        if before_order_id is not None:
            stmt = stmt.where(L.c.order_id != before_order_id)
        row = (await self.conn.execute(stmt)).one()
        return {k: int(v or 0) for k, v in row._mapping.items()}

    async def orders(self, customer_id: int, limit: int = 50) -> list[dict[str, Any]]:
        o = orders
        rows = await self.conn.execute(
            select(o.c.id, o.c.number, o.c.status, o.c.payment_status, o.c.total, o.c.currency,
                   o.c.placed_at, o.c.warehouse_id, o.c.channel)
            .select_from(L.join(o, o.c.id == L.c.order_id))
            .where(L.c.customer_id == customer_id).order_by(o.c.placed_at.desc(), o.c.id.desc())
            .limit(limit))
        return [dict(r._mapping) for r in rows]

    async def recent_lines(self, customer_id: int, since: datetime, except_order: int
                           ) -> dict[str, list[tuple[str, int]]]:
        """Lines of the customer's orders placed since ``since`` (not cancelled), by number."""
        o = orders
        rows = await self.conn.execute(
            select(o.c.number, order_lines.c.sku, order_lines.c.quantity)
            .select_from(L.join(o, o.c.id == L.c.order_id)
                         .join(order_lines, order_lines.c.order_id == o.c.id))
            .where(L.c.customer_id == customer_id, o.c.placed_at >= since,
                   o.c.id != except_order, o.c.status != "cancelled"))
        out: dict[str, list[tuple[str, int]]] = {}
        for number, sku, qty in rows:
            out.setdefault(number, []).append((sku, int(qty)))
        return out

    async def search(self, text: str | None, limit: int) -> list[dict[str, Any]]:
        stmt = select(C).where(C.c.merged_into.is_(None))
        if text:
            like = f"%{text.replace('%', '').replace('_', '')}%"
            known = select(K.c.customer_id).where(K.c.value.like(like))
            stmt = stmt.where(or_(C.c.name.like(like), C.c.company.like(like),
                                  C.c.id.in_(known)))
        rows = await self.conn.execute(stmt.order_by(C.c.updated_at.desc(), C.c.id.desc())
                                       .limit(limit))
        return [dict(r._mapping) for r in rows]

    async def update(self, customer_id: int, version: int, values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(C).where(C.c.id == customer_id, C.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def merge(self, keep: int, away: int, now: datetime) -> int:
        """Move ``away``'s orders and contacts to ``keep``; how many orders moved."""
        moved = await self.conn.execute(update(L).where(L.c.customer_id == away)
                                        .values(customer_id=keep))
        await self.conn.execute(update(K).where(K.c.customer_id == away)
                                .values(customer_id=keep))
        await self.conn.execute(update(C).where(C.c.merged_into == away)
                                .values(merged_into=keep))  # merged there before: here now
        await self.conn.execute(update(C).where(C.c.id == away)
                                .values(merged_into=keep, updated_at=now,
                                        version=C.c.version + 1))
        return int(moved.rowcount)
