"""Web-push subscriptions: browsers that asked to hear about an order or a customer.

Who may subscribe: anyone who proves they own the order (its number plus the phone or email
on it — the same proof the portal asks for), or a signed-in caller who may read orders *and*
personal data (the back office, or the portal's server side) for an order in their
warehouses or a customer key: the messages a subscription receives carry the customer's
name and address. A wrong proof and an unknown order are answered alike, so order numbers
cannot be probed; anonymous attempts are limited per caller address and per order (a
:class:`~dingdan.services.throttle.Throttle`), so phone numbers cannot be guessed either.
Unsubscribing needs only the endpoint: it is the browser's own unguessable capability URL.

The endpoint must pass the outbound guard (``dingdan.adapters.netguard``): a push
"service" on an internal address is refused with ``URL_NOT_ALLOWED``.

For the worker: :func:`push_recipients` gives the PushSubscription JSON to deliver to (one
delivery row each); :func:`forget_push_subscriptions` drops subscriptions whose push service
answered 404 or 410.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dingdan.adapters.netguard import OutboundGuard
from dingdan.adapters.notify.webpush import parse_subscription
from dingdan.domain.errors import ErrorCollector, NotFound, Unauthenticated
from dingdan.domain.events import Actor
from dingdan.domain.orders import normalize_phone
from dingdan.domain.permissions import Permission, may_touch_warehouse
from dingdan.services._access import require
from dingdan.services.throttle import Throttle
from dingdan.store.uow import UnitOfWork
from dingdan.store.webhooks import PushRepo


@dataclass(frozen=True)
class SubscribePush:
    subscription: Mapping[str, Any]  # the browser's PushSubscription, as JSON
    order_number: str | None = None
    customer_key: str | None = None  # email or phone the customer is known by
    contact: str | None = None  # the proof of an anonymous caller: phone or email on the order
    actor: Actor | None = None  # a signed-in caller, if any
    user_agent: str | None = None
    client_address: str | None = None  # where an anonymous caller asks from (the throttle)


@dataclass(frozen=True)
class PushSubscribed:
    id: int
    endpoint: str
    order_number: str | None
    customer_key: str | None


def customer_key_of(raw: str) -> str | None:
    """The key a customer is known by: lower-case email, or E.164 phone; None if neither."""
    raw = raw.strip()
    if "@" in raw:
        return raw.lower()
    return normalize_phone(raw)


async def subscribe_push(cmd: SubscribePush, uow: UnitOfWork, *,
                         guard: OutboundGuard | None = None,
                         throttle: Throttle | None = None) -> PushSubscribed:
    """Save a subscription. ``guard`` vets the endpoint (default: no internal address at
    all); ``throttle`` counts anonymous attempts by ``ip`` and ``order`` before anything else,
    so a refused guess costs a try too."""
    if cmd.actor is None and throttle is not None:
        throttle.hit(ip=cmd.client_address or "unknown", order=cmd.order_number)
    errors = ErrorCollector()
    try:
        sub = parse_subscription(json.dumps(dict(cmd.subscription)))
    except (ValueError, TypeError) as exc:
        errors.add("subscription", "invalid_subscription", str(exc))
        sub = {}
    if not cmd.order_number and not cmd.customer_key:
        errors.add("order_number", "required", "give an order number or a customer key")
    key = None
    if cmd.customer_key:
        key = customer_key_of(cmd.customer_key)
        if key is None:
            errors.add("customer_key", "invalid_contact", "not an email or a phone number")
    errors.raise_if_any()
    if cmd.actor is not None:
        require(cmd.actor, Permission.ORDER_READ, "push_subscription")
        require(cmd.actor, Permission.PII_READ, "push_subscription")
    elif key is not None or not cmd.contact:
        raise Unauthenticated()
    if cmd.order_number:  # the proof first: a stranger learns nothing more
        async with uow:
            order = await uow.orders.get(cmd.order_number)
        if order is None or not (_owns(order, cmd.contact or "") if cmd.actor is None
                                 else may_touch_warehouse(cmd.actor, order["warehouse_id"])):
            raise NotFound({"kind": "order", "key": cmd.order_number})
    # Outside any transaction: resolving the endpoint's name may take seconds.
    await (guard or OutboundGuard()).vet_url(sub["endpoint"], "subscription.endpoint")
    async with uow:
        new_id = await PushRepo(uow.conn).save(
            endpoint=sub["endpoint"], subscription=json.dumps(sub, separators=(",", ":")),
            order_number=cmd.order_number, customer_key=key,
            user_agent=(cmd.user_agent or "")[:400] or None, now=uow.now())
        if cmd.actor is not None:  # staff; a customer's own device is not on the staff record
            await uow.audit.record(cmd.actor, "push.subscribe", "push_subscription", new_id,
                                   None, {"order_number": cmd.order_number,
                                          "customer_key": key})
        await uow.commit()
    return PushSubscribed(new_id, sub["endpoint"], cmd.order_number, key)


def _owns(order: Mapping[str, Any], contact: str) -> bool:
    contact = contact.strip()
    if "@" in contact:
        email = order.get("customer_email")
        return bool(email) and str(email).lower() == contact.lower()
    phone = normalize_phone(contact)
    return phone is not None and phone in (order.get("customer_phone"), order.get("ship_phone"))


async def unsubscribe_push(endpoint: str, uow: UnitOfWork) -> None:
    async with uow:
        if not await PushRepo(uow.conn).remove([endpoint]):
            raise NotFound({"kind": "push subscription", "key": endpoint[-24:]})
        await uow.commit()


async def push_recipients(uow: UnitOfWork, order_number: str | None,
                          customer_keys: Sequence[str] = ()) -> list[str]:
    """PushSubscription JSON of every browser following the order or one of the customer
    keys (call inside the fan-out's unit of work)."""
    return await PushRepo(uow.conn).recipients(order_number, customer_keys)


async def forget_push_subscriptions(recipients: Sequence[str], uow: UnitOfWork) -> int:
    """Drop subscriptions whose push service said they are gone (404/410)."""
    endpoints = []
    for r in recipients:
        try:
            endpoints.append(str(json.loads(r)["endpoint"]))
        except (ValueError, KeyError, TypeError):
            continue
    async with uow:
        removed = await PushRepo(uow.conn).remove(endpoints)
        await uow.commit()
    return removed
