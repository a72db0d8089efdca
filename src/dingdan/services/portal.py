"""The customer's own page of their order: the proof of ownership, the page's read, and what
the customer may do there.

A visitor becomes a *customer actor* (``ActorKind.CUSTOMER``, source ``portal``) for one
order once they prove it is theirs: a signed link (checked in ``domain.portal``) or the
order number with the last four digits of its phone (:func:`prove_by_phone`). That actor's
order scope (``Actor.order_numbers``) makes every other order "not found" in every use case
(``services._access``), and it holds only the customer's permissions
(``domain.permissions.CUSTOMER_PERMISSIONS``).

The customer's actions are the back office's use cases (``services.orders``), called with the
customer actor: the address change is checked by the lifecycle, recorded on the timeline with
``source=portal``, audited, and notified like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dingdan.domain import portal
from dingdan.domain.errors import FieldError, IllegalTransition, ValidationFailed
from dingdan.domain.events import Actor, ActorKind, EventType
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.notifications import tracking_url
from dingdan.domain.orders import Address
from dingdan.domain.permissions import Permission
from dingdan.domain.privacy import HIDDEN, mask_name, mask_phone
from dingdan.services import orders as order_cases
from dingdan.services._access import require, require_warehouse, visible_order
from dingdan.store.uow import UnitOfWork

SOURCE = "portal"


def customer_actor(number: str, *, ip: str | None = None, client: str | None = None) -> Actor:
    """The visitor who proved that order ``number`` is theirs."""
    return Actor(ActorKind.CUSTOMER, number, number, SOURCE, ip=ip, client=client,
                 order_numbers=frozenset({number}))


async def prove_by_phone(number: str, last_four: str, uow: UnitOfWork) -> bool:
    """Whether ``last_four`` are the last four digits of the order's contact or delivery phone.
    An order that does not exist answers False, like a wrong guess."""
    async with uow:
        order = await uow.orders.get(number)
    phones = (order["customer_phone"], order["ship_phone"]) if order else ("", "")
    return portal.last_four_matches(phones, last_four) and order is not None


# --- the page --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageLine:
    name: str
    spec: str | None
    quantity: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class PageEvent:
    type: str
    at: datetime
    to_status: str | None
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class StatusPage:
    """What the customer's page shows: masked personal data, no back-office detail."""

    number: str
    status: Status
    version: int
    placed_at: datetime
    ship_by: datetime | None
    deliver_by: datetime | None
    stages: list[portal.StageView]
    next_step: str
    lines: list[PageLine]
    currency: str
    subtotal: int
    shipping_fee: int
    discount: int
    tax: int
    total: int
    payment_method: str | None
    payment_status: str
    recipient: str | None
    phone: str | None
    region: str  # province city district: shown as given
    street: str  # hidden
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    events: list[PageEvent]
    address_changeable: bool
    cancellable: bool
    rateable: bool
    rating: tuple[int, int] | None  # (delivery, service) once rated
    last_event_id: int


