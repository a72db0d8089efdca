"""Read-side use cases: an order with its lines, a page of orders, the timeline, stock."""

from __future__ import annotations

from typing import Any

from dingdan.domain import lifecycle
from dingdan.domain.errors import FieldError, NotFound, ValidationFailed
from dingdan.domain.lifecycle import PaymentStatus, Status
from dingdan.store.orders import SORTABLE, ListQuery, decode_cursor
from dingdan.store.tables import warehouses
from dingdan.store.uow import UnitOfWork


def allowed_actions(order: dict[str, Any]) -> list[str]:
    facts = lifecycle.OrderFacts(Status(order["status"]), PaymentStatus(order["payment_status"]),
                                 order["payment_method"],
                                 Status(order["held_from"]) if order["held_from"] else None)
    return [a.value for a in lifecycle.allowed_actions(facts) if a is not lifecycle.Action.TIMEOUT]


async def get_order(number: str, uow: UnitOfWork) -> dict[str, Any]:
    async with uow:
        order = await uow.orders.get(number)
    if order is None:
        raise NotFound({"kind": "order", "key": number})
    order["allowed_actions"] = allowed_actions(order)
    return order


async def order_timeline(number: str, uow: UnitOfWork) -> list[dict[str, Any]]:
    async with uow:
        state = await uow.orders.get_state(number)
        if state is None:
            raise NotFound({"kind": "order", "key": number})
        return await uow.orders.timeline(state.id)


async def list_orders(q: ListQuery, uow: UnitOfWork) -> tuple[list[dict[str, Any]], str | None]:
    if q.sort.lstrip("-") not in SORTABLE:
        raise ValidationFailed(details=[FieldError(
            "sort", "unknown_sort", f"sort by one of {', '.join(sorted(SORTABLE))}")])
    if q.cursor:
        try:
            decode_cursor(q.cursor, q.sort.lstrip("-"))
        except (ValueError, TypeError) as exc:
            raise ValidationFailed(details=[FieldError(
                "cursor", "invalid_cursor", "the cursor is not one this API gave out")]) from exc
    bad = [s for s in q.status if s not in Status.__members__.values()]
    if bad:
        raise ValidationFailed(details=[FieldError(
            "status", "unknown_status", f"unknown status {', '.join(bad)}")])
    async with uow:
        return await uow.orders.page(q)


async def stock_levels(uow: UnitOfWork, sku: str | None = None, warehouse_code: str | None = None,
                       low_only: bool = False, threshold: int = 10) -> list[dict[str, Any]]:
    async with uow:
        wid = None
        if warehouse_code:
            wh = await uow.catalogue.get(warehouses, "code", warehouse_code)
            if wh is None:
                raise NotFound({"kind": "warehouse", "key": warehouse_code})
            wid = wh["id"]
        return await uow.stock.levels(sku, wid, low_only, threshold)

