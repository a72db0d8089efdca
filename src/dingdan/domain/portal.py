"""The customer's own page: who may open it, and what it says about the order. Pure.

- **Signed links.** Every link Dingdan sends to a customer carries a token bound to the order
  number, a purpose and an expiry: ``<expiry, hex seconds>.<HMAC-SHA256, base64url>``. The
  first key signs; every key of the list verifies, so a secret can be rotated by putting the
  new key first and dropping the old one once its links have expired.
- **Proof without a link**: the last four digits of the order's phone (the customer's or the
  recipient's), compared in constant time.
- **Stages.** The customer sees fewer, plainer steps than the back office: the lifecycle's
  statuses grouped into stages (``STAGES``), each reached at the first time the order entered
  one of its statuses, and a sentence for what happens next.

Callers pass keys and time in; nothing here reads a clock, a setting or the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import EDITABLE_ADDRESS, Action, Status

TRACK = "track"  # the purpose of the links in customer messages
LINK_LIFETIME = timedelta(days=400)  # after-sales: a year of warranty and then some
_TOKEN = re.compile(r"^[0-9a-f]{1,12}\.[A-Za-z0-9_-]{43}$")


def _mac(key: bytes, purpose: str, number: str, expires: int) -> str:
    digest = hmac.new(key, f"{purpose}|{number}|{expires:x}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_link(key: bytes, number: str, expires_at: datetime, purpose: str = TRACK) -> str:
    """The token of a link to ``number``'s page, valid until ``expires_at``."""
    expires = int(expires_at.timestamp())
    return f"{expires:x}.{_mac(key, purpose, number, expires)}"


def link_expiry(sent_at: datetime) -> datetime:
    """When a link sent at ``sent_at`` stops opening the page."""
    return sent_at + LINK_LIFETIME


def verify_link(keys: Sequence[bytes], number: str, token: str | None, now: datetime,
                purpose: str = TRACK) -> bool:
    """Whether ``token`` opens ``number``'s page at ``now`` (any key of ``keys``; every key is
    tried, so the time taken does not depend on which one matched)."""
    if not token or not _TOKEN.match(token):
        return False
    hex_expiry, _, mac = token.partition(".")
    expires = int(hex_expiry, 16)
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(mac, _mac(key, purpose, number, expires))
    return matched and now.timestamp() < expires


def last_four_matches(phones: Iterable[str | None], given: str) -> bool:
    """Whether ``given`` is the last four digits of one of the order's phones. Each phone is
    compared, in constant time, whatever the first comparison said."""
    given = given.strip()
    if not re.fullmatch(r"\d{4}", given):
        given = "----"  # compare anyway: a malformed answer takes as long as a wrong one
    found = False
    for phone in phones:
        digits = re.sub(r"\D", "", phone or "")
        tail = digits[-4:] if len(digits) >= 4 else "????"
        found |= hmac.compare_digest(tail, given)
    return found


# --- what the page says ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StageDef:
    key: str
    statuses: frozenset[Status]
    labels: Mapping[str, str]  # language -> label


S = Status
STAGES: tuple[StageDef, ...] = (
    StageDef("placed", frozenset({S.PENDING_PAYMENT}), {"zh-CN": "已下单", "en": "Order placed"}),
    StageDef("paid", frozenset({S.PAID, S.PENDING_REVIEW}), {"zh-CN": "已付款", "en": "Paid"}),
    StageDef("confirmed", frozenset({S.APPROVED, S.ALLOCATED}),
             {"zh-CN": "已确认", "en": "Confirmed"}),
    StageDef("preparing", frozenset({S.PICKING, S.PACKED}),
             {"zh-CN": "仓库备货", "en": "Being prepared"}),
    StageDef("shipped", frozenset({S.SHIPPED, S.IN_TRANSIT}), {"zh-CN": "已发货", "en": "Shipped"}),
    StageDef("out_for_delivery", frozenset({S.OUT_FOR_DELIVERY}),
             {"zh-CN": "派送中", "en": "Out for delivery"}),
    StageDef("delivered", frozenset({S.DELIVERED, S.COMPLETED}),
             {"zh-CN": "已签收", "en": "Delivered"}),
)
_STAGE_OF: dict[Status, int] = {s: i for i, st in enumerate(STAGES) for s in st.statuses}


