"""Stock rows and the stock-movement ledger.

Every change to ``reserved`` is one conditional update, so no interleaving of transactions
can make reserved exceed on hand. Callers take rows in the order
``domain.inventory.lock_order`` gives.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.domain.inventory import MAX_ON_HAND, WarehouseChoice
from dingdan.store.tables import products, stock, stock_movements, warehouses

# The statements of order intake, built once. Building a statement (its bind parameters and
# cache key) costs more than executing it, and these run several times for every order.
_ACTIVE_WAREHOUSES = (select(warehouses.c.id, warehouses.c.code, warehouses.c.priority)
                      .where(warehouses.c.active.is_(True)))
_AVAILABLE = (select(stock.c.warehouse_id, stock.c.sku, stock.c.on_hand - stock.c.reserved)
              .where(stock.c.sku.in_(bindparam("p_skus", expanding=True))))
# Active warehouses, each with its stock of the given SKUs (a warehouse with none: one row of
# NULLs), in one round trip.
_ACTIVE_WITH_STOCK = (
    select(warehouses.c.id, warehouses.c.code, warehouses.c.priority, stock.c.sku,
           stock.c.on_hand - stock.c.reserved)
    .select_from(warehouses.outerjoin(stock, (stock.c.warehouse_id == warehouses.c.id)
                                      & stock.c.sku.in_(bindparam("p_skus", expanding=True))))
    .where(warehouses.c.active.is_(True)))
_NOW = bindparam("p_now", type_=stock.c.updated_at.type)
_RESERVE = (update(stock)
            .where(stock.c.sku == bindparam("p_sku"),
                   stock.c.warehouse_id == bindparam("p_warehouse_id"),
                   stock.c.on_hand - stock.c.reserved >= bindparam("p_qty"))
            .values(reserved=stock.c.reserved + bindparam("p_qty"), updated_at=_NOW))
_RELEASE = (update(stock)
            .where(stock.c.sku == bindparam("p_sku"),
                   stock.c.warehouse_id == bindparam("p_warehouse_id"),
                   stock.c.reserved >= bindparam("p_qty"))
            .values(reserved=stock.c.reserved - bindparam("p_qty"), updated_at=_NOW))


class StockRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def active_warehouses(self) -> list[WarehouseChoice]:
        rows = await self.conn.execute(_ACTIVE_WAREHOUSES)
        return [WarehouseChoice(r.id, r.code, r.priority) for r in rows]

    async def active_warehouses_and_available(
            self, skus: Iterable[str]) -> tuple[list[WarehouseChoice], dict[tuple[int, str], int]]:
        """:meth:`active_warehouses` and :meth:`available` for those warehouses, in one query."""
        chosen: dict[int, WarehouseChoice] = {}
        available: dict[tuple[int, str], int] = {}
        for r in await self.conn.execute(_ACTIVE_WITH_STOCK, {"p_skus": list(skus)}):
            if r[0] not in chosen:
                chosen[r[0]] = WarehouseChoice(r[0], r[1], r[2])
            if r[3] is not None:
                available[(r[0], r[3])] = r[4]
        return list(chosen.values()), available

    async def available(self, skus: Iterable[str]) -> dict[tuple[int, str], int]:
        rows = await self.conn.execute(_AVAILABLE, {"p_skus": list(skus)})
        return {(r[0], r[1]): r[2] for r in rows}

    async def reserve(self, sku: str, warehouse_id: int, qty: int, now: datetime) -> bool:
        result = await self.conn.execute(_RESERVE, {
            "p_sku": sku, "p_warehouse_id": warehouse_id, "p_qty": qty, "p_now": now})
        return result.rowcount == 1

    async def release(self, sku: str, warehouse_id: int, qty: int, now: datetime) -> None:
        result = await self.conn.execute(_RELEASE, {
            "p_sku": sku, "p_warehouse_id": warehouse_id, "p_qty": qty, "p_now": now})
        if result.rowcount != 1:
            raise RuntimeError(f"release of {qty} {sku}@{warehouse_id} found no such reservation")

    async def consume(self, sku: str, warehouse_id: int, qty: int, now: datetime) -> int:
        """Goods leave: on hand and reserved both drop. Returns on hand after."""
        row = (await self.conn.execute(
            update(stock)
            .where(stock.c.sku == sku, stock.c.warehouse_id == warehouse_id,
                   stock.c.reserved >= qty, stock.c.on_hand >= qty)
            .values(reserved=stock.c.reserved - qty, on_hand=stock.c.on_hand - qty,
                    updated_at=now)
            .returning(stock.c.on_hand))).first()
        if row is None:
            raise RuntimeError(f"consume of {qty} {sku}@{warehouse_id} found no such reservation")
        return int(row[0])

    async def change_on_hand(self, sku: str, warehouse_id: int, delta: int,
                             now: datetime) -> int | None:
        """Add ``delta`` to on hand unless that would drop it below what is reserved or lift it
        past ``MAX_ON_HAND``.

        Creates the stock row on a first receipt. Returns on hand after, or None if refused.
        """
        # The sum is taken as BIGINT: in INTEGER, PostgreSQL would fail on the overflow itself
        # before the bound could refuse it.
        after = cast(stock.c.on_hand, BigInteger) + delta
        row = (await self.conn.execute(
            update(stock)
            .where(stock.c.sku == sku, stock.c.warehouse_id == warehouse_id,
                   after >= stock.c.reserved, after <= MAX_ON_HAND)
            .values(on_hand=stock.c.on_hand + delta, updated_at=now)
            .returning(stock.c.on_hand))).first()
        if row is not None:
            return int(row[0])
        exists = (await self.conn.execute(
            select(stock.c.on_hand).where(stock.c.sku == sku,
                                          stock.c.warehouse_id == warehouse_id))).first()
        if exists is not None or not 0 <= delta <= MAX_ON_HAND:
            return None
        await self.conn.execute(insert(stock).values(
            sku=sku, warehouse_id=warehouse_id, on_hand=delta, reserved=0, updated_at=now))
        return delta

    async def record_movement(self, **values: Any) -> None:
        await self.conn.execute(insert(stock_movements).values(**values))

    async def levels(self, sku: str | None = None, warehouse_id: int | None = None,
                     low_only: bool = False, threshold: int = 10, limit: int = 500,
                     warehouse_ids: Collection[int] | None = None) -> list[dict[str, Any]]:
        """Stock rows with their product and warehouse; ``warehouse_ids``: only those (None:
        every warehouse)."""
        stmt = (select(stock.c.sku, products.c.name, stock.c.warehouse_id,
                       warehouses.c.code.label("warehouse_code"), stock.c.on_hand,
                       stock.c.reserved, (stock.c.on_hand - stock.c.reserved).label("available"),
                       stock.c.updated_at)
                .select_from(stock.join(products, products.c.sku == stock.c.sku)
                             .join(warehouses, warehouses.c.id == stock.c.warehouse_id))
                .order_by(stock.c.sku, warehouses.c.code).limit(limit))
        if sku:
            stmt = stmt.where(stock.c.sku == sku)
        if warehouse_id:
            stmt = stmt.where(stock.c.warehouse_id == warehouse_id)
        if warehouse_ids is not None:
            stmt = stmt.where(stock.c.warehouse_id.in_(sorted(warehouse_ids)))
        if low_only:
            stmt = stmt.where(stock.c.on_hand - stock.c.reserved <= threshold)
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]

    async def movements(self, sku: str | None, warehouse_id: int | None, limit: int = 200,
                        warehouse_ids: Collection[int] | None = None) -> list[dict[str, Any]]:
        """The ledger, newest first; ``warehouse_ids``: only those (None: every warehouse)."""
        stmt = select(stock_movements).order_by(stock_movements.c.id.desc()).limit(limit)
        if sku:
            stmt = stmt.where(stock_movements.c.sku == sku)
        if warehouse_id:
            stmt = stmt.where(stock_movements.c.warehouse_id == warehouse_id)
        if warehouse_ids is not None:
            stmt = stmt.where(stock_movements.c.warehouse_id.in_(sorted(warehouse_ids)))
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]
