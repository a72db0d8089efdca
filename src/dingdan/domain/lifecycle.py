"""The order lifecycle: one transition table, as data, and the one function that applies it.

Nothing else in Dingdan assigns an order status. Each row says, for an action taken in a
status, the status it leads to, what it does to stock and to the payment and fulfilment
facts, and which guard must hold. The table renders the docs diagram (:func:`mermaid`), the
allowed buttons (:func:`allowed_actions`) and is tested exhaustively.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dingdan.domain.errors import IllegalTransition


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PENDING_REVIEW = "pending_review"
    ON_HOLD = "on_hold"
    APPROVED = "approved"
    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    REFUNDED = "refunded"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


class Action(StrEnum):
    PAY = "pay"
    SUBMIT_REVIEW = "submit_review"
    APPROVE = "approve"
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"
    TIMEOUT = "timeout"
    ALLOCATE = "allocate"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVER = "deliver"
    COMPLETE = "complete"


class StockEffect(StrEnum):
    NONE = "none"
    RELEASE = "release"  # give the reservation back: reserved -= qty
    CONSUME = "consume"  # goods leave: on_hand -= qty, reserved -= qty


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What guards may look at: the facts of an order, nothing loaded lazily."""

    status: Status
    payment_status: PaymentStatus
    payment_method: str | None
    held_from: Status | None = None


Guard = Callable[[OrderFacts], bool]


@dataclass(frozen=True, slots=True)
class Transition:
    source: Status
    action: Action
    target: Status | None  # None: back to the status the order was held from
    stock: StockEffect = StockEffect.NONE
    payment: PaymentStatus | None = None
    fulfillment: FulfillmentStatus | None = None
    guard: Guard | None = None
    guard_reason: str = ""


def _cash_on_delivery(o: OrderFacts) -> bool:
    return o.payment_method == "cod"


def _was_held(o: OrderFacts) -> bool:
    return o.held_from is not None


S, A = Status, Action
_BEFORE_SHIPMENT = (S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD, S.APPROVED,
                    S.ALLOCATED, S.PICKING, S.PACKED)
_HOLDABLE = (S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.PENDING_PAYMENT, A.PAY, S.PAID, payment=PaymentStatus.PAID),
    # Cash on delivery goes to review unpaid; everything else must be paid first.
    Transition(S.PENDING_PAYMENT, A.SUBMIT_REVIEW, S.PENDING_REVIEW, guard=_cash_on_delivery,
               guard_reason="only cash-on-delivery orders are reviewed before payment"),
    Transition(S.PENDING_PAYMENT, A.TIMEOUT, S.CANCELLED, stock=StockEffect.RELEASE),
    Transition(S.PAID, A.SUBMIT_REVIEW, S.PENDING_REVIEW),
    Transition(S.PENDING_REVIEW, A.APPROVE, S.APPROVED),
    *(Transition(s, A.HOLD, S.ON_HOLD) for s in _HOLDABLE),
    Transition(S.ON_HOLD, A.RELEASE, None, guard=_was_held,
               guard_reason="the order does not remember where it was held from"),
    *(Transition(s, A.CANCEL, S.CANCELLED, stock=StockEffect.RELEASE) for s in _BEFORE_SHIPMENT),
    Transition(S.APPROVED, A.ALLOCATE, S.ALLOCATED),
    Transition(S.ALLOCATED, A.PICK, S.PICKING),
    Transition(S.PICKING, A.PACK, S.PACKED),
    Transition(S.PACKED, A.SHIP, S.SHIPPED, stock=StockEffect.CONSUME,
               fulfillment=FulfillmentStatus.SHIPPED),
    Transition(S.SHIPPED, A.IN_TRANSIT, S.IN_TRANSIT),
    Transition(S.SHIPPED, A.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY),
    Transition(S.IN_TRANSIT, A.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY),
    *(Transition(s, A.DELIVER, S.DELIVERED, fulfillment=FulfillmentStatus.DELIVERED)
      for s in (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY)),
    Transition(S.DELIVERED, A.COMPLETE, S.COMPLETED),
)

_TABLE: dict[tuple[Status, Action], Transition] = {(t.source, t.action): t for t in TRANSITIONS}
assert len(_TABLE) == len(TRANSITIONS), "duplicate (status, action) row in TRANSITIONS"

