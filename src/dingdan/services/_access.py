"""The access check every use case makes, and the record of a refusal.

:func:`require` wraps :func:`dingdan.domain.permissions.authorize`: a denial raises
``Forbidden`` (a 403 with code FORBIDDEN) and is logged with who asked for what, on which
object, from where. Warehouse staff limited to some warehouses are refused the others'
orders and stock the same way; :func:`visible_order` is the one look-up of an order for
every read of it and of what hangs off it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from dingdan.domain.errors import Forbidden, NotFound
from dingdan.domain.events import Actor
from dingdan.domain.permissions import (
    Permission,
    authorize,
    may_touch_order,
    may_touch_warehouse,
)

if TYPE_CHECKING:
    from dingdan.store.orders import OrderState
    from dingdan.store.uow import UnitOfWork

log = structlog.get_logger("dingdan.access")


def _denied(actor: Actor, permission: Permission | None, object_type: str | None,
            object_id: object, **extra: object) -> None:
    log.warning("access denied", actor=actor.label, actor_id=actor.id, roles=sorted(actor.roles),
                permission=permission.value if permission else None, object_type=object_type,
                object_id=None if object_id is None else str(object_id), source=actor.source,
                ip=actor.ip, **extra)


def require(actor: Actor, permission: Permission, object_type: str | None = None,
            object_id: object = None) -> None:
    """Raise (and log) :class:`Forbidden` unless ``actor`` holds ``permission``."""
    try:
        authorize(actor, permission)
    except Forbidden:
        _denied(actor, permission, object_type, object_id)
        raise


def require_warehouse(actor: Actor, warehouse_id: int | None, permission: Permission,
                      object_type: str, object_id: object) -> None:
    """Raise (and log) :class:`Forbidden` if ``actor`` is limited to other warehouses, or
    (a customer) to other orders."""
    if object_type == "order" and not may_touch_order(actor, str(object_id)):
        _denied(actor, permission, object_type, object_id, reason="order")
        raise Forbidden({"permission": permission.value, "actor": actor.label,
                         "reason": "order"})
    if not may_touch_warehouse(actor, warehouse_id):
        _denied(actor, permission, object_type, object_id, warehouse_id=warehouse_id)
        raise Forbidden({"permission": permission.value, "actor": actor.label,
                         "reason": "warehouse"})


async def visible_order(uow: UnitOfWork, number: str, actor: Actor) -> OrderState:
    """The order's state, read in an open unit of work, if this person may see the order.

    Every read of one order and of what hangs off it (timeline, messages, SLA standing, a
    template preview) looks the order up here: an order of a warehouse outside the person's
    scope is "not found", exactly as an order that does not exist.
    """
    state = await uow.orders.get_state(number)
    if (state is None or not may_touch_warehouse(actor, state.warehouse_id)
            or not may_touch_order(actor, number)):
        raise NotFound({"kind": "order", "key": number})
    return state
