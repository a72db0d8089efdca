"""Products and warehouses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.errors import AlreadyExists
from dingdan.domain.orders import CatalogueItem
from dingdan.store.tables import products, warehouses

# Built once (order intake runs it for every order): building a statement costs more than
# executing it.
_ITEMS = (select(products.c.sku, products.c.name, products.c.price, products.c.active)
          .where(products.c.sku.in_(bindparam("p_skus", expanding=True))))


class CatalogueRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def items(self, skus: Iterable[str]) -> dict[str, CatalogueItem]:
        rows = await self.conn.execute(_ITEMS, {"p_skus": list(skus)})
        return {r.sku: CatalogueItem(r.sku, r.name, r.price, r.active) for r in rows}

    async def add(self, table: Table, values: Mapping[str, Any], natural_key: str) -> int:
        try:
            async with self.conn.begin_nested():
                new_id: int = (await self.conn.execute(
                    insert(table).values(**values).returning(table.c.id))).scalar_one()
        except IntegrityError as exc:
            raise AlreadyExists({"field": natural_key, "value": values[natural_key]}) from exc
        return new_id

    async def update(self, table: Table, key_col: str, key: Any, version: int | None,
                     values: Mapping[str, Any]) -> bool:
        conds = [table.c[key_col] == key]
        if version is not None:
            conds.append(table.c.version == version)
        result = await self.conn.execute(
            update(table).where(*conds).values(**values, version=table.c.version + 1))
        return result.rowcount == 1

    async def get(self, table: Table, key_col: str, key: Any) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(table).where(table.c[key_col] == key))).first()
        return dict(row._mapping) if row else None

    async def list_products(self, q: str | None, active: bool | None, limit: int,
                            after: str | None) -> list[dict[str, Any]]:
        stmt = select(products).order_by(products.c.sku).limit(limit)
        if q:
            like = f"%{q}%"
            stmt = stmt.where(products.c.sku.like(like) | products.c.name.like(like)
                              | (products.c.barcode == q))
        if active is not None:
            stmt = stmt.where(products.c.active.is_(active))
        if after:
            stmt = stmt.where(products.c.sku > after)
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]

    async def list_warehouses(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(warehouses).order_by(warehouses.c.priority.desc(), warehouses.c.code))
        return [dict(r._mapping) for r in rows]
