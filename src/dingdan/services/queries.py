"""Read-side use cases: an order with its lines, a page of orders, the timeline.

Each needs ``order.read``. Warehouse staff limited to some warehouses see only those
warehouses' orders (others are "not found" to them); people without ``pii.read`` get phones,
emails and streets masked — here, so the API and the pages show the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from dingdan.domain import lifecycle
from dingdan.domain.errors import FieldError, NotFound, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.permissions import Permission, can, may_touch_warehouse, permission_for
from dingdan.domain.privacy import mask_fields
from dingdan.services._access import require

# The query a reader builds and the sortable columns (web/ imports them from here).
from dingdan.store.orders import SORTABLE as SORTABLE
from dingdan.store.orders import ListQuery as ListQuery
from dingdan.store.orders import decode_cursor
from dingdan.store.sla import SlaRepo
from dingdan.store.uow import UnitOfWork


def allowed_actions(order: dict[str, Any]) -> list[str]:
    facts = lifecycle.OrderFacts(Status(order["status"]), PaymentStatus(order["payment_status"]),
                                 order["payment_method"],
                                 Status(order["held_from"]) if order["held_from"] else None)
    return [a.value for a in lifecycle.allowed_actions(facts) if a is not lifecycle.Action.TIMEOUT]


def allowed_actions_for(actor: Actor, order: dict[str, Any]) -> list[str]:
    """What this person may do to this order now: the lifecycle's allowed actions that their
    roles permit (a page's buttons; the API's ``allowed_actions``)."""
    if not may_touch_warehouse(actor, order["warehouse_id"]):
        return []
    return [a for a in allowed_actions(order)
            if can(actor, permission_for(Action(a), order["status"]))]


def _for_reader(actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
    return row if can(actor, Permission.PII_READ) else mask_fields(row)


def _mask_event(actor: Actor, event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    if can(actor, Permission.PII_READ) or not {"before", "after"} & set(data):
        return event
    masked = {k: mask_fields(v) if k in ("before", "after") and isinstance(v, dict) else v
              for k, v in data.items()}
    return {**event, "data": masked}


async def get_order(number: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        order = await uow.orders.get(number)
        breaches = await SlaRepo(uow.conn).open_breaches([number]) if order else {}
        now = uow.now()
    shown = _present(number, order, actor)
    shown.update(sla_standing(shown, breaches.get(number), now))
    return shown


def sla_standing(order: dict[str, Any], breach: dict[str, Any] | None,
                 now: datetime) -> dict[str, Any]:
    """Overdue: an open breached SLA alert (its stage and deadline), or the ship-by promise
    passed with the order not shipped."""
    if breach:
        return {"overdue": True, "sla_stage": breach["stage"], "sla_due_at": breach["deadline"]}
    ship_by = order.get("ship_by")
    if ship_by is not None and Status(order["status"]) in lifecycle.RESERVING and ship_by < now:
        return {"overdue": True, "sla_stage": "ship", "sla_due_at": ship_by}
    return {"overdue": False, "sla_stage": None, "sla_due_at": None}


async def add_sla_standing(rows: list[dict[str, Any]], uow: UnitOfWork, *,
                           actor: Actor) -> None:
    """:func:`sla_standing` for a page of listed orders, with one query for all of them."""
    require(actor, Permission.ORDER_READ, "order", None)
    async with uow:
        breaches = await SlaRepo(uow.conn).open_breaches([r["number"] for r in rows])
        now = uow.now()
    for r in rows:
        r.update(sla_standing(r, breaches.get(r["number"]), now))


def show_order(number: str, order: dict[str, Any] | None, *, actor: Actor) -> dict[str, Any]:
    """:func:`get_order` for a caller that read the row (``uow.orders.get``) itself, in its
    own transaction: order intake reads the new order before committing."""
    require(actor, Permission.ORDER_READ, "order", number)
    return _present(number, order, actor)


def _present(number: str, order: dict[str, Any] | None, actor: Actor) -> dict[str, Any]:
    if order is None or not may_touch_warehouse(actor, order["warehouse_id"]):
        raise NotFound({"kind": "order", "key": number})
    order["allowed_actions"] = allowed_actions_for(actor, order)
    return _for_reader(actor, order)


async def order_timeline(number: str, uow: UnitOfWork, *,
                         actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await uow.orders.get_state(number)
        if state is None or not may_touch_warehouse(actor, state.warehouse_id):
            raise NotFound({"kind": "order", "key": number})
        events = await uow.orders.timeline(state.id)
    return [_mask_event(actor, e) for e in events]


async def list_orders(q: ListQuery, uow: UnitOfWork, *,
                      actor: Actor) -> tuple[list[dict[str, Any]], str | None]:
    require(actor, Permission.ORDER_READ, "order", None)
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
    if actor.warehouse_ids is not None:
        q = replace(q, visible_warehouses=tuple(sorted(actor.warehouse_ids)))
    async with uow:
        rows, next_cursor = await uow.orders.page(q)
    return [_for_reader(actor, r) for r in rows], next_cursor

