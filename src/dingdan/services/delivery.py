"""The worker's use cases: fan the outbox out into deliveries, claim due deliveries, turn one
into a channel :class:`Message`, and record what the channel answered.

Fan-out and the outbox's ``published_at`` commit together, so an event is fanned out once;
the delivery log's unique (event, recipient, channel) key makes that hold even if two
workers raced. An outcome is recorded in its own short transaction right after the send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dingdan.adapters.notify.port import Message, SendResult
from dingdan.domain import notifications as rules
from dingdan.domain.notifications import (
    CATALOGUE,
    Audience,
    Channel,
    Contact,
    Kind,
    Planned,
    Preferences,
    QuietHours,
)
from dingdan.domain.outbound import excerpt
from dingdan.services.push import push_recipients
from dingdan.services.templates import Renderer, TemplateSource, message_params, render_context
from dingdan.services.webhooks import plan_webhook_deliveries
from dingdan.store.deliveries import DEAD, FAILED_OVER, PENDING, DeliveryRepo, OutboxRow
from dingdan.store.notification_settings import PreferenceRepo, TemplateRepo
from dingdan.store.uow import UnitOfWork

EVENT_TYPE_HEADER = "Dingdan-Event-Type"
ERROR_CHARS = 300  # of a failed delivery's detail kept in the log (``last_error``)

# The events the broker carries: orders', and after-sales cases', refunds' and complaints'.
BROKER_EVENTS = ("order.", "aftersales.", "refund.", "complaint.")


@dataclass(frozen=True)
class DeliveryPolicy:
    """Who hears what and how hard the worker tries; built from settings by the worker."""

    available: frozenset[str]  # the channels configured here
    default_language: str = "zh-CN"
    tz: tzinfo | None = None  # the business time zone (quiet hours default, message times)
    staff: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role -> emails
    tier_rules: Mapping[str, frozenset[Kind]] = field(
        default_factory=lambda: dict(rules.DEFAULT_TIER_RULES))
    nats_subject_prefix: str = "dingdan.events"
    base_url: str = "http://127.0.0.1:8000"
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 6 * 3600.0
    fallback_after_attempts: int = 3
    link_key: bytes | None = None  # signs the customer's links to their page (issue 8)

    @property
    def zone(self) -> tzinfo:
        return self.tz or UTC


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to this worker."""

    id: int
    event_id: str
    channel: str
    recipient: str
    kind: str
    audience: str
    event_type: str
    order_number: str | None
    language: str
    attempts: int
    payload: dict[str, Any]
    fallback: tuple[tuple[str, str], ...]

    @classmethod
    def from_row(cls, r: Mapping[str, Any]) -> Claimed:
        return cls(r["id"], r["event_id"], r["channel"], r["recipient"], r["kind"],
                   r["audience"], r["event_type"], r["order_number"], r["language"],
                   r["attempts"], r["payload"],
                   tuple((str(c), str(a)) for c, a in r["fallback"] or ()))


# -- fan-out ------------------------------------------------------------------------------


async def fan_out(uow: UnitOfWork, policy: DeliveryPolicy, limit: int = 200) -> int:
    """Turn up to ``limit`` unpublished outbox rows into deliveries; returns rows handled."""
    async with uow:
        repo = DeliveryRepo(uow.conn)
        rows = await repo.unpublished(limit)
        if not rows:
            return 0
        now = uow.now()
        prefs = await _preferences(uow, rows)
        push: dict[str, tuple[str, ...]] = {}
        if Channel.WEBPUSH in policy.available:
            for row in rows:
                if row.order_number and row.order_number not in push:
                    push[row.order_number] = tuple(await push_recipients(
                        uow, row.order_number, _customer_keys(row)))
        planned: list[dict[str, Any]] = []
        for row in rows:
            planned += plan_event(row, policy, prefs, push, now)
        if Channel.WEBHOOK in policy.available:
            planned += await plan_webhook_deliveries(uow, rows, now)
        await repo.add(planned)
        await repo.mark_published([r.id for r in rows], now)
        await uow.commit()
        return len(rows)


