"""The review blocklist: phones, emails and addresses that hold an order for a person,
whoever places it (the rule ``blocklisted_contact`` reads ``blocklist.hit``). Managing it
needs ``settings.write``; every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dingdan.domain.blocklist import normalise_entry
from dingdan.domain.errors import FieldError, NotFound, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission
from dingdan.services._access import require
from dingdan.store.uow import UnitOfWork


async def list_entries(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.SETTINGS_WRITE, "blocklist", None)
    async with uow:
        return await uow.review.blocklist()


@dataclass(frozen=True)
class BlockEntry:
    kind: str
    value: str
    reason: str
    actor: Actor


async def add_entry(cmd: BlockEntry, uow: UnitOfWork) -> dict[str, Any]:
    """Add a phone, email or address (normalised); refused if it is none of them."""
    require(cmd.actor, Permission.SETTINGS_WRITE, "blocklist", None)
    value = normalise_entry(cmd.kind, cmd.value)
    if not cmd.reason.strip():
        raise ValidationFailed(details=[FieldError("reason", "required",
                                                   "say why it is on the blocklist")])
    async with uow:
        row = await uow.review.block(dict(kind=cmd.kind, value=value,
                                          reason=cmd.reason.strip(),
                                          created_by=cmd.actor.label, created_at=uow.now()))
        await uow.audit.record(cmd.actor, "blocklist.add", "blocklist", row["id"], None,
                               {"kind": cmd.kind, "value": value, "reason": row["reason"]})
        await uow.commit()
        return row


async def remove_entry(entry_id: int, uow: UnitOfWork, *, actor: Actor) -> None:
    require(actor, Permission.SETTINGS_WRITE, "blocklist", entry_id)
    async with uow:
        row = await uow.review.unblock(entry_id)
        if row is None:
            raise NotFound({"kind": "blocklist", "key": entry_id})
        await uow.audit.record(actor, "blocklist.remove", "blocklist", entry_id,
                               {"kind": row["kind"], "value": row["value"]}, None)
        await uow.commit()
