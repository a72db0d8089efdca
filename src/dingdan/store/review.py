"""The review rule sets (every published version) and each order's review runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.blocklist import address_hit
from dingdan.domain.errors import AlreadyExists, VersionConflict
from dingdan.store.tables import orders
from dingdan.store.tables_review import order_reviews, review_blocklist, review_rule_sets

R, V, B = review_rule_sets, order_reviews, review_blocklist


class ReviewRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def current_rules(self) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(R).order_by(R.c.version.desc()).limit(1))).first()
        return dict(row._mapping) if row else None

    async def rule_versions(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(R.c.version, R.c.enabled, R.c.created_by,
                                              R.c.created_at)
                                       .order_by(R.c.version.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def publish(self, values: Mapping[str, Any]) -> None:
        """Insert a version; a concurrent publisher of the same version is refused with
        ``VersionConflict`` (the version is unique)."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(insert(R).values(**values))
        except IntegrityError as exc:
            raise VersionConflict({"rule_set": values["version"]}) from exc

    async def record(self, values: Mapping[str, Any]) -> None:
        await self.conn.execute(insert(V).values(**values))

    async def runs(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(V).where(V.c.order_id == order_id)
                                       .order_by(V.c.id.desc()))
        return [dict(r._mapping) for r in rows]

    async def runs_since(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """The latest run of each order reviewed since ``since``: number, decision, facts."""
        latest = (select(func.max(V.c.id)).where(V.c.created_at >= since)
                  .group_by(V.c.order_id))
        rows = await self.conn.execute(
            select(orders.c.number, V.c.approved, V.c.facts, V.c.rule_set_version)
            .select_from(V.join(orders, orders.c.id == V.c.order_id))
            .where(V.c.id.in_(latest)).order_by(V.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    async def latest_summaries(self, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest run of each order (by number): approved, summary, trace."""
        if not numbers:
            return {}
        latest = (select(func.max(V.c.id)).select_from(V.join(orders, orders.c.id == V.c.order_id))
                  .where(orders.c.number.in_(list(numbers))).group_by(V.c.order_id))
        rows = await self.conn.execute(
            select(orders.c.number, V.c.approved, V.c.summary, V.c.trace, V.c.rule_set_version)
            .select_from(V.join(orders, orders.c.id == V.c.order_id))
            .where(V.c.id.in_(latest)))
        return {r.number: dict(r._mapping) for r in rows}

    # -- the blocklist ---------------------------------------------------------------------

    async def blocklist(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(B).order_by(B.c.id.desc()))
        return [dict(r._mapping) for r in rows]

    async def block(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Add an entry; one already there is ``AlreadyExists``."""
        try:
            async with self.conn.begin_nested():
                row = (await self.conn.execute(insert(B).values(**values).returning(*B.c))
                       ).one()
        except IntegrityError as exc:
            raise AlreadyExists({"field": "value", "value": values["value"]}) from exc
        return dict(row._mapping)

    async def unblock(self, entry_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(delete(B).where(B.c.id == entry_id).returning(*B.c))
               ).first()
        return dict(row._mapping) if row else None

    async def blocklist_hits(self, phones: Sequence[str], emails: Sequence[str],
                             address: str) -> frozenset[str]:
        """The kinds of entry an order's contacts and address match."""
        wanted = [*phones, *emails]
        hits: set[str] = set()
        if wanted:
            rows = await self.conn.execute(_EXACT, {"p_values": wanted})
            hits |= {r.kind for r in rows}
        entries = [r.value for r in await self.conn.execute(_ADDRESSES)]
        if address_hit(address, entries):
            hits.add("address")
        return frozenset(hits)


_EXACT = (select(B.c.kind).where(B.c.kind.in_(("phone", "email")),
                                 B.c.value.in_(bindparam("p_values", expanding=True))))
_ADDRESSES = select(B.c.value).where(B.c.kind == "address")
