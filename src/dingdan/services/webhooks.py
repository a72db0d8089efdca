"""Webhook use cases: subscriptions (the secret is shown once), their delivery log, and replay
from a point in time; plus the two hooks the worker needs.

For the worker (``dingdan.workers``):

- :func:`plan_webhook_deliveries` — in the fan-out transaction, the delivery rows (one per
  matching active subscription) for a batch of outbox events; insert them with
  ``DeliveryRepo.add``. A webhook delivery's ``recipient`` is the subscription id.
- :class:`WebhookTargetLookup` — pass it to
  ``dingdan.adapters.notify.registry.build_senders(settings, webhook_targets=…)``; the webhook
  sender asks it for the URL and secret behind a recipient at send time.
- :func:`forget_gone_subscription` — call it when a webhook delivery gives up with 410 Gone
  (the receiver has said it wants no more), to switch the subscription off.

A subscription's URL must pass the outbound guard (``dingdan.adapters.netguard``) when it
is created or changed — no loopback, private, link-local or metadata address, unless the
operator's allow-list says so (``URL_NOT_ALLOWED``) — and the webhook sender checks again
at every connection.

Replay re-queues the events of ``[since, until)`` for one subscription with the same event
ids, under a recipient of their own (``"12@replay-<tag>"``): the earlier deliveries and their
log stay as they were, and the replayed events keep their order per order.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dingdan.adapters.netguard import OutboundGuard
from dingdan.adapters.notify.webhook import WebhookTarget
from dingdan.domain.errors import (
    ErrorCollector,
    FieldError,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import Actor
from dingdan.domain.notifications import Audience, Kind
from dingdan.domain.permissions import Permission, authorize
from dingdan.domain.webhooks import check_subscription, matches
from dingdan.store.deliveries import PENDING
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory
from dingdan.store.webhooks import (
    WEBHOOK,
    WebhookRepo,
    subscription_id_of,
    webhook_recipient,
)

SECRET_PREFIX = "whsec_"
REPLAY_LIMIT = 10_000  # events per replay call; a larger window is replayed in slices
PUBLIC_FIELDS = ("id", "url", "event_types", "description", "active", "version", "created_by",
                 "created_at", "updated_at")


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def public(row: Mapping[str, Any]) -> dict[str, Any]:
    """A subscription as anyone may see it again: without its secret."""
    return {k: row[k] for k in PUBLIC_FIELDS} | {"secret_hint": str(row["secret"])[-4:]}


@dataclass(frozen=True)
class CreateSubscription:
    url: str
    event_types: tuple[str, ...]
    actor: Actor
    description: str | None = None
    active: bool = True


@dataclass(frozen=True)
class SubscriptionWithSecret:
    subscription: dict[str, Any]
    secret: str | None  # shown to the caller once (None: unchanged); only signing reads it


async def create_subscription(cmd: CreateSubscription, uow: UnitOfWork, *,
                              guard: OutboundGuard | None = None) -> SubscriptionWithSecret:
    """``guard`` vets the URL (default: no internal address at all)."""
    authorize(cmd.actor, Permission.SETTINGS_WRITE)
    errors = ErrorCollector()
    check_subscription(cmd.url, cmd.event_types, errors)
    errors.raise_if_any()
    await (guard or OutboundGuard()).vet_url(cmd.url)
    secret = new_secret()
    async with uow:
        now = uow.now()
        row = await WebhookRepo(uow.conn).add({
            "url": cmd.url, "secret": secret, "event_types": list(cmd.event_types),
            "description": cmd.description, "active": cmd.active, "version": 1,
            "created_by": cmd.actor.label, "created_at": now, "updated_at": now})
        await uow.audit.record(cmd.actor, "webhook.create", "webhook", row["id"], None,
                               _audited(row))
        await uow.commit()
    return SubscriptionWithSecret(public(row), secret)


def _audited(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a subscription: never its secret."""
    return {k: row[k] for k in ("url", "event_types", "description", "active") if k in row}


async def list_subscriptions(actor: Actor, uow: UnitOfWork) -> list[dict[str, Any]]:
    authorize(actor, Permission.SETTINGS_WRITE)
    async with uow:
        return [public(r) for r in await WebhookRepo(uow.conn).all()]


