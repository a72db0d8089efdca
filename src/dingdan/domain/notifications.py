"""Who hears what: the notification catalogue, customer preferences, fallback, quiet hours,
tier rules, and the retry schedule. Pure: callers pass preferences, time and randomness.

An outbox event (``order.shipped``) becomes zero or more *kinds* of notification
(``shipped``); each kind has an audience (the customer or a staff role). For a customer,
:func:`plan_customer` picks the channel chain from their preferences (e.g. SMS, else email),
drops what they opted out of or their tier does not receive, and defers a non-urgent message
to the end of their quiet hours. The worker writes one delivery row per plan; a failed first
channel falls back to the next one in the chain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    INTEGRATOR = "integrator"  # webhooks and the broker: the raw event, no template


class Kind(StrEnum):
    # customer events
    ORDER_CONFIRMED = "order_confirmed"
    PAYMENT_RECEIVED = "payment_received"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    ADDRESS_CHANGED = "address_changed"
    DELAYED = "delayed"
    AFTERSALES_UPDATE = "aftersales_update"  # a step of the customer's return or exchange
    REFUNDED = "refunded"  # money went back
    COMPLAINT_REPLY = "complaint_reply"  # staff answered the customer's complaint
    # staff events
    REVIEW_NEEDED = "review_needed"
    SLA_AT_RISK = "sla_at_risk"
    SLA_BREACHED = "sla_breached"
    DEAD_LETTER = "dead_letter"
    COMPLAINT_ESCALATED = "complaint_escalated"  # a complaint missed a deadline
    # integrators: the event itself
    EVENT = "event"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBPUSH = "webpush"
    WEBHOOK = "webhook"
    NATS = "nats"


# Channels on which one order's events must arrive in the order they happened: integrators
# apply them as state changes. People read messages, so theirs are not held back.
ORDERED_CHANNELS: frozenset[str] = frozenset({Channel.WEBHOOK, Channel.NATS})
CUSTOMER_CHANNELS: tuple[Channel, ...] = (Channel.EMAIL, Channel.SMS, Channel.WEBPUSH)


@dataclass(frozen=True, slots=True)
class KindInfo:
    kind: Kind
    audience: Audience
    urgent: bool = False  # sent even in quiet hours
    mandatory: bool = False  # a customer cannot opt out (a security notice)
    role: str | None = None  # staff: who is told
    labels: Mapping[str, str] = field(default_factory=dict)


def _k(kind: Kind, audience: Audience, zh: str, en: str, **kw: Any) -> KindInfo:
    return KindInfo(kind, audience, labels={"zh-CN": zh, "en": en}, **kw)


C, S = Audience.CUSTOMER, Audience.STAFF
CATALOGUE: Mapping[Kind, KindInfo] = {i.kind: i for i in (
    _k(Kind.ORDER_CONFIRMED, C, "订单确认", "Order confirmed"),
    _k(Kind.PAYMENT_RECEIVED, C, "付款成功", "Payment received"),
    _k(Kind.SHIPPED, C, "已发货", "Shipped"),
    _k(Kind.IN_TRANSIT, C, "运输中", "In transit"),
    _k(Kind.OUT_FOR_DELIVERY, C, "派送中", "Out for delivery", urgent=True),
    _k(Kind.DELIVERED, C, "已签收", "Delivered"),
    _k(Kind.CANCELLED, C, "订单取消", "Order cancelled", urgent=True),
    _k(Kind.ADDRESS_CHANGED, C, "地址变更", "Address changed", urgent=True, mandatory=True),
    _k(Kind.DELAYED, C, "订单延误", "Order delayed"),
    _k(Kind.AFTERSALES_UPDATE, C, "售后进度", "Return or exchange update"),
    _k(Kind.REFUNDED, C, "退款到账", "Refund made"),
    _k(Kind.COMPLAINT_REPLY, C, "投诉回复", "Reply to your complaint"),
    _k(Kind.REVIEW_NEEDED, S, "待审核", "Review needed", urgent=True, role="reviewer"),
    _k(Kind.SLA_AT_RISK, S, "时效预警", "SLA at risk", urgent=True),
    _k(Kind.SLA_BREACHED, S, "时效超时", "SLA breached", urgent=True),
    _k(Kind.DEAD_LETTER, S, "消息投递失败", "Dead letters", urgent=True, role="manager"),
    _k(Kind.COMPLAINT_ESCALATED, S, "投诉超时升级", "Complaint escalated", urgent=True,
       role="manager"),
    _k(Kind.EVENT, Audience.INTEGRATOR, "事件", "Event", urgent=True),
)}
CUSTOMER_KINDS: tuple[Kind, ...] = tuple(k for k, i in CATALOGUE.items() if i.audience is C)
STAFF_KINDS: tuple[Kind, ...] = tuple(k for k, i in CATALOGUE.items() if i.audience is S)
TEMPLATED_KINDS: tuple[Kind, ...] = CUSTOMER_KINDS + STAFF_KINDS

# Key milestones every customer hears about; the rest is tracking detail.
KEY_MILESTONES: frozenset[Kind] = frozenset({
    Kind.ORDER_CONFIRMED, Kind.PAYMENT_RECEIVED, Kind.SHIPPED, Kind.DELIVERED,
    Kind.CANCELLED, Kind.ADDRESS_CHANGED, Kind.DELAYED,
    # after-sales: a customer who asked hears every answer (issue 13)
    Kind.AFTERSALES_UPDATE, Kind.REFUNDED, Kind.COMPLAINT_REPLY})

# Tier rules are data: tier -> the kinds its customers receive. Operators replace them from
# settings (``DINGDAN_TIER_RULES``); an unknown tier gets ``standard``.
DEFAULT_TIER_RULES: Mapping[str, frozenset[Kind]] = {
    "standard": KEY_MILESTONES,
    "vip": frozenset(CUSTOMER_KINDS),
}

# Without a stated preference: email first (the default for most), SMS when urgent.
DEFAULT_CHANNELS: tuple[str, ...] = (Channel.EMAIL, Channel.SMS)
DEFAULT_URGENT_CHANNELS: tuple[str, ...] = (Channel.SMS, Channel.EMAIL)

_EVENT_KINDS: Mapping[str, tuple[Kind, ...]] = {
    "order.placed": (Kind.ORDER_CONFIRMED,),
    "order.paid": (Kind.PAYMENT_RECEIVED,),
    "order.submitted_for_review": (Kind.REVIEW_NEEDED,),
    "order.shipped": (Kind.SHIPPED,),
    "order.in_transit": (Kind.IN_TRANSIT,),
    "order.out_for_delivery": (Kind.OUT_FOR_DELIVERY,),
    "order.delivered": (Kind.DELIVERED,),
    "order.cancelled": (Kind.CANCELLED,),
    "order.payment_timed_out": (Kind.CANCELLED,),
    "order.address_changed": (Kind.ADDRESS_CHANGED,),
    "alert.sla_at_risk": (Kind.SLA_AT_RISK,),
    "alert.sla_breached": (Kind.SLA_BREACHED,),
    "staff.dead_letters": (Kind.DEAD_LETTER,),
    # after-sales (issue 13): every step of a case the customer follows
    **{f"aftersales.{e}": (Kind.AFTERSALES_UPDATE,) for e in (
        "requested", "approved", "declined", "cancelled", "received", "inspected",
        "exchanged", "repaired", "closed")},
    "refund.succeeded": (Kind.REFUNDED,),
    "complaint.replied": (Kind.COMPLAINT_REPLY,),
    "complaint.sla_breached": (Kind.COMPLAINT_ESCALATED,),
}
# Stages whose breach the customer notices (their parcel is late), so they are told.
CUSTOMER_VISIBLE_STAGES: frozenset[str] = frozenset({"ship", "deliver"})


def kinds_for(event_type: str, data: Mapping[str, Any]) -> tuple[Kind, ...]:
    """The notifications one outbox event causes (none for most internal steps)."""
    kinds = _EVENT_KINDS.get(event_type, ())
    if event_type == "alert.sla_breached" and data.get("stage") in CUSTOMER_VISIBLE_STAGES:
        kinds = (*kinds, Kind.DELAYED)
    return kinds


def parse_tier_rules(raw: Mapping[str, Sequence[str]] | None) -> Mapping[str, frozenset[Kind]]:
    """Tier rules from configuration; raise ValueError naming an unknown kind."""
    if not raw:
        return DEFAULT_TIER_RULES
    rules: dict[str, frozenset[Kind]] = {}
    for tier, kinds in raw.items():
        unknown = [k for k in kinds if k not in CUSTOMER_KINDS and k != "*"]
        if unknown:
            raise ValueError(f"tier {tier!r}: unknown notification kinds {unknown}")
        rules[tier] = frozenset(CUSTOMER_KINDS) if "*" in kinds else frozenset(
            Kind(k) for k in kinds)
    rules.setdefault("standard", DEFAULT_TIER_RULES["standard"])
    return rules


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window, in the customer's local time, that may wrap midnight (22:00–08:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"22:00-08:00"`` → QuietHours; ValueError on anything else."""
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if not m:
            raise ValueError("quiet hours look like 22:00-08:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        return cls(time(h1, m1), time(h2, m2))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def quiet_until(now: datetime, quiet: QuietHours | None, tz: tzinfo) -> datetime | None:
    """When quiet hours that cover ``now`` end (aware, in ``now``'s zone); None if not quiet."""
    if quiet is None:
        return None
    local = now.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return None
    # Wall-clock arithmetic in the customer's zone: "08:00" stays 08:00 across a DST change.
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end = (local + timedelta(days=1)).replace(hour=quiet.end.hour, minute=quiet.end.minute,
                                                  second=0, microsecond=0)
    return end.astimezone(now.tzinfo)


@dataclass(frozen=True, slots=True)
class Preferences:
    """What one customer asked for. ``channels`` maps a kind (or ``"*"``) to an ordered
    channel list: the first that can reach them is used, the next ones are fallbacks."""

    language: str | None = None
    tier: str = "standard"
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    opt_outs: frozenset[str] = frozenset()  # kinds, or "*" for everything not mandatory
    quiet_hours: QuietHours | None = None
    tz: tzinfo | None = None  # where their quiet hours are; None: the business zone


@dataclass(frozen=True, slots=True)
class Contact:
    """Where a customer can be reached: channel -> addresses (an email, an E.164 phone, the
    push subscriptions of their browsers)."""

    addresses: Mapping[str, tuple[str, ...]]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery to write: the first (channel, recipient) and the fallbacks after it."""

    kind: Kind
    audience: Audience
    channel: str
    recipient: str
    language: str
    not_before: datetime
    fallback: tuple[tuple[str, str], ...] = ()


def channel_chain(kind: Kind, prefs: Preferences) -> tuple[str, ...]:
    chosen = prefs.channels.get(kind.value) or prefs.channels.get("*")
    if chosen:
        return tuple(chosen)
    return DEFAULT_URGENT_CHANNELS if CATALOGUE[kind].urgent else DEFAULT_CHANNELS


def hears(kind: Kind, prefs: Preferences,
          tier_rules: Mapping[str, frozenset[Kind]] = DEFAULT_TIER_RULES) -> bool:
    """Whether this customer receives ``kind`` at all (tier and opt-outs)."""
    info = CATALOGUE[kind]
    if info.mandatory:
        return True
    if kind.value in prefs.opt_outs or "*" in prefs.opt_outs:
        return False
    allowed = tier_rules.get(prefs.tier) or tier_rules.get("standard") or KEY_MILESTONES
    return kind in allowed


def plan_customer(kind: Kind, contact: Contact, prefs: Preferences, *, available: Sequence[str],
                  now: datetime, tz: tzinfo, default_language: str,
                  tier_rules: Mapping[str, frozenset[Kind]] = DEFAULT_TIER_RULES,
                  ) -> list[Planned]:
    """The deliveries a customer event needs: none (opted out, not their tier, unreachable),
    one on the first channel of their chain that can reach them (the rest are its fallbacks),
    one per device on that channel if it is push — and push to every browser that subscribed,
    when their chain does not name push itself (subscribing was asking for it).

    ``available`` are the channels this installation has configured; a channel that is not
    available, or for which the customer has no address, is skipped.
    """
    if not hears(kind, prefs, tier_rules):
        return []
    chain: list[tuple[str, tuple[str, ...]]] = []
    names = channel_chain(kind, prefs)
    for channel in names:
        addresses = tuple(a for a in contact.addresses.get(channel, ()) if a)
        if channel in available and addresses and channel not in (c for c, _ in chain):
            chain.append((channel, addresses))
    not_before = now
    if not CATALOGUE[kind].urgent:
        not_before = quiet_until(now, prefs.quiet_hours, prefs.tz or tz) or now
    language = prefs.language or default_language
    planned: list[Planned] = []
    if chain:
        (channel, recipients), *rest = chain
        fallback = tuple((c, addrs[0]) for c, addrs in rest)
        planned = [Planned(kind, Audience.CUSTOMER, channel, r, language, not_before, fallback)
                   for r in recipients]
    push = contact.addresses.get(Channel.WEBPUSH, ())
    if Channel.WEBPUSH in available and Channel.WEBPUSH not in names:
        planned += [Planned(kind, Audience.CUSTOMER, Channel.WEBPUSH, r, language, not_before)
                    for r in push if r]
    return planned


def plan_staff(kind: Kind, data: Mapping[str, Any], staff: Mapping[str, Sequence[str]], *,
               available: Sequence[str], now: datetime, language: str) -> list[Planned]:
    """Emails to the role responsible (``data["role"]`` for an alert, else the kind's role);
    managers hear about breaches too."""
    if Channel.EMAIL not in available:
        return []
    info = CATALOGUE[kind]
    roles = [str(data.get("role") or info.role or "manager")]
    if kind is Kind.SLA_BREACHED:
        roles.append("manager")
    seen: set[str] = set()
    planned = []
    for role in roles:
        for address in staff.get(role, ()):
            if address not in seen:
                seen.add(address)
                planned.append(Planned(kind, Audience.STAFF, Channel.EMAIL, address, language,
                                       now))
    return planned


def backoff_delay(attempts: int, base_seconds: float, cap_seconds: float,
                  jitter: float) -> timedelta:
    """Delay before the next try after ``attempts`` failures: exponential, capped, with
    "equal jitter" (half fixed, half random) so a crowd of failures does not retry in step.

    ``jitter`` is a random number in [0, 1) from the caller's generator.
    """
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter is a number in [0, 1)")
    exp = min(cap_seconds, base_seconds * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=exp / 2 + jitter * exp / 2)


def mask_recipient(channel: str, recipient: str) -> str:
    """What a person may see of an address on a log page: enough to recognise it."""
    if channel == Channel.EMAIL and "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    if channel == Channel.SMS:
        digits = recipient.strip()
        return digits[:-8] + "****" + digits[-4:] if len(digits) > 8 else "****"
    if channel == Channel.WEBHOOK:  # a subscription id; "12@replay-…" for a replay
        return f"subscription {recipient.partition('@')[0]}"
    if channel == Channel.WEBPUSH:
        return "push subscription"
    return recipient


CARRIER_TRACKING_URLS: Mapping[str, str] = {
    "SF": "https://www.sf-express.com/chn/sc/waybill/waybill-detail/{number}",
    "JD": "https://www.jdl.com/orderSearch/?waybillCodes={number}",
    "EMS": "https://www.ems.com.cn/queryList?mailNum={number}",
}
GENERIC_TRACKING_URL = "https://www.kuaidi100.com/chaxun?nu={number}"


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """A public page where the customer can follow the parcel."""
    if not number:
        return None
    template = CARRIER_TRACKING_URLS.get((carrier or "").upper(), GENERIC_TRACKING_URL)
    return template.format(number=number)
