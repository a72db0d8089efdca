"""Notification use cases people call: the messages of an order, dead letters and their
replay, and customer preferences. The worker's own use cases are in ``services.delivery``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text

from dingdan.domain.errors import ErrorCollector, NotFound, VersionConflict
from dingdan.domain.events import Actor
from dingdan.domain.notifications import (
    CUSTOMER_CHANNELS,
    CUSTOMER_KINDS,
    QuietHours,
    mask_recipient,
)
from dingdan.domain.orders import normalize_phone
from dingdan.domain.permissions import Permission
from dingdan.services._access import require, visible_order
from dingdan.services.templates import LANGUAGES
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.notification_settings import PreferenceRepo
from dingdan.store.uow import UnitOfWork

WAKE_CHANNEL = "dingdan_outbox"  # what idle workers LISTEN on (migration 0002)
MAX_REPLAY = 10_000


def delivery_public(r: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery as a person may see it: the recipient masked, no payload."""
    return {"id": r["id"], "event_id": r["event_id"], "event_type": r["event_type"],
            "kind": r["kind"], "audience": r["audience"], "channel": r["channel"],
            "recipient": mask_recipient(r["channel"], r["recipient"]),
            "order_number": r["order_number"], "language": r["language"],
            "status": r["status"], "attempts": r["attempts"],
            "next_attempt_at": r["next_attempt_at"] if r["status"] == "pending" else None,
            "last_error": r["last_error"], "response_code": r["response_code"],
            "fallback_of": r["fallback_of"], "created_at": r["created_at"],
            "sent_at": r["sent_at"], "dead_at": r["dead_at"]}


async def order_messages(number: str, uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Every message about one order, on every channel, oldest first."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        await visible_order(uow, number, actor)  # 404 outside the person's warehouses
        rows = await DeliveryRepo(uow.conn).for_order(number)
    return [delivery_public(r) for r in rows]


async def dead_letters(uow: UnitOfWork, actor: Actor, *, channel: str | None = None,
                       kind: str | None = None, order_number: str | None = None,
                       before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "dead_letters", None)
    async with uow:
        rows = await DeliveryRepo(uow.conn).dead(channel=channel, kind=kind,
                                                 order_number=order_number,
                                                 before_id=before_id, limit=limit)
    return [delivery_public(r) for r in rows]


@dataclass(frozen=True)
class ReplayDeadLetters:
    """Which dead letters to send again: given ids, or everything matching the filters."""

    actor: Actor
    ids: Sequence[int] | None = None
    channel: str | None = None
    kind: str | None = None
    dead_from: datetime | None = None
    dead_to: datetime | None = None


async def replay_dead_letters(cmd: ReplayDeadLetters, uow: UnitOfWork) -> list[int]:
    """Queue dead letters again, due now with a fresh count of attempts; returns their ids.
    Their event ids do not change, so receivers that de-duplicate still can."""
    require(cmd.actor, Permission.SETTINGS_WRITE, "dead_letters", cmd.ids)
    if cmd.ids is not None and not cmd.ids:
        return []
    async with uow:
        ids = await DeliveryRepo(uow.conn).replay(
            uow.now(), ids=cmd.ids, channel=cmd.channel, kind=cmd.kind,
            dead_from=cmd.dead_from, dead_to=cmd.dead_to, limit=MAX_REPLAY)
        if ids:
            await uow.audit.record(cmd.actor, "dead_letters.replay", "delivery",
                                   ",".join(map(str, ids[:50])), None, {"count": len(ids)})
            await wake_workers(uow)
        await uow.commit()
    return ids


async def replay_one(delivery_id: int, uow: UnitOfWork, actor: Actor) -> None:
    replayed = await replay_dead_letters(ReplayDeadLetters(actor, ids=[delivery_id]), uow)
    if not replayed:
        raise NotFound({"kind": "dead letter", "key": delivery_id})


async def wake_workers(uow: UnitOfWork) -> None:
    """On PostgreSQL, wake idle workers when this transaction commits (NOTIFY is
    transactional); elsewhere they notice within one poll."""
    if uow.dialect == "postgresql":
        await uow.conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WAKE_CHANNEL})


