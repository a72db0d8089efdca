"""What every after-sales, refund and complaint use case shares: the case's timeline event
with its outbox row (one envelope, with the order's snapshot so notifications reach the
customer on their channel), the customer's proof of owning an order, and numbering.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dingdan.domain.errors import NotFound
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.orders import normalize_phone
from dingdan.domain.outbox import envelope
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork


def case_number(prefix: str, now: datetime) -> str:
    """``AS2612021A2B3C4D5E``: kind, date, 40 random bits (no guessing a neighbour's case)."""
    return f"{prefix}{now:%y%m%d}{secrets.token_hex(5).upper()}"


def order_snapshot(state: OrderState) -> dict[str, Any]:
    return {"number": state.number, "status": state.status,
            "payment_status": state.payment_status,
            "fulfillment_status": state.fulfillment_status, "channel": state.channel,
            "external_id": state.external_id, "total": state.total, "currency": state.currency,
            "customer": {"name": state.customer_name, "phone": state.customer_phone,
                         "email": state.customer_email},
            "carrier": state.carrier, "tracking_number": state.tracking_number,
            "version": state.version}


async def record_case_event(uow: UnitOfWork, *, kind: str, case_id: int, case_number: str,
                            order: OrderState, type: str, from_status: str | None,
                            to_status: str | None, actor: Actor, reason: str | None = None,
                            data: dict[str, Any] | None = None,
                            labels: Mapping[str, str] | None = None) -> None:
    """The case's timeline row and its outbox row (same event id), in the caller's
    transaction. The envelope carries ``data.case`` (kind, number, status) for templates,
    webhooks and the broker."""
    now = uow.now()
    event_id = str(uuid.uuid4())
    case: dict[str, Any] = {"kind": kind, "number": case_number, "from_status": from_status,
                            "status": to_status}
    if labels is not None:  # the status in both languages, for the customer's message
        case["status_label"] = dict(labels)
    body = {"case": case, **(data or {})}
    payload = envelope(event_id=event_id, type=type, occurred_at=now,
                       order_number=order.number, actor=actor.label, reason=reason, data=body,
                       order=order_snapshot(order))
    await uow.case_events.record(values=dict(
        event_id=event_id, kind=kind, case_id=case_id, case_number=case_number,
        order_number=order.number, type=type, from_status=from_status, to_status=to_status,
        actor=actor.label, source=actor.source, reason=reason, data=body, created_at=now),
        payload=payload)


@dataclass(frozen=True, slots=True)
class CustomerProof:
    """A buyer asking about their own order: the order number and a contact of the order
    (its phone or email) that the caller has verified — the portal by a one-time code
    (issue 8), a marketplace by its own sign-in. Nothing else identifies a customer here."""

    order_number: str
    contact: str
    ip: str | None = None
    client: str | None = None  # the user agent, for the audit trail


def _same_contact(given: str, state: OrderState) -> bool:
    given = given.strip()
    if "@" in given:
        return bool(state.customer_email) and given.lower() == (state.customer_email or "")
    phone = normalize_phone(given)
    return phone is not None and phone == state.customer_phone


async def customer_order(uow: UnitOfWork, proof: CustomerProof) -> tuple[OrderState, Actor]:
    """The order the proof is for, and the customer as an actor; "not found" when the
    contact is not the order's, exactly as for an order that does not exist."""
    state = await uow.orders.get_state(proof.order_number)
    if state is None or not _same_contact(proof.contact, state):
        raise NotFound({"kind": "order", "key": proof.order_number})
    name = (state.customer_name or "")[:1] + "*"
    return state, Actor(ActorKind.CUSTOMER, proof.order_number, name, "portal", ip=proof.ip,
                        client=proof.client)