async def get_subscription(subscription_id: int, actor: Actor,
                           uow: UnitOfWork) -> dict[str, Any]:
    authorize(actor, Permission.SETTINGS_WRITE)
    async with uow:
        row = await _existing(WebhookRepo(uow.conn), subscription_id)
    return public(row)


EDITABLE = frozenset({"url", "event_types", "description", "active"})


async def update_subscription(subscription_id: int, changes: Mapping[str, Any],
                              expected_version: int | None, actor: Actor, uow: UnitOfWork,
                              rotate_secret: bool = False, *,
                              guard: OutboundGuard | None = None) -> SubscriptionWithSecret:
    """Change a subscription; with ``rotate_secret`` a new secret is made and returned once.

    A missing subscription raises NotFound, a stale ``expected_version`` VersionConflict, a
    new URL the ``guard`` refuses UrlNotAllowed.
    """
    authorize(actor, Permission.SETTINGS_WRITE)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(details=[FieldError(f, "not_editable", "cannot be changed")
                                        for f in sorted(unknown)])
    errors = ErrorCollector()
    for name in ("url", "event_types", "active"):
        if name in changes and changes[name] is None:
            errors.add(name, "required", f"{name} cannot be null")
    event_types = changes.get("event_types")
    check_subscription(changes.get("url"), list(event_types) if event_types is not None
                       else None, errors)
    errors.raise_if_any()
    if changes.get("url") is not None:
        await (guard or OutboundGuard()).vet_url(changes["url"])
    values: dict[str, Any] = dict(changes)
    if event_types is not None:
        values["event_types"] = list(event_types)
    secret = new_secret() if rotate_secret else None
    if secret is not None:
        values["secret"] = secret
    async with uow:
        repo = WebhookRepo(uow.conn)
        current = await _existing(repo, subscription_id)
        values["updated_at"] = uow.now()
        row = await repo.update(subscription_id, expected_version or current["version"], values)
        if row is None:
            raise VersionConflict({"kind": "webhook subscription", "key": subscription_id})
        await uow.audit.record(actor, "webhook.update", "webhook", subscription_id,
                               _audited(current), {**_audited(row),
                                                   "secret_rotated": secret is not None})
        await uow.commit()
    return SubscriptionWithSecret(public(row), secret)


async def delete_subscription(subscription_id: int, actor: Actor, uow: UnitOfWork) -> None:
    """Delete a subscription. Its queued deliveries give up at their next attempt (the sender
    finds no target); the delivery log keeps what was sent."""
    authorize(actor, Permission.SETTINGS_WRITE)
    async with uow:
        if not await WebhookRepo(uow.conn).delete(subscription_id):
            raise NotFound({"kind": "webhook subscription", "key": subscription_id})
        await uow.audit.record(actor, "webhook.delete", "webhook", subscription_id)
        await uow.commit()


async def subscription_deliveries(subscription_id: int, actor: Actor, uow: UnitOfWork,
                                  limit: int = 100,
                                  before_id: int | None = None) -> list[dict[str, Any]]:
    """The delivery log of one subscription (replays included), newest first."""
    authorize(actor, Permission.SETTINGS_WRITE)
    async with uow:
        repo = WebhookRepo(uow.conn)
        await _existing(repo, subscription_id)
        rows = await repo.deliveries(subscription_id, limit, before_id)
    return [{"id": r["id"], "event_id": r["event_id"], "event_type": r["event_type"],
             "order_number": r["order_number"], "status": r["status"],
             "attempts": r["attempts"], "response_code": r["response_code"],
             "last_error": r["last_error"], "replay": "@" in r["recipient"],
             "created_at": r["created_at"], "next_attempt_at": r["next_attempt_at"],
             "sent_at": r["sent_at"], "dead_at": r["dead_at"]} for r in rows]


@dataclass(frozen=True)
class ReplayReport:
    subscription_id: int
    since: datetime
    until: datetime | None
    events: int  # events in the window that this subscription receives
    queued: int  # deliveries queued (the same as events unless the window was cut)
    recipient: str  # the replay's own recipient in the delivery log
    complete: bool  # False: more events than REPLAY_LIMIT; replay again from last_created_at
    last_created_at: datetime | None