# -- preferences ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferenceFields:
    language: str | None = None
    tier: str = "standard"
    channels: Mapping[str, Sequence[str]] = field(default_factory=dict)
    opt_outs: Sequence[str] = ()
    quiet_hours: str | None = None  # "22:00-08:00"
    timezone: str | None = None


def normalize_contact(contact: str) -> str | None:
    """The key preferences are stored under: a lower-case email or an E.164 phone."""
    value = contact.strip()
    if "@" in value:
        return value.lower() if len(value) <= 254 else None
    return normalize_phone(value)


def _check(f: PreferenceFields) -> dict[str, Any]:
    errors = ErrorCollector()
    kinds = {k.value for k in CUSTOMER_KINDS}
    channels = {c.value for c in CUSTOMER_CHANNELS}
    if f.language is not None and f.language not in LANGUAGES:
        errors.add("language", "unknown_language", f"one of {', '.join(LANGUAGES)}")
    if not f.tier.strip() or len(f.tier) > 32:
        errors.add("tier", "required", "a tier name of 1-32 characters")
    for key, chain in f.channels.items():
        if key != "*" and key not in kinds:
            errors.add(f"channels.{key}", "unknown_kind", f"no notification kind {key}")
        bad = [c for c in chain if c not in channels]
        if bad or not chain:
            errors.add(f"channels.{key}", "unknown_channel",
                       f"an ordered list of {', '.join(sorted(channels))}")
    for i, kind in enumerate(f.opt_outs):
        if kind != "*" and kind not in kinds:
            errors.add(f"opt_outs.{i}", "unknown_kind", f"no notification kind {kind}")
    if f.quiet_hours:
        try:
            QuietHours.parse(f.quiet_hours)
        except ValueError as exc:
            errors.add("quiet_hours", "invalid_quiet_hours", str(exc))
    if f.timezone:
        try:
            ZoneInfo(f.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.add("timezone", "unknown_timezone", "an IANA zone, e.g. Asia/Shanghai")
    errors.raise_if_any()
    return {"language": f.language, "tier": f.tier.strip(),
            "channels": {k: list(dict.fromkeys(v)) for k, v in f.channels.items()},
            "opt_outs": sorted(set(f.opt_outs)),
            "quiet_hours": str(QuietHours.parse(f.quiet_hours)) if f.quiet_hours else None,
            "timezone": f.timezone}


def _contact_or_fail(contact: str) -> str:
    key = normalize_contact(contact)
    if key is None:
        errors = ErrorCollector()
        errors.add("contact", "invalid_contact", "an email address or a phone number")
        errors.raise_if_any()
    assert key is not None
    return key


async def get_preferences(contact: str, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """A customer's preferences; the defaults (version 0) if they never stated any."""
    require(actor, Permission.ORDER_READ, "preferences", None)
    key = _contact_or_fail(contact)
    async with uow:
        row = await PreferenceRepo(uow.conn).get(key)
    if row is None:
        return {"contact": key, "language": None, "tier": "standard", "channels": {},
                "opt_outs": [], "quiet_hours": None, "timezone": None, "version": 0,
                "updated_at": None}
    return row


async def put_preferences(contact: str, fields: PreferenceFields, uow: UnitOfWork,
                          actor: Actor, expected_version: int | None = None) -> dict[str, Any]:
    """Record what a customer asked for (customer service, or the portal later)."""
    require(actor, Permission.ORDER_EDIT, "preferences", None)
    key = _contact_or_fail(contact)
    values = _check(fields)
    async with uow:
        repo = PreferenceRepo(uow.conn)
        before = await repo.get(key)
        if not await repo.put(key, values, expected_version, uow.now()):
            raise VersionConflict({"contact": key})
        after = await repo.get(key)
        await uow.audit.record(actor, "preferences.put", "preferences", key, before, values)
        await uow.commit()
    assert after is not None
    return after
