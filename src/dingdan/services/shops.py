"""Shops that send their orders by webhook: connecting one (its code and the secret it signs
with), and receiving its signed messages.

A message is taken only if its signature verifies with the shop's secret (else
``SIGNATURE_INVALID``, 401, and nothing is written); the shop itself is then the actor (a
``channel`` actor with the integration role), and the order goes through
``services.channel_orders.receive_channel_order``: placed once, later changes applied or
refused out loud.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from types import ModuleType
from typing import Any

from dingdan.adapters.channels import generic_json, shopify, woocommerce
from dingdan.domain.channel_orders import Arrival
from dingdan.domain.errors import AlreadyExists, ErrorCollector, SignatureInvalid
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.permissions import Permission
from dingdan.services._access import require
from dingdan.services.channel_orders import ChannelOrder, Received, receive_channel_order
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

KINDS: dict[str, ModuleType] = {"shopify": shopify, "woocommerce": woocommerce,
                                "json": generic_json}
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
RESERVED_CODES = frozenset({"api", "csv", "web", "phone", "demo"})


@dataclass(frozen=True)
class ConnectShop:
    code: str  # becomes the ``channel`` of its orders
    kind: str
    name: str
    secret: str
    actor: Actor
    # kind "json": the mapping of its order JSON (``adapters.channels.generic_json``)
    mapping: Mapping[str, str] | None = None


async def connect_shop(cmd: ConnectShop, uow: UnitOfWork) -> dict[str, Any]:
    require(cmd.actor, Permission.SETTINGS_WRITE, "channel_source", cmd.code)
    errors = ErrorCollector()
    if not _CODE.match(cmd.code) or cmd.code in RESERVED_CODES:
        errors.add("code", "string_pattern_mismatch",
                   "2-32 lower-case letters, digits, - or _; not api, csv, web, phone, demo")
    if cmd.kind not in KINDS:
        errors.add("kind", "value_error", f"one of {', '.join(sorted(KINDS))}")
    if len(cmd.secret) < 16:
        errors.add("secret", "too_short", "the shop's signing secret (16 characters or more)")
    if not cmd.name.strip():
        errors.add("name", "required", "a name people recognise")
    if cmd.kind == "json" and not {"order_id", "lines"} <= set(cmd.mapping or {}):
        errors.add("mapping", "required", "a JSON channel's mapping names order_id and lines")
    errors.raise_if_any()
    async with uow:
        if await uow.channels.source(cmd.code) is not None:
            raise AlreadyExists({"field": "code", "value": cmd.code})
        now = uow.now()
        source_id = await uow.channels.add_source(dict(
            code=cmd.code, kind=cmd.kind, name=cmd.name.strip(), secret=cmd.secret,
            active=True, version=1, created_by=cmd.actor.label, created_at=now,
            updated_at=now))
        if cmd.mapping:
            await uow.imports.save_mapping(cmd.code, cmd.mapping, cmd.actor.label, now)
        await uow.audit.record(cmd.actor, "channel_source.create", "channel_source", cmd.code,
                               None, {"kind": cmd.kind, "name": cmd.name.strip(),
                                      "mapping": dict(cmd.mapping or {})})
        await uow.commit()
    return {"id": source_id, "code": cmd.code, "kind": cmd.kind, "name": cmd.name.strip(),
            "active": True}


async def list_shops(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.SETTINGS_WRITE, "channel_source")
    async with uow:
        return [{"id": s.id, "code": s.code, "kind": s.kind, "name": s.name,
                 "active": s.active} for s in await uow.channels.sources()]


def shop_actor(code: str, kind: str, ip: str | None) -> Actor:
    return Actor(ActorKind.CHANNEL, code, code, kind, frozenset({"integration"}), None, ip,
                 kind)


async def receive_shop_message(code: str, kind: str, body: bytes,
                               headers: Mapping[str, str], uows: UnitOfWorkFactory,
                               ip: str | None = None, tz: tzinfo = UTC) -> Received | None:
    """Verify and take one webhook delivery of shop ``code``. None: a delivery with no order
    in it (WooCommerce's ping, a topic Dingdan does not take)."""
    async with uows(read_only=True) as uow:
        source = await uow.channels.source(code)
        mapping = await uow.imports.mapping(code) if kind == "json" else {}
    adapter = KINDS.get(kind)
    # An unknown shop and a wrong signature answer alike: the codes stay unknown to guessers.
    if source is None or not source.active or source.kind != kind or adapter is None \
            or not adapter.verify(source.secret, body, headers):
        raise SignatureInvalid({"channel": code})
    message = (generic_json.parse(code, body, mapping, tz) if kind == "json"
               else adapter.parse(code, body, headers))
    if message is None:
        return None
    received = await receive_channel_order(ChannelOrder(
        message.draft, shop_actor(code, kind, ip), message.version, message.paid,
        message.payment_reference, message.cancelled, message.cancel_reason), uows)
    return received


__all__ = ["Arrival", "ConnectShop", "connect_shop", "list_shops", "receive_shop_message"]
