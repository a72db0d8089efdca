"""After-sales cases (returns, exchanges, refunds, claims): their lifecycle as a transition
table on the shared machine, who may ask for what (eligibility as data), and what a case
gives back. Pure: callers pass the order's lines, what earlier cases took, the rules and the
time.

    requested ──approve──▶ approved ──send_back──▶ awaiting_return ──receive──▶ received
        │                     │ refund (no return needed)                          │ inspect
        │ decline/cancel      ▼                                                    ▼
        ▼                  refunded ◀──────────────refund─────────────────── inspected
    declined / cancelled      │ close               exchanged / repaired ◀──┘   │ decline
                              ▼                                                 ▼
                           closed                                            declined

A case's money moves through :mod:`dingdan.domain.refunds`; its goods come back into the
stock ledger at inspection (good → restocked, damaged → quarantined, not sellable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dingdan.domain import machine
from dingdan.domain.errors import ErrorCollector
from dingdan.domain.machine import Requirement


class CaseType(StrEnum):
    RETURN_REFUND = "return_refund"  # 退货退款: goods come back, money goes back
    EXCHANGE = "exchange"  # 换货: goods come back, a replacement goes out
    REFUND_ONLY = "refund_only"  # 仅退款: money back, nothing sent back
    CLAIM = "claim"  # 缺件/错发/破损: missing, wrong or damaged on arrival


class Reason(StrEnum):
    CHANGED_MIND = "changed_mind"
    WRONG_SIZE = "wrong_size"
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    MISSING_ITEM = "missing_item"
    OTHER = "other"


REASON_LABELS: Mapping[Reason, Mapping[str, str]] = {
    Reason.CHANGED_MIND: {"zh-CN": "七天无理由", "en": "Changed my mind"},
    Reason.WRONG_SIZE: {"zh-CN": "尺码不合适", "en": "Wrong size"},
    Reason.DEFECTIVE: {"zh-CN": "质量问题", "en": "Defective"},
    Reason.NOT_AS_DESCRIBED: {"zh-CN": "与描述不符", "en": "Not as described"},
    Reason.DAMAGED: {"zh-CN": "商品破损", "en": "Arrived damaged"},
    Reason.WRONG_ITEM: {"zh-CN": "发错商品", "en": "Wrong item sent"},
    Reason.MISSING_ITEM: {"zh-CN": "少件漏发", "en": "Item missing"},
    Reason.OTHER: {"zh-CN": "其他", "en": "Other"},
}
TYPE_LABELS: Mapping[CaseType, Mapping[str, str]] = {
    CaseType.RETURN_REFUND: {"zh-CN": "退货退款", "en": "Return for refund"},
    CaseType.EXCHANGE: {"zh-CN": "换货", "en": "Exchange"},
    CaseType.REFUND_ONLY: {"zh-CN": "仅退款", "en": "Refund only"},
    CaseType.CLAIM: {"zh-CN": "缺件/错发/破损", "en": "Missing, wrong or damaged"},
}
# A claim is about what arrived, so it names what was wrong with it.
CLAIM_REASONS: frozenset[Reason] = frozenset({Reason.DAMAGED, Reason.WRONG_ITEM,
                                              Reason.MISSING_ITEM})


class CaseStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    AWAITING_RETURN = "awaiting_return"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REPAIRED = "repaired"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class CaseAction(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    CANCEL = "cancel"
    SEND_BACK = "send_back"  # the customer sent the goods back: a return waybill
    RECEIVE = "receive"  # the warehouse has the parcel
    INSPECT = "inspect"  # each line judged good (restocked) or damaged (quarantined)
    REFUND = "refund"  # the refund went through
    EXCHANGE = "exchange"
    REPAIR = "repair"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class CaseFacts:
    status: CaseStatus
    type: CaseType


# Permission values (``domain.permissions.Permission`` imports this module).
HANDLE = "aftersales.handle"  # customer service: approve, decline, cancel, close
RECEIVE = "aftersales.receive"  # warehouse: receive and inspect returned goods
REFUND = "order.refund"  # finance: money back

_NEEDS_RETURN = frozenset({CaseType.RETURN_REFUND, CaseType.EXCHANGE})


def _needs_return(c: CaseFacts) -> bool:
    return c.type in _NEEDS_RETURN


def _refund_without_return(c: CaseFacts) -> bool:
    return c.type not in _NEEDS_RETURN


def _refund_after_return(c: CaseFacts) -> bool:
    return c.type is CaseType.RETURN_REFUND


def _is_exchange(c: CaseFacts) -> bool:
    return c.type is CaseType.EXCHANGE


def _reason(what: str) -> Requirement:
    return Requirement("reason", f"{what} needs a reason", record=False)


_WAYBILL = Requirement("return_waybill", "sending back needs the return waybill number")
_CLOSED = "closed_at"
Cs, Ca = CaseStatus, CaseAction


@dataclass(frozen=True, slots=True)
class Row(machine.Transition[CaseStatus, CaseAction, CaseFacts]):
    """A row of the case table."""



TRANSITIONS: tuple[Row, ...] = (
    Row(Cs.REQUESTED, Ca.APPROVE, Cs.APPROVED, permission=HANDLE, stamps=("approved_at",)),
    Row(Cs.REQUESTED, Ca.DECLINE, Cs.DECLINED, permission=HANDLE,
        requires=(_reason("declining"),), stamps=(_CLOSED,)),
    *(Row(s, Ca.CANCEL, Cs.CANCELLED, permission=HANDLE, requires=(_reason("cancelling"),),
          stamps=(_CLOSED,))
      for s in (Cs.REQUESTED, Cs.APPROVED, Cs.AWAITING_RETURN)),
    Row(Cs.APPROVED, Ca.SEND_BACK, Cs.AWAITING_RETURN, permission=HANDLE, guard=_needs_return,
        guard_reason="only returns and exchanges send goods back", requires=(_WAYBILL,)),
    Row(Cs.APPROVED, Ca.REFUND, Cs.REFUNDED, permission=REFUND, guard=_refund_without_return,
        guard_reason="a return is refunded after its goods are inspected",
        stamps=("refunded_at",)),
    Row(Cs.AWAITING_RETURN, Ca.RECEIVE, Cs.RECEIVED, permission=RECEIVE,
        stamps=("received_at",)),
    Row(Cs.RECEIVED, Ca.INSPECT, Cs.INSPECTED, permission=RECEIVE, stamps=("inspected_at",)),
    Row(Cs.INSPECTED, Ca.REFUND, Cs.REFUNDED, permission=REFUND, guard=_refund_after_return,
        guard_reason="only a return for refund is refunded", stamps=("refunded_at",)),
    Row(Cs.INSPECTED, Ca.EXCHANGE, Cs.EXCHANGED, permission=HANDLE, guard=_is_exchange,
        guard_reason="only an exchange is exchanged"),
    Row(Cs.INSPECTED, Ca.REPAIR, Cs.REPAIRED, permission=HANDLE, guard=_is_exchange,
        guard_reason="only an exchange may be repaired instead"),
    Row(Cs.INSPECTED, Ca.DECLINE, Cs.DECLINED, permission=HANDLE,
        requires=(_reason("declining"),), stamps=(_CLOSED,)),
    *(Row(s, Ca.CLOSE, Cs.CLOSED, permission=HANDLE, stamps=(_CLOSED,))
      for s in (Cs.REFUNDED, Cs.EXCHANGED, Cs.REPAIRED)),
)

STATUS_LABELS: Mapping[CaseStatus, Mapping[str, str]] = {
    Cs.REQUESTED: {"zh-CN": "待处理", "en": "Requested"},
    Cs.APPROVED: {"zh-CN": "已同意", "en": "Approved"},
    Cs.DECLINED: {"zh-CN": "已拒绝", "en": "Declined"},
    Cs.AWAITING_RETURN: {"zh-CN": "待收退货", "en": "Awaiting return"},
    Cs.RECEIVED: {"zh-CN": "已收货", "en": "Received"},
    Cs.INSPECTED: {"zh-CN": "已质检", "en": "Inspected"},
    Cs.REFUNDED: {"zh-CN": "已退款", "en": "Refunded"},
    Cs.EXCHANGED: {"zh-CN": "已换货", "en": "Exchanged"},
    Cs.REPAIRED: {"zh-CN": "已维修", "en": "Repaired"},
    Cs.CLOSED: {"zh-CN": "已关闭", "en": "Closed"},
    Cs.CANCELLED: {"zh-CN": "已撤销", "en": "Cancelled"},
}
ACTION_LABELS: Mapping[CaseAction, Mapping[str, str]] = {
    Ca.APPROVE: {"zh-CN": "同意", "en": "Approve"},
    Ca.DECLINE: {"zh-CN": "拒绝", "en": "Decline"},
    Ca.CANCEL: {"zh-CN": "撤销", "en": "Cancel"},
    Ca.SEND_BACK: {"zh-CN": "填写退货单号", "en": "Goods sent back"},
    Ca.RECEIVE: {"zh-CN": "确认收货", "en": "Receive"},
    Ca.INSPECT: {"zh-CN": "质检", "en": "Inspect"},
    Ca.REFUND: {"zh-CN": "退款", "en": "Refund"},
    Ca.EXCHANGE: {"zh-CN": "换货", "en": "Exchange"},
    Ca.REPAIR: {"zh-CN": "维修", "en": "Repair"},
    Ca.CLOSE: {"zh-CN": "关闭", "en": "Close"},
}
TERMINAL: frozenset[CaseStatus] = frozenset({Cs.CLOSED, Cs.DECLINED, Cs.CANCELLED})
# Cases that still hold their lines: a second case cannot ask for the same goods again.
HOLDING: frozenset[CaseStatus] = frozenset(CaseStatus) - {Cs.DECLINED, Cs.CANCELLED}

CASE: machine.Machine[CaseStatus, CaseAction, CaseFacts, Row] = machine.Machine(
    name="after-sales case", statuses=CaseStatus, actions=CaseAction, transitions=TRANSITIONS,
    status_labels=STATUS_LABELS, action_labels=ACTION_LABELS, terminal=TERMINAL)


def step(facts: CaseFacts, action: CaseAction) -> tuple[Row, CaseStatus]:
    """The row and the status ``action`` leads to; :class:`IllegalTransition` otherwise."""
    return CASE.step(facts.status, action, facts)


def mermaid() -> str:
    return CASE.mermaid()


# --- eligibility ------------------------------------------------------------------------------

# 七日无理由退货 (Consumer Rights Protection Law, art. 25): seven days from receipt, unless a
# rule says otherwise for a product or a family of products.
DEFAULT_WINDOW_DAYS = 7


@dataclass(frozen=True, slots=True)
class ReturnRule:
    """A rule for every SKU starting with ``sku_prefix`` (a product, or a family of products
    named alike: ``FOOD-``); the longest matching prefix wins."""

    sku_prefix: str
    window_days: int
    returnable: bool = True


def rule_for(sku: str, rules: Iterable[ReturnRule]) -> ReturnRule:
    best: ReturnRule | None = None
    for r in rules:
        if sku.startswith(r.sku_prefix) and (best is None
                                             or len(r.sku_prefix) > len(best.sku_prefix)):
            best = r
    return best or ReturnRule("", DEFAULT_WINDOW_DAYS)


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_no: int
    sku: str
    quantity: int  # delivered
    unit_price: int


@dataclass(frozen=True, slots=True)
class Requested:
    line_no: int
    quantity: int


def check_request(case_type: CaseType, reason: Reason, wanted: Sequence[Requested],
                  lines: Sequence[OrderLine], taken: Mapping[int, int],
                  delivered_at: datetime | None, now: datetime,
                  rules: Iterable[ReturnRule]) -> None:
    """Refuse (``ValidationFailed``, every bad line named) a case the order does not allow.

    ``taken``: per order line, the quantity earlier cases still hold. A claim (damaged, wrong,
    missing) is about the delivery itself, so it ignores "not returnable"; every case must
    come within the line's window from delivery.
    """
    errors = ErrorCollector()
    rules = tuple(rules)
    if delivered_at is None:
        errors.add("order", "not_delivered", "after-sales cases start once the order is "
                                             "delivered (a cancelled paid order is refunded)")
        errors.raise_if_any()
        return
    if case_type is CaseType.CLAIM and reason not in CLAIM_REASONS:
        errors.add("reason", "reason_not_for_type",
                   "a claim is for damaged, wrong or missing items")
    if not wanted:
        errors.add("lines", "required", "name at least one line")
    by_no = {ln.line_no: ln for ln in lines}
    seen: set[int] = set()
    for i, w in enumerate(wanted):
        loc = f"lines.{i}"
        line = by_no.get(w.line_no)
        if line is None:
            errors.add(f"{loc}.line_no", "no_such_line", f"the order has no line {w.line_no}")
            continue
        if w.line_no in seen:
            errors.add(f"{loc}.line_no", "duplicate_line", "each line once")
            continue
        seen.add(w.line_no)
        if w.quantity < 1:
            errors.add(f"{loc}.quantity", "too_small", "at least 1")
            continue
        left = line.quantity - taken.get(w.line_no, 0)
        if w.quantity > left:
            errors.add(f"{loc}.quantity", "exceeds_delivered",
                       f"{left} of line {w.line_no} may still be returned")
        rule = rule_for(line.sku, rules)
        if case_type is not CaseType.CLAIM and not rule.returnable:
            errors.add(f"{loc}.line_no", "not_returnable", f"{line.sku} cannot be returned")
        elif now > delivered_at + timedelta(days=rule.window_days):
            errors.add(f"{loc}.line_no", "outside_window",
                       f"{line.sku} could be returned for {rule.window_days} days "
                       "after delivery")
    errors.raise_if_any()


def refund_due(case_type: CaseType, wanted: Sequence[Requested], lines: Sequence[OrderLine],
               shipping_fee: int, include_shipping: bool) -> int:
    """What a case gives back: the lines' price, and the shipping fee when the seller was at
    fault and says so (``include_shipping``). An exchange gives back no money."""
    if case_type is CaseType.EXCHANGE:
        return 0
    by_no = {ln.line_no: ln for ln in lines}
    goods = sum(by_no[w.line_no].unit_price * w.quantity for w in wanted)
    return goods + (shipping_fee if include_shipping else 0)


class Condition(StrEnum):
    """What inspection found, per returned line."""

    GOOD = "good"  # back on the shelf: restocked into the ledger
    DAMAGED = "damaged"  # quarantined: counted nowhere sellable


def event_type(action: CaseAction) -> str:
    """The outbox event of a case action (past tense)."""
    return _EVENTS[action]


_EVENTS: Mapping[CaseAction, str] = {
    Ca.APPROVE: "aftersales.approved", Ca.DECLINE: "aftersales.declined",
    Ca.CANCEL: "aftersales.cancelled", Ca.SEND_BACK: "aftersales.sent_back",
    Ca.RECEIVE: "aftersales.received", Ca.INSPECT: "aftersales.inspected",
    Ca.REFUND: "aftersales.refunded", Ca.EXCHANGE: "aftersales.exchanged",
    Ca.REPAIR: "aftersales.repaired", Ca.CLOSE: "aftersales.closed",
}
REQUESTED_EVENT = "aftersales.requested"


def label(labels: Mapping[Any, Mapping[str, str]], key: Any, lang: str) -> str:
    one = labels[key]
    return one.get(lang, one["en"])
