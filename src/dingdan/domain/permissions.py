"""Roles and permissions, as data in one place. Pure.

The matrix says which role may do what; :func:`authorize` is the one check every use case
calls, so the API and the pages obey the same rules. Lifecycle actions map to permissions
through the transition table's rows (:func:`permission_for`), which is how a page derives
its buttons: the table says what is possible in this status and what it needs, the matrix
says what this person may do.
"""

from __future__ import annotations

from enum import StrEnum

from dingdan.domain import lifecycle
from dingdan.domain.errors import Forbidden
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.lifecycle import Action, Status


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CUSTOMER_SERVICE = "customer_service"
    REVIEWER = "reviewer"
    FINANCE = "finance"
    WAREHOUSE = "warehouse"
    VIEWER = "viewer"
    INTEGRATION = "integration"  # shops, ERPs, EDI gateways: intake and reads


class Permission(StrEnum):
    ORDER_READ = "order.read"
    ORDER_CREATE = "order.create"
    ORDER_PAY = "order.pay"  # mark paid (and, later, refund)
    ORDER_REVIEW = "order.review"  # submit for review, approve, hold, release
    ORDER_CANCEL = "order.cancel"  # before picking
    ORDER_CANCEL_LATE = "order.cancel_late"  # while picking or packed
    ORDER_FULFIL = "order.fulfil"  # allocate, pick, pack, ship
    ORDER_TRACK = "order.track"  # in transit, out for delivery, delivered, complete
    ORDER_EDIT = "order.edit"  # contact and address before picking
    ORDER_NOTE = "order.note"
    PII_READ = "pii.read"  # see unmasked phone, email, street
    CATALOGUE_WRITE = "catalogue.write"
    STOCK_WRITE = "stock.write"
    SETTINGS_WRITE = "settings.write"  # rules, SLAs, templates, webhooks, carriers
    PEOPLE_MANAGE = "people.manage"  # users, roles, API tokens
    AUDIT_READ = "audit.read"
    ANALYTICS_READ = "analytics.read"  # KPIs, charts, forecasts (figures, no personal data)


P = Permission
_ORDER_WORK = frozenset({P.ORDER_READ, P.ORDER_CREATE, P.ORDER_PAY, P.ORDER_REVIEW,
                         P.ORDER_CANCEL, P.ORDER_CANCEL_LATE, P.ORDER_FULFIL, P.ORDER_TRACK,
                         P.ORDER_EDIT, P.ORDER_NOTE, P.PII_READ})

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: _ORDER_WORK | {P.CATALOGUE_WRITE, P.STOCK_WRITE, P.SETTINGS_WRITE,
                                 P.AUDIT_READ, P.ANALYTICS_READ},
    Role.CUSTOMER_SERVICE: frozenset({P.ORDER_READ, P.ORDER_CREATE, P.ORDER_CANCEL,
                                      P.ORDER_EDIT, P.ORDER_NOTE, P.PII_READ}),
    Role.REVIEWER: frozenset({P.ORDER_READ, P.ORDER_REVIEW, P.ORDER_NOTE, P.PII_READ}),
    Role.FINANCE: frozenset({P.ORDER_READ, P.ORDER_PAY, P.ORDER_NOTE, P.ANALYTICS_READ}),
    Role.WAREHOUSE: frozenset({P.ORDER_READ, P.ORDER_FULFIL, P.ORDER_TRACK, P.ORDER_NOTE,
                               P.STOCK_WRITE, P.PII_READ}),
    Role.VIEWER: frozenset({P.ORDER_READ}),
    Role.INTEGRATION: frozenset({P.ORDER_READ, P.ORDER_CREATE, P.ORDER_PAY, P.ORDER_TRACK,
                                 P.ORDER_NOTE, P.CATALOGUE_WRITE, P.STOCK_WRITE, P.PII_READ}),
}

# The permission each lifecycle action needs, from the transition table's data
# (``lifecycle.ACTION_PERMISSIONS``); a row may ask for another (``Transition.permission``).
ACTION_PERMISSION: dict[Action, Permission] = {
    action: Permission(value) for action, value in lifecycle.ACTION_PERMISSIONS.items()}

# Statuses where cancelling needs the late-cancel permission (the warehouse has started).
LATE_CANCEL_STATUSES = frozenset(t.source.value for t in lifecycle.TRANSITIONS
                                 if t.permission == P.ORDER_CANCEL_LATE.value)


def permissions_of(roles: frozenset[str]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for r in roles:
        if r in Role.__members__.values():
            out |= MATRIX[Role(r)]
    return frozenset(out)


def can(actor: Actor, permission: Permission) -> bool:
    if actor.kind is ActorKind.SYSTEM:
        return True
    return permission in permissions_of(actor.roles)


def authorize(actor: Actor, permission: Permission) -> None:
    """Raise :class:`Forbidden` unless ``actor`` holds ``permission``."""
    if not can(actor, permission):
        raise Forbidden({"permission": permission.value, "actor": actor.label})


def permission_for(action: Action, status: str) -> Permission:
    """The permission the table's row for ``action`` in ``status`` asks for; for an action
    the table does not allow there, the action's own (the refusal names it)."""
    row = lifecycle.find(Status(status), action) if status in _STATUSES else None
    return Permission(row.permission) if row is not None else ACTION_PERMISSION[action]


_STATUSES = frozenset(s.value for s in Status)


def may_touch_warehouse(actor: Actor, warehouse_id: int | None) -> bool:
    """Warehouse staff limited to some warehouses see and work only those orders."""
    return actor.warehouse_ids is None or warehouse_id in actor.warehouse_ids