@dataclass(frozen=True, slots=True)
class StageView:
    key: str
    state: str  # done, current, todo, skipped, stopped (cancelled here), held (on hold here)
    at: datetime | None


def stages(status: Status, held_from: Status | None, placed_at: datetime,
           reached: Mapping[Status, datetime]) -> list[StageView]:
    """Each stage with the first time the order reached it (``reached``: status -> first time
    the timeline shows the order entering it); the current one marked."""
    first: dict[int, datetime] = {0: placed_at}
    for st, at in reached.items():
        i = _STAGE_OF.get(st)
        if i is not None and (i not in first or at < first[i]):
            first[i] = at
    here = "current"
    if status is S.ON_HOLD:
        current, here = _STAGE_OF.get(held_from or S.PAID, 1), "held"
    elif status is S.CANCELLED:  # where it stopped: the furthest stage it reached
        current, here = max(first), "stopped"
    else:
        current = _STAGE_OF[status]
    out = []
    for i, stage in enumerate(STAGES):
        if i < current:
            state = "done" if i in first else "skipped"
        elif i == current:
            state = "done" if status is S.COMPLETED else here
        else:
            state = "todo"
        out.append(StageView(stage.key, state, first.get(i)))
    return out


def stage_label(key: str, lang: str) -> str:
    st = next(s for s in STAGES if s.key == key)
    return st.labels.get(lang, st.labels["en"])


def next_step(status: Status, payment_method: str | None) -> str:
    """A key of the sentence saying what happens next (the page's words are in web/)."""
    if status is S.PENDING_PAYMENT:
        return "cod_review" if payment_method == "cod" else "awaiting_payment"
    return {
        S.PAID: "review", S.PENDING_REVIEW: "review", S.ON_HOLD: "on_hold",
        S.APPROVED: "to_warehouse", S.ALLOCATED: "to_warehouse", S.PICKING: "packing",
        S.PACKED: "handover", S.SHIPPED: "in_transit", S.IN_TRANSIT: "in_transit",
        S.OUT_FOR_DELIVERY: "out_for_delivery", S.DELIVERED: "delivered",
        S.COMPLETED: "completed", S.CANCELLED: "cancelled",
    }[status]


def address_changeable(status: Status) -> bool:
    """The customer may change the delivery address while the back office may: before the
    warehouse starts picking (``lifecycle.EDITABLE_ADDRESS``)."""
    return status in EDITABLE_ADDRESS


def cancellable(status: Status) -> bool:
    """The customer may cancel where the table lets customer service cancel with the plain
    ``order.cancel`` permission: before the warehouse starts (later needs a person)."""
    row = lifecycle.find(status, Action.CANCEL)
    return row is not None and row.permission == "order.cancel"


RATEABLE: frozenset[Status] = frozenset({Status.DELIVERED, Status.COMPLETED})
SCORES = range(1, 6)
COMMENT_MAX = 1000


def rateable(status: Status) -> bool:
    """The customer rates the delivery and the service once it is delivered."""
    return status in RATEABLE


# The event types the customer sees on their page's history (the rest is back-office work).
CUSTOMER_EVENTS: frozenset[str] = frozenset({
    "order.placed", "order.paid", "order.approved", "order.picking_started", "order.packed",
    "order.shipped", "order.in_transit", "order.out_for_delivery", "order.delivered",
    "order.completed", "order.cancelled", "order.payment_timed_out", "order.address_changed",
    "order.held", "order.released", "order.rated"})
