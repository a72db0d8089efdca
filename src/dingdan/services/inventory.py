"""Stock use cases: receipts and adjustments, each recorded in the append-only ledger, and
the reads of stock levels and of the ledger.

Reads follow ``(query, uow, *, actor)``: they check ``order.read`` and keep a person assigned
warehouses to those warehouses' rows (docs/security.md); another warehouse named in a query
is "not found" to them, as their orders are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dingdan.domain.errors import ErrorCollector, FieldError, NotFound, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.inventory import MAX_ON_HAND, MovementKind
from dingdan.domain.permissions import Permission, may_touch_warehouse
from dingdan.services._access import require, require_warehouse
from dingdan.store.tables import products, warehouses
from dingdan.store.uow import UnitOfWork


@dataclass(frozen=True)
class MoveStock:
    sku: str
    warehouse_code: str
    quantity: int  # receipts: > 0; adjustments: signed, not 0
    kind: MovementKind
    reason: str
    actor: Actor
    reference: str | None = None


async def move_stock(cmd: MoveStock, uow: UnitOfWork) -> dict[str, Any]:
    """Receive goods or adjust on hand (a count, damage…); never below what is reserved."""
    key = f"{cmd.sku}@{cmd.warehouse_code}"
    require(cmd.actor, Permission.STOCK_WRITE, "stock", key)
    errors = ErrorCollector()
    if cmd.kind is MovementKind.RECEIPT and cmd.quantity <= 0:
        errors.add("quantity", "out_of_range", "a receipt adds a positive quantity")
    if abs(cmd.quantity) > MAX_ON_HAND:
        errors.add("quantity", "out_of_range", f"at most {MAX_ON_HAND} at a time")
    if cmd.kind is MovementKind.ADJUSTMENT and cmd.quantity == 0:
        errors.add("quantity", "out_of_range", "an adjustment changes the quantity")
    if cmd.kind in (MovementKind.SHIPMENT, MovementKind.RETURN):
        errors.add("kind", "not_allowed", "shipments and returns move stock through orders "
                                          "and after-sales cases")
    if not cmd.reason.strip():
        errors.add("reason", "required", "stock changes need a reason")
    errors.raise_if_any()
    async with uow:
        product = await uow.catalogue.get(products, "sku", cmd.sku)
        if product is None:
            raise NotFound({"kind": "product", "key": cmd.sku})
        warehouse = await uow.catalogue.get(warehouses, "code", cmd.warehouse_code)
        if warehouse is None:
            raise NotFound({"kind": "warehouse", "key": cmd.warehouse_code})
        require_warehouse(cmd.actor, warehouse["id"], Permission.STOCK_WRITE, "stock", key)
        now = uow.now()
        after = await uow.stock.change_on_hand(cmd.sku, warehouse["id"], cmd.quantity, now)
        if after is None and cmd.quantity > 0:
            raise ValidationFailed({"sku": cmd.sku}, [FieldError(
                "quantity", "too_large", f"on hand would pass {MAX_ON_HAND}")])
        if after is None:
            raise ValidationFailed({"sku": cmd.sku}, [FieldError(
                "quantity", "below_reserved",
                "on hand cannot drop below what open orders have reserved")])
        await uow.stock.record_movement(
            sku=cmd.sku, warehouse_id=warehouse["id"], kind=cmd.kind.value,
            quantity=cmd.quantity, on_hand_after=after, reason=cmd.reason.strip(),
            reference=cmd.reference, actor=cmd.actor.label, created_at=now)
        levels = await uow.stock.levels(sku=cmd.sku, warehouse_id=warehouse["id"])
        await uow.audit.record(cmd.actor, f"stock.{cmd.kind.value}", "stock", key,
                               {"on_hand": after - cmd.quantity},
                               {"on_hand": after, "quantity": cmd.quantity,
                                "reason": cmd.reason.strip(), "reference": cmd.reference})
        await uow.commit()
    return levels[0]



@dataclass(frozen=True)
class StockLevels:
    sku: str | None = None
    warehouse_code: str | None = None
    low_only: bool = False  # only rows whose available is at or below ``threshold``
    threshold: int = 10


async def stock_levels(q: StockLevels, uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    """On hand, reserved and available per SKU and warehouse, in the actor's warehouses."""
    require(actor, Permission.ORDER_READ, "stock", q.sku)
    async with uow:
        wid = None
        if q.warehouse_code:
            wh = await uow.catalogue.get(warehouses, "code", q.warehouse_code)
            if wh is None or not may_touch_warehouse(actor, wh["id"]):
                raise NotFound({"kind": "warehouse", "key": q.warehouse_code})
            wid = wh["id"]
        return await uow.stock.levels(q.sku, wid, q.low_only, q.threshold,
                                      warehouse_ids=actor.warehouse_ids)


@dataclass(frozen=True)
class StockMovements:
    sku: str | None = None
    warehouse_id: int | None = None
    limit: int = 200


async def stock_movements(q: StockMovements, uow: UnitOfWork, *,
                          actor: Actor) -> list[dict[str, Any]]:
    """The stock ledger, newest first, in the actor's warehouses (another warehouse's id
    gives no rows, as an unknown one does)."""
    require(actor, Permission.ORDER_READ, "stock", q.sku)
    async with uow:
        return await uow.stock.movements(q.sku, q.warehouse_id, q.limit,
                                         warehouse_ids=actor.warehouse_ids)
