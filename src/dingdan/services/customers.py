"""Customer use cases: link an order to its customer at intake, read a customer with their
history, list and search, edit (tier, credit, blocklist, notes), merge two records.

Reads need ``order.read``; phones and emails are masked without ``pii.read``. Edits need
``customer.write`` and are audited with before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dingdan.domain.customers import check_edit, match_keys
from dingdan.domain.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from dingdan.domain.events import Actor
from dingdan.domain.orders import Customer
from dingdan.domain.permissions import Permission, can, may_touch_warehouse
from dingdan.domain.privacy import mask_email, mask_phone
from dingdan.services._access import require
from dingdan.store.uow import UnitOfWork

MAX_LIST = 200


async def link_on_intake(uow: UnitOfWork, order_id: int, customer: Customer,
                         ship_phone: str | None) -> int:
    """Find the customer by contact (or make a record), note new contacts, link the order."""
    keys = match_keys(customer.phone, customer.email, ship_phone)
    known = await uow.customers.known(keys)
    customer_id = next((known[k] for k in keys if k in known), None)
    if customer_id is None:
        now = uow.now()
        customer_id = await uow.customers.create(dict(
            kind="company" if customer.company else "person", name=customer.name,
            company=customer.company, phone=customer.phone or ship_phone,
            email=customer.email, tier="standard", blocked=False, version=1, created_at=now,
            updated_at=now))
    await uow.customers.add_contacts(customer_id, [k for k in keys if k not in known])
    await uow.customers.link(order_id, customer_id)
    return customer_id


def _masked(row: dict[str, Any], actor: Actor) -> dict[str, Any]:
    if can(actor, Permission.PII_READ):
        return row
    return {**row, "phone": mask_phone(row.get("phone")), "email": mask_email(row.get("email"))}


async def get_customer(customer_id: int, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    """The record, its contacts, its history figures and its latest orders (those the
    person may see)."""
    require(actor, Permission.ORDER_READ, "customer", customer_id)
    async with uow:
        row = await uow.customers.get(customer_id)
        if row is None:
            raise NotFound({"kind": "customer", "key": customer_id})
        contacts = await uow.customers.contacts(customer_id)
        history = await uow.customers.history(customer_id)
        orders = [o for o in await uow.customers.orders(customer_id)
                  if may_touch_warehouse(actor, o["warehouse_id"])]
    pii = can(actor, Permission.PII_READ)
    out = _masked(row, actor)
    out["contacts"] = [{"kind": c["kind"], "value": c["value"] if pii else
                        (mask_phone(c["value"]) if c["kind"] == "phone"
                         else mask_email(c["value"]))} for c in contacts]
    out["history"] = history
    out["orders"] = orders
    return out


async def list_customers(text: str | None, limit: int, uow: UnitOfWork, *,
                         actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "customer", None)
    if text and not can(actor, Permission.PII_READ):
        text = None if any(ch.isdigit() or ch == "@" for ch in text) else text
    async with uow:
        rows = await uow.customers.search(text, min(limit, MAX_LIST))
    return [_masked(r, actor) for r in rows]


@dataclass(frozen=True)
class UpdateCustomer:
    customer_id: int
    changes: dict[str, Any]
    actor: Actor
    expected_version: int | None = None


async def update_customer(cmd: UpdateCustomer, uow: UnitOfWork) -> int:
    """Change a customer's record; returns the new version. Audited before/after."""
    require(cmd.actor, Permission.CUSTOMER_WRITE, "customer", cmd.customer_id)
    changes = check_edit(cmd.changes)
    async with uow:
        row = await uow.customers.get(cmd.customer_id)
        if row is None:
            raise NotFound({"kind": "customer", "key": cmd.customer_id})
        if cmd.expected_version is not None and cmd.expected_version != row["version"]:
            raise VersionConflict({"customer": cmd.customer_id, "expected":
                                   cmd.expected_version, "actual": row["version"]})
        if changes.get("blocked") is None and row["blocked"] and "blocked_reason" in changes \
                and not str(changes["blocked_reason"] or "").strip():
            raise ValidationFailed(details=[FieldError("blocked_reason", "required",
                                                       "say why the customer is blocked")])
        changed = {k: v for k, v in changes.items() if row[k] != v}
        if not changed:
            return int(row["version"])
        if not await uow.customers.update(cmd.customer_id, row["version"],
                                          {**changed, "updated_at": uow.now()}):
            raise VersionConflict({"customer": cmd.customer_id})
        await uow.audit.record(cmd.actor, "customer.update", "customer", cmd.customer_id,
                               {k: row[k] for k in changed}, changed)
        await uow.commit()
        return int(row["version"]) + 1


@dataclass(frozen=True)
class MergeCustomers:
    keep: int
    away: int
    actor: Actor


async def merge_customers(cmd: MergeCustomers, uow: UnitOfWork) -> int:
    """Move every order and contact of ``away`` to ``keep``; ``away`` points at ``keep``
    from then on. Returns how many orders moved."""
    require(cmd.actor, Permission.CUSTOMER_WRITE, "customer", cmd.keep)
    if cmd.keep == cmd.away:
        raise ValidationFailed(details=[FieldError("from_customer", "same",
                                                   "a customer cannot merge with itself")])
    async with uow:
        keep, away = await uow.customers.get(cmd.keep), await uow.customers.get(cmd.away)
        if keep is None or keep["merged_into"] is not None:
            raise NotFound({"kind": "customer", "key": cmd.keep})
        if away is None or away["merged_into"] is not None:
            raise NotFound({"kind": "customer", "key": cmd.away})
        moved = await uow.customers.merge(cmd.keep, cmd.away, uow.now())
        await uow.audit.record(cmd.actor, "customer.merge", "customer", cmd.keep,
                               {"merged": cmd.away}, {"orders_moved": moved})
        await uow.commit()
        return moved
