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
    PII_ERASE = "pii.erase"  # anonymise a customer's orders on request (admin only)
    PORTAL_VIEW = "portal.view"  # the customer's own page of their own order
    PORTAL_HELP = "portal.help"  # a customer asks customer service for help
    CUSTOMER_WRITE = "customer.write"  # customer records: tier, credit, blocklist, merge
    PORTAL_RATE = "portal.rate"  # a customer rates their delivered order
    # A channel's own later word on its orders: changed contents, payment, cancellation
    # (issue 10); checked by the channel intake use cases, not by the lifecycle's rows.
    ORDER_CHANNEL_SYNC = "order.channel_sync"
    # After-sales and complaints (issue 13): the case machines' rows name these values.
    AFTERSALES_HANDLE = "aftersales.handle"  # open, approve, decline, cancel, close a case
    AFTERSALES_RECEIVE = "aftersales.receive"  # receive and inspect returned goods
    ORDER_REFUND = "order.refund"  # give money back (gateway or manual)
    COMPLAINT_HANDLE = "complaint.handle"  # open, answer, resolve complaints
    ANALYTICS_READ = "analytics.read"  # KPIs, charts, forecasts (figures, no personal data)


P = Permission
_ORDER_WORK = frozenset({P.ORDER_READ, P.ORDER_CREATE, P.ORDER_PAY, P.ORDER_REVIEW,
                         P.ORDER_CANCEL, P.ORDER_CANCEL_LATE, P.ORDER_FULFIL, P.ORDER_TRACK,
                         P.ORDER_EDIT, P.ORDER_NOTE, P.PII_READ})

_CHANNEL = frozenset({P.ORDER_CHANNEL_SYNC})
_AFTERSALES = frozenset({P.AFTERSALES_HANDLE, P.AFTERSALES_RECEIVE, P.ORDER_REFUND,
                        P.COMPLAINT_HANDLE})

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: _ORDER_WORK | _CHANNEL | _AFTERSALES | {
        P.CATALOGUE_WRITE, P.STOCK_WRITE, P.SETTINGS_WRITE, P.AUDIT_READ, P.CUSTOMER_WRITE,
        P.ANALYTICS_READ},
    Role.CUSTOMER_SERVICE: _CHANNEL | {P.ORDER_READ, P.ORDER_CREATE, P.ORDER_CANCEL,
                                       P.ORDER_EDIT, P.ORDER_NOTE, P.PII_READ,
                                       P.CUSTOMER_WRITE, P.AFTERSALES_HANDLE,
                                       P.COMPLAINT_HANDLE},
    Role.REVIEWER: frozenset({P.ORDER_READ, P.ORDER_REVIEW, P.ORDER_NOTE, P.PII_READ}),
    Role.FINANCE: frozenset({P.ORDER_READ, P.ORDER_PAY, P.ORDER_NOTE, P.CUSTOMER_WRITE,
                             P.ORDER_REFUND, P.ANALYTICS_READ}),
    Role.WAREHOUSE: frozenset({P.ORDER_READ, P.ORDER_FULFIL, P.ORDER_TRACK, P.ORDER_NOTE,
                               P.STOCK_WRITE, P.PII_READ, P.AFTERSALES_RECEIVE}),
    Role.VIEWER: frozenset({P.ORDER_READ}),
    Role.INTEGRATION: _CHANNEL | {P.ORDER_READ, P.ORDER_CREATE, P.ORDER_PAY, P.ORDER_TRACK,
                                  P.ORDER_NOTE, P.CATALOGUE_WRITE, P.STOCK_WRITE,
                                  P.PII_READ},
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


# A customer holds no role: what they may do to the one order they proved is theirs (the
# order scope, ``may_touch_order``, keeps them to it). ``order.edit`` is the address change
# and ``order.cancel`` the cancel before picking that the back office makes too, through the
# same use cases (a late cancel needs ``order.cancel_late``, which customers do not hold).
CUSTOMER_PERMISSIONS: frozenset[Permission] = frozenset({
    P.PORTAL_VIEW, P.PORTAL_HELP, P.PORTAL_RATE, P.ORDER_EDIT, P.ORDER_CANCEL})


def can(actor: Actor, permission: Permission) -> bool:
    if actor.kind is ActorKind.SYSTEM:
        return True
    if actor.kind is ActorKind.CUSTOMER:
        return permission in CUSTOMER_PERMISSIONS
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


def may_touch_order(actor: Actor, number: str) -> bool:
    """A customer reaches only the orders they proved are theirs; staff are not limited."""
    return actor.order_numbers is None or number in actor.order_numbers