async def status_page(number: str, uow: UnitOfWork, *, actor: Actor) -> StatusPage:
    """The customer's page of order ``number``; "not found" for anyone else's order."""
    require(actor, Permission.PORTAL_VIEW, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        order = await uow.orders.get(number)
        timeline = await uow.orders.timeline(state.id)
        rating = await uow.ratings.get(state.id)
    assert order is not None
    return _page(order, timeline, rating)


def _page(o: dict[str, Any], timeline: list[dict[str, Any]],
          rating: dict[str, Any] | None = None) -> StatusPage:
    status = Status(o["status"])
    reached: dict[Status, datetime] = {}
    for e in timeline:
        to = e.get("to_status")
        if isinstance(to, str) and to in Status.__members__.values() \
                and Status(to) not in reached:
            reached[Status(to)] = e["created_at"]
    held_from = Status(o["held_from"]) if o.get("held_from") else None
    events = [PageEvent(e["type"], e["created_at"], e.get("to_status"),
                        (e.get("data") or {}).get("carrier"),
                        (e.get("data") or {}).get("tracking_number"))
              for e in timeline if e["type"] in portal.CUSTOMER_EVENTS]
    lines = [PageLine(ln["name"], ln.get("model"), ln["quantity"], ln["unit_price"],
                      ln["quantity"] * ln["unit_price"]) for ln in o["lines"]]
    region = " ".join(str(o[k]) for k in ("ship_province", "ship_city", "ship_district")
                      if o.get(k))
    return StatusPage(
        number=o["number"], status=status, version=o["version"], placed_at=o["placed_at"],
        ship_by=o.get("ship_by"), deliver_by=o.get("deliver_by"),
        stages=portal.stages(status, held_from, o["placed_at"], reached),
        next_step=portal.next_step(status, o.get("payment_method")), lines=lines,
        currency=o["currency"], subtotal=o["subtotal"], shipping_fee=o["shipping_fee"],
        discount=o["discount"], tax=o["tax"], total=o["total"],
        payment_method=o.get("payment_method"), payment_status=o["payment_status"],
        recipient=mask_name(o.get("ship_recipient")), phone=mask_phone(o.get("ship_phone")),
        region=region, street=HIDDEN, carrier=o.get("carrier"),
        tracking_number=o.get("tracking_number"),
        tracking_url=tracking_url(o.get("carrier"), o.get("tracking_number")),
        shipped_at=o.get("shipped_at"), delivered_at=o.get("delivered_at"),
        events=list(reversed(events)), address_changeable=portal.address_changeable(status),
        cancellable=portal.cancellable(status),
        rateable=portal.rateable(status) and rating is None,
        rating=(rating["delivery"], rating["service"]) if rating else None,
        last_event_id=max((e["id"] for e in timeline), default=0))


@dataclass(frozen=True)
class Invoice:
    """The receipt of a paid order, as its PDF prints it."""

    page: StatusPage
    paid_at: datetime | None
    payment_reference: str | None
    issued_at: datetime


async def invoice(number: str, uow: UnitOfWork, *, actor: Actor) -> Invoice:
    """The receipt of order ``number`` once it is paid (refused before: nothing to print)."""
    require(actor, Permission.PORTAL_VIEW, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        order = await uow.orders.get(number)
        timeline = await uow.orders.timeline(state.id)
        now = uow.now()
    assert order is not None
    if order["payment_status"] == PaymentStatus.UNPAID.value:
        raise IllegalTransition({"action": "invoice", "status": order["status"]})
    return Invoice(_page(order, timeline), order.get("paid_at"), order.get("payment_reference"),
                   now)


# --- what the customer may do ----------------------------------------------------------------

@dataclass(frozen=True)
class ChangeDeliveryAddress:
    number: str
    address: Address
    actor: Actor
    expected_version: int | None = None


async def change_delivery_address(cmd: ChangeDeliveryAddress, uow: UnitOfWork) -> int:
    """The back office's address change (``services.orders.change_address``), by the customer:
    refused once the warehouse has started, validated like any address, on the timeline with
    source ``portal``, audited, and the customer notified."""
    return await order_cases.change_address(order_cases.ChangeAddress(
        cmd.number, cmd.address, cmd.actor, reason="changed by the customer",
        expected_version=cmd.expected_version), uow)


@dataclass(frozen=True)
class CancelOrder:
    number: str
    reason: str
    actor: Actor
    expected_version: int | None = None


async def cancel_order(cmd: CancelOrder, uow: UnitOfWork) -> int:
    """The back office's cancel (``services.orders.change_status``), by the customer, before
    the warehouse starts: stock released, the customer told. A paid order's cancel carries a
    refund request (``refund_requested``) that finance sees on the timeline; the refund itself
    is after-sales' business."""
    reason = cmd.reason.strip()
    if not reason:
        raise ValidationFailed(details=[FieldError("reason", "required", "say why")])
    async with uow:  # a first look (the unit of work opens again for the change)
        state = await visible_order(uow, cmd.number, cmd.actor)
    paid = state.payment_status == PaymentStatus.PAID.value
    return await order_cases.change_status(order_cases.ChangeStatus(
        cmd.number, Action.CANCEL, cmd.actor, reason=f"customer: {reason}",
        expected_version=cmd.expected_version,
        data={"refund_requested": True} if paid else {}), uow)


@dataclass(frozen=True)
class RateOrder:
    number: str
    delivery: int
    service: int
    comment: str | None
    actor: Actor


async def rate_order(cmd: RateOrder, uow: UnitOfWork) -> None:
    """The customer's rating of the delivery and the service (1–5 each, and a comment), once,
    after delivery: stored for the KPIs, on the timeline, audited."""
    require(cmd.actor, Permission.PORTAL_RATE, "order", cmd.number)
    errors = []
    for name, score in (("delivery", cmd.delivery), ("service", cmd.service)):
        if score not in portal.SCORES:
            errors.append(FieldError(name, "out_of_range", "a score from 1 to 5"))
    comment = (cmd.comment or "").strip() or None
    if comment and len(comment) > portal.COMMENT_MAX:
        errors.append(FieldError("comment", "too_long",
                                 f"at most {portal.COMMENT_MAX} characters"))
    if errors:
        raise ValidationFailed(details=errors)
    async with uow:
        state = await visible_order(uow, cmd.number, cmd.actor)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.PORTAL_RATE, "order",
                          cmd.number)
        if not portal.rateable(Status(state.status)):
            raise IllegalTransition({"action": "rate", "status": state.status})
        scores = {"delivery": cmd.delivery, "service": cmd.service}
        await uow.ratings.add({"order_id": state.id, **scores, "comment": comment,
                               "source": cmd.actor.source, "created_at": uow.now()})
        await order_cases.record_event(uow, state, EventType.RATED, cmd.actor, comment, scores)
        await uow.audit.record(cmd.actor, "order.rate", "order", cmd.number, None,
                               {**scores, "comment": comment})
        await uow.commit()


HELP_TOPICS = ("question", "delivery", "return", "exchange", "complaint")
HELP_TEXT_MAX = 1000


@dataclass(frozen=True)
class RequestHelp:
    number: str
    topic: str
    text: str
    actor: Actor


# Where a topic's request goes. Until after-sales cases exist, every topic becomes a message
# to customer service on the order's timeline; the after-sales issue replaces the ``return``,
# ``exchange`` and ``complaint`` entries with its own use cases (same command, same form).
HelpTarget = Callable[[RequestHelp, UnitOfWork], Awaitable[None]]


async def _note_for_customer_service(cmd: RequestHelp, uow: UnitOfWork) -> None:
    async with uow:
        state = await visible_order(uow, cmd.number, cmd.actor)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.PORTAL_HELP, "order",
                          cmd.number)
        await order_cases.record_event(uow, state, EventType.HELP_REQUESTED, cmd.actor,
                                       cmd.text, {"topic": cmd.topic})
        await uow.audit.record(cmd.actor, "order.help", "order", cmd.number, None,
                               {"topic": cmd.topic, "text": cmd.text})
        await uow.commit()


HELP_TARGETS: dict[str, HelpTarget] = dict.fromkeys(HELP_TOPICS, _note_for_customer_service)


async def request_help(cmd: RequestHelp, uow: UnitOfWork) -> None:
    """"I need help": the customer's words reach customer service on the order's timeline."""
    require(cmd.actor, Permission.PORTAL_HELP, "order", cmd.number)
    text = cmd.text.strip()
    errors = []
    if cmd.topic not in HELP_TARGETS:
        errors.append(FieldError("topic", "unknown_topic",
                                 f"one of {', '.join(HELP_TOPICS)}"))
    if not text:
        errors.append(FieldError("text", "required", "say what you need"))
    elif len(text) > HELP_TEXT_MAX:
        errors.append(FieldError("text", "too_long", f"at most {HELP_TEXT_MAX} characters"))
    if errors:
        raise ValidationFailed(details=errors)
    await HELP_TARGETS[cmd.topic](RequestHelp(cmd.number, cmd.topic, text, cmd.actor), uow)
