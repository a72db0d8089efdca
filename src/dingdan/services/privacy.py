"""Erasure on request (PIPL art. 47; docs/security.md#erasure): anonymise a customer's
orders — every order reached by their phone or email — keeping the order facts.

Refused while one of those orders is still open (its address is still needed to deliver
it); done in one transaction with an ``order.anonymised`` event per order (webhook
subscribers erase their copies on it) and one audit row that names the orders but not the
person (the contact is recorded as a digest, so the request can be shown to have been met).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from dingdan.domain.errors import ErrorCollector, HasOpenOrders, NotFound
from dingdan.domain.events import Actor, EventType
from dingdan.domain.lifecycle import TERMINAL
from dingdan.domain.orders import normalize_phone
from dingdan.domain.outbox import envelope
from dingdan.domain.permissions import Permission
from dingdan.domain.privacy import personal_values
from dingdan.services._access import require
from dingdan.store.uow import UnitOfWork


@dataclass(frozen=True)
class AnonymiseCustomer:
    actor: Actor
    reason: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Anonymised:
    orders: tuple[str, ...]
    contact_digest: str


def _digest(contacts: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(contacts)).encode()).hexdigest()[:32]


async def anonymise_customer(cmd: AnonymiseCustomer, uow: UnitOfWork) -> Anonymised:
    require(cmd.actor, Permission.PII_ERASE, "customer")
    errors = ErrorCollector()
    phone = email = None
    if cmd.phone is not None and cmd.phone.strip():
        phone = normalize_phone(cmd.phone.strip())
        if phone is None:
            errors.add("phone", "invalid_phone", "not a valid phone number")
    if cmd.email is not None and cmd.email.strip():
        email = cmd.email.strip().lower()
        if "@" not in email:
            errors.add("email", "invalid_email", "not a valid email address")
    if phone is None and email is None and not errors.errors:
        errors.add("phone", "required", "give the customer's phone or email")
    if not cmd.reason.strip():
        errors.add("reason", "required", "say why (the customer's request, its reference)")
    errors.raise_if_any()
    contacts = [c for c in (phone, email) if c]
    digest = _digest(contacts)
    async with uow:
        rows = await uow.privacy.orders_of(phone, email)
        if not rows:
            raise NotFound({"kind": "customer", "key": digest})
        still_open = [r["number"] for r in rows if r["status"] not in TERMINAL]
        if still_open:
            raise HasOpenOrders({"orders": ", ".join(still_open)})
        personal = set(contacts).union(*(personal_values(r) for r in rows))
        await uow.privacy.erase(rows, personal, contacts)
        now = uow.now()
        for r in rows:
            event_id = str(uuid.uuid4())
            data = {"reason": "pipl_erasure"}
            await uow.events.record(
                event_id=event_id, order_id=r["id"], order_number=r["number"],
                type=EventType.ANONYMISED.value, from_status=None, to_status=None,
                actor=cmd.actor.label, source=cmd.actor.source, reason=None, data=data,
                now=now, payload=envelope(event_id=event_id, type=EventType.ANONYMISED.value,
                                          occurred_at=now, order_number=r["number"],
                                          actor=cmd.actor.label, reason=None, data=data,
                                          order={"number": r["number"], "status": r["status"]}))
        numbers = tuple(r["number"] for r in rows)
        await uow.audit.record(cmd.actor, "customer.anonymise", "customer", digest, None,
                               {"orders": list(numbers), "reason": cmd.reason.strip()[:500]})
        await uow.commit()
    return Anonymised(numbers, digest)