def plan_event(row: OutboxRow, policy: DeliveryPolicy, prefs: Mapping[str, Preferences],
               push: Mapping[str, tuple[str, ...]], now: datetime) -> list[dict[str, Any]]:
    """The delivery rows of one outbox event for people and the broker (webhooks are
    planned by ``services.webhooks``)."""
    payload = row.payload
    data = payload.get("data") or {}
    order = payload.get("order") or {}
    customer = order.get("customer") or {}
    out: list[Planned] = []
    for kind in rules.kinds_for(row.type, data):
        info = CATALOGUE[kind]
        if info.audience is Audience.CUSTOMER:
            contact = _contact(customer, push.get(row.order_number or "", ()))
            pref = _preference_for(customer, prefs)
            out += rules.plan_customer(kind, contact, pref, available=list(policy.available),
                                       now=now, tz=policy.zone,
                                       default_language=policy.default_language,
                                       tier_rules=policy.tier_rules)
        elif info.audience is Audience.STAFF:
            out += rules.plan_staff(kind, data, policy.staff, available=list(policy.available),
                                    now=now, language=policy.default_language)
    if row.type.startswith(BROKER_EVENTS) and Channel.NATS in policy.available:
        out.append(Planned(Kind.EVENT, Audience.INTEGRATOR, Channel.NATS.value,
                           f"{policy.nats_subject_prefix}.{row.type}", policy.default_language,
                           now))
    return [delivery_row(row, p, now) for p in out]


def _customer_keys(row: OutboxRow) -> list[str]:
    customer = (row.payload.get("order") or {}).get("customer") or {}
    return [k for k in (contact_key(customer.get("email")), contact_key(customer.get("phone")))
            if k]


def delivery_row(row: OutboxRow, p: Planned, now: datetime,
                 fallback_of: int | None = None) -> dict[str, Any]:
    return dict(event_id=row.event_id, channel=p.channel, recipient=p.recipient,
                kind=p.kind.value, audience=p.audience.value, event_type=row.type,
                order_number=row.order_number, language=p.language, status=PENDING,
                attempts=0, next_attempt_at=p.not_before, payload=row.payload,
                fallback=[list(f) for f in p.fallback], fallback_of=fallback_of,
                created_at=now, updated_at=now)


def _contact(customer: Mapping[str, Any], push: tuple[str, ...]) -> Contact:
    addresses: dict[str, tuple[str, ...]] = {}
    if customer.get("email"):
        addresses[Channel.EMAIL] = (str(customer["email"]),)
    if customer.get("phone"):
        addresses[Channel.SMS] = (str(customer["phone"]),)
    if push:
        addresses[Channel.WEBPUSH] = push
    return Contact(addresses, customer.get("name"))


def _preference_for(customer: Mapping[str, Any], prefs: Mapping[str, Preferences],
                    ) -> Preferences:
    for key in (contact_key(customer.get("email")), contact_key(customer.get("phone"))):
        if key and key in prefs:
            return prefs[key]
    return Preferences()


def contact_key(value: object) -> str | None:
    """How preferences are keyed: a lower-case email, or a phone as stored (E.164)."""
    if not value:
        return None
    text = str(value).strip()
    return text.lower() if "@" in text else text


async def _preferences(uow: UnitOfWork, rows: Iterable[OutboxRow]) -> dict[str, Preferences]:
    keys: set[str] = set()
    for row in rows:
        customer = (row.payload.get("order") or {}).get("customer") or {}
        for value in (customer.get("email"), customer.get("phone")):
            key = contact_key(value)
            if key:
                keys.add(key)
    found = await PreferenceRepo(uow.conn).for_contacts(keys)
    return {k: preferences_from_row(v) for k, v in found.items()}


def preferences_from_row(r: Mapping[str, Any]) -> Preferences:
    quiet = None
    if r.get("quiet_hours"):
        try:
            quiet = QuietHours.parse(str(r["quiet_hours"]))
        except ValueError:
            quiet = None
    return Preferences(language=r.get("language"), tier=r.get("tier") or "standard",
                       channels={str(k): tuple(v) for k, v in (r.get("channels") or {}).items()},
                       opt_outs=frozenset(r.get("opt_outs") or ()), quiet_hours=quiet,
                       tz=zone_or_none(r.get("timezone")))