async def replay(subscription_id: int, since: datetime, actor: Actor, uow: UnitOfWork,
                 until: datetime | None = None) -> ReplayReport:
    """Queue again every event since ``since`` that the subscription receives, with the same
    event ids, for the worker to deliver (in order per order, like any webhook)."""
    authorize(actor, Permission.SETTINGS_WRITE)
    if until is not None and until <= since:
        raise ValidationFailed(details=[FieldError("until", "out_of_range",
                                                   "until must be after since")])
    async with uow:
        repo = WebhookRepo(uow.conn)
        sub = await _existing(repo, subscription_id)
        now = uow.now()
        events = await repo.events_since(since, until, REPLAY_LIMIT)
        wanted = [e for e in events if matches(sub["event_types"], e["type"])]
        recipient = webhook_recipient(subscription_id,
                                      f"{now:%Y%m%dT%H%M%S}.{secrets.token_hex(3)}")
        rows = [delivery_row(e, recipient, now) for e in wanted]
        queued = await repo.queue(rows)
        await uow.audit.record(actor, "webhook.replay", "webhook", subscription_id, None,
                               {"since": since, "until": until, "queued": queued})
        await uow.commit()
    return ReplayReport(subscription_id, since, until, len(wanted), queued, recipient,
                        complete=len(events) < REPLAY_LIMIT,
                        last_created_at=events[-1]["created_at"] if events else None)


class OutboxEvent(Protocol):
    """What fan-out needs of an outbox row (``dingdan.store.deliveries.OutboxRow`` fits)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def order_number(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def delivery_row(event: Mapping[str, Any], recipient: str, now: datetime) -> dict[str, Any]:
    """A pending webhook row of the worker's delivery log."""
    return {"event_id": event["event_id"], "channel": WEBHOOK, "recipient": recipient,
            "kind": Kind.EVENT.value, "audience": Audience.INTEGRATOR.value,
            "event_type": event["type"], "order_number": event["order_number"],
            "language": "en", "status": PENDING, "attempts": 0, "next_attempt_at": now,
            "payload": event["payload"], "fallback": [], "created_at": now, "updated_at": now}


async def plan_webhook_deliveries(uow: UnitOfWork, events: Sequence[OutboxEvent],
                                  now: datetime) -> list[dict[str, Any]]:
    """The webhook delivery rows for ``events``: one per event and matching active
    subscription, in event order. Call inside the fan-out's unit of work."""
    subs = await WebhookRepo(uow.conn).active()
    rows: list[dict[str, Any]] = []
    for e in events:
        event = {"event_id": e.event_id, "type": e.type, "order_number": e.order_number,
                 "payload": e.payload}
        rows.extend(delivery_row(event, webhook_recipient(s["id"]), now)
                    for s in subs if matches(s["event_types"], e.type))
    return rows


class WebhookTargetLookup:
    """The URL and secret behind a webhook delivery's recipient, read when it is sent.

    Satisfies ``dingdan.adapters.notify.webhook.WebhookTargets``. Each lookup is one short
    read-only transaction, so a changed URL, a rotated secret or a deleted subscription takes
    effect at the next attempt.
    """

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        self.uows = uows

    async def __call__(self, recipient: str) -> WebhookTarget | None:
        subscription_id = subscription_id_of(recipient)
        if subscription_id is None:
            return None
        async with self.uows(read_only=True) as uow:
            row = await WebhookRepo(uow.conn).get(subscription_id)
        if row is None:
            return None
        return WebhookTarget(url=row["url"], secret=row["secret"], active=bool(row["active"]))


async def forget_gone_subscription(recipient: str, uow: UnitOfWork) -> bool:
    """Switch off the subscription behind ``recipient`` (its receiver answered 410 Gone)."""
    subscription_id = subscription_id_of(recipient)
    if subscription_id is None:
        return False
    async with uow:
        repo = WebhookRepo(uow.conn)
        row = await repo.get(subscription_id)
        if row is None or not row["active"]:
            return False
        changed = await repo.update(subscription_id, row["version"],
                                    {"active": False, "updated_at": uow.now()})
        await uow.commit()
    return changed is not None


async def _existing(repo: WebhookRepo, subscription_id: int) -> dict[str, Any]:
    row = await repo.get(subscription_id)
    if row is None:
        raise NotFound({"kind": "webhook subscription", "key": subscription_id})
    return row