TERMINAL: frozenset[Status] = frozenset({S.COMPLETED, S.CANCELLED})
# Statuses whose order still holds a stock reservation (placed, not yet shipped or cancelled).
RESERVING: frozenset[Status] = frozenset(_BEFORE_SHIPMENT)
# Contact and address may change until the warehouse starts picking.
EDITABLE_ADDRESS: frozenset[Status] = frozenset(
    {S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD, S.APPROVED, S.ALLOCATED})


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of applying an action: the new facts and the stock effect to carry out."""

    transition: Transition
    status: Status
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus | None
    held_from: Status | None


def find(status: Status, action: Action) -> Transition | None:
    return _TABLE.get((status, action))


def apply(facts: OrderFacts, action: Action) -> Outcome:
    """Apply ``action`` to an order; raise :class:`IllegalTransition` if it is not allowed."""
    t = _TABLE.get((facts.status, action))
    if t is None:
        raise IllegalTransition({"action": action.value, "status": facts.status.value})
    if t.guard is not None and not t.guard(facts):
        raise IllegalTransition({"action": action.value, "status": facts.status.value,
                                 "reason": t.guard_reason})
    if t.target is None:
        assert facts.held_from is not None  # guaranteed by the guard
        target = facts.held_from
    else:
        target = t.target
    held_from = facts.status if target is S.ON_HOLD else None
    return Outcome(t, target, t.payment or facts.payment_status, t.fulfillment, held_from)


def allowed_actions(facts: OrderFacts) -> list[Action]:
    """The actions that may be taken now, in table order (what a page offers as buttons)."""
    return [t.action for t in TRANSITIONS
            if t.source is facts.status and (t.guard is None or t.guard(facts))]


LABELS: dict[Status, dict[str, str]] = {
    S.PENDING_PAYMENT: {"zh-CN": "待付款", "en": "Pending payment"},
    S.PAID: {"zh-CN": "已付款", "en": "Paid"},
    S.PENDING_REVIEW: {"zh-CN": "待审核", "en": "Pending review"},
    S.APPROVED: {"zh-CN": "已审核", "en": "Approved"},
    S.ALLOCATED: {"zh-CN": "已锁库", "en": "Allocated"},
    S.PICKING: {"zh-CN": "拣货中", "en": "Picking"},
    S.PACKED: {"zh-CN": "已打包", "en": "Packed"},
    S.SHIPPED: {"zh-CN": "已发货", "en": "Shipped"},
    S.IN_TRANSIT: {"zh-CN": "运输中", "en": "In transit"},
    S.OUT_FOR_DELIVERY: {"zh-CN": "派送中", "en": "Out for delivery"},
    S.DELIVERED: {"zh-CN": "已签收", "en": "Delivered"},
    S.COMPLETED: {"zh-CN": "已完成", "en": "Completed"},
    S.CANCELLED: {"zh-CN": "已取消", "en": "Cancelled"},
    S.ON_HOLD: {"zh-CN": "挂起", "en": "On hold"},
}

ACTION_LABELS: dict[Action, dict[str, str]] = {
    A.PAY: {"zh-CN": "确认付款", "en": "Mark paid"},
    A.SUBMIT_REVIEW: {"zh-CN": "提交审核", "en": "Submit for review"},
    A.APPROVE: {"zh-CN": "审核通过", "en": "Approve"},
    A.HOLD: {"zh-CN": "挂起", "en": "Hold"},
    A.RELEASE: {"zh-CN": "解除挂起", "en": "Release"},
    A.CANCEL: {"zh-CN": "取消订单", "en": "Cancel"},
    A.TIMEOUT: {"zh-CN": "超时取消", "en": "Payment timeout"},
    A.ALLOCATE: {"zh-CN": "锁定库存", "en": "Allocate"},
    A.PICK: {"zh-CN": "开始拣货", "en": "Start picking"},
    A.PACK: {"zh-CN": "打包完成", "en": "Packed"},
    A.SHIP: {"zh-CN": "发货", "en": "Ship"},
    A.IN_TRANSIT: {"zh-CN": "运输中", "en": "In transit"},
    A.OUT_FOR_DELIVERY: {"zh-CN": "派送中", "en": "Out for delivery"},
    A.DELIVER: {"zh-CN": "确认签收", "en": "Delivered"},
    A.COMPLETE: {"zh-CN": "完成", "en": "Complete"},
}


def label(status: Status, lang: str) -> str:
    return LABELS[status].get(lang, LABELS[status]["en"])


def mermaid() -> str:
    """The table as a Mermaid state diagram, for ``docs/lifecycle.md``."""
    lines = ["stateDiagram-v2"]
    for t in TRANSITIONS:
        target = "held_from" if t.target is None else t.target.value
        lines.append(f"    {t.source.value} --> {target}: {t.action.value}")
    return "\n".join(lines)