def zone_or_none(name: object) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


# -- claims, messages, outcomes ------------------------------------------------------------


async def claim_due(uow: UnitOfWork, owner: str, lease_seconds: float,
                    limit: int) -> list[Claimed]:
    async with uow:
        now = uow.now()
        rows = await DeliveryRepo(uow.conn).claim(
            owner, now, now + timedelta(seconds=lease_seconds), limit, rules.ORDERED_CHANNELS)
        await uow.commit()
    return [Claimed.from_row(r) for r in rows]


def build_message(c: Claimed, renderer: Renderer, policy: DeliveryPolicy,
                  override: TemplateSource | None = None) -> Message:
    """The channel message for a delivery: the raw event for integrators, a rendered
    template for people."""
    headers = {EVENT_TYPE_HEADER: c.event_type}
    if c.audience == Audience.INTEGRATOR:
        return Message(c.event_id, c.channel, c.recipient, data=dict(c.payload),
                       headers=headers)
    kind = Kind(c.kind)
    if CATALOGUE[kind].urgent:
        headers["Urgency"] = "high"  # web push: deliver now, even to a sleeping device
    ctx = render_context(c.payload, kind=c.kind, audience=c.audience, language=c.language,
                         base_url=policy.base_url, tz=policy.zone, link_key=policy.link_key)
    try:
        rendered = renderer.render(c.kind, c.channel, c.language, ctx, override)
    except Exception:
        if override is None:
            raise
        # An operator's broken template must not stop the message: use the packaged one.
        rendered = renderer.render(c.kind, c.channel, c.language, ctx, None)
    return Message(c.event_id, c.channel, c.recipient, subject=rendered.subject,
                   text=rendered.text, html=rendered.html,
                   data=message_params(c.payload, ctx), headers=headers)


async def record_outcome(uow: UnitOfWork, c: Claimed, result: SendResult, owner: str,
                         policy: DeliveryPolicy, jitter: float) -> str:
    """Write what happened to one delivery; returns its new status.

    Sent is final. A failure falls back to the customer's next channel when there is one and
    the failure is permanent (or has lasted ``fallback_after_attempts`` tries); otherwise it
    is retried after an exponential, jittered delay, and dead after ``max_attempts``.
    """
    async with uow:
        now = uow.now()
        repo = DeliveryRepo(uow.conn)
        if result.ok:
            await repo.mark_sent(c.id, now, result.detail or None, result.response_code)
            await uow.commit()
            return "sent"
        # The log keeps a short printable excerpt, whatever a channel put in the detail: a
        # receiver's body is not ours to store (issue 15).
        error = excerpt(result.detail or "failed", ERROR_CHARS)
        if c.fallback and (result.permanent or c.attempts >= policy.fallback_after_attempts):
            status = FAILED_OVER
            if await repo.mark_failed(c.id, owner, now, status=status, next_attempt_at=None,
                                      error=error, response_code=result.response_code):
                (channel, recipient), *rest = c.fallback
                row = OutboxRow(0, c.event_id, c.event_type, c.order_number, c.payload, now)
                nxt = Planned(Kind(c.kind), Audience(c.audience), channel, recipient,
                              c.language, now, tuple(rest))
                await repo.add([delivery_row(row, nxt, now, fallback_of=c.id)])
        elif result.permanent or c.attempts >= policy.max_attempts:
            status = DEAD
            await repo.mark_failed(c.id, owner, now, status=status, next_attempt_at=None,
                                   error=error, response_code=result.response_code)
        else:
            status = PENDING
            delay = rules.backoff_delay(c.attempts, policy.backoff_base_seconds,
                                        policy.backoff_max_seconds, jitter)
            await repo.mark_failed(c.id, owner, now, status=status, next_attempt_at=now + delay,
                                   error=error, response_code=result.response_code)
        await uow.commit()
        return status


async def template_overrides(uow: UnitOfWork) -> dict[tuple[str, str, str], TemplateSource]:
    async with uow:
        rows = await TemplateRepo(uow.conn).all()
    return {(r["kind"], r["channel"], r["language"]):
            TemplateSource(r["subject"], r["body_text"], r["body_html"]) for r in rows}
