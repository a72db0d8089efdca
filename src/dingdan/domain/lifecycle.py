"""The order lifecycle: one transition table, as data, and the one function that applies it.

Nothing else in Dingdan assigns an order status. The table is a ``domain.machine.Machine``
(``ORDER``); each row says, for an action taken in a status, the status it leads to, which
guard must hold, what the caller must give (a reason, a carrier…), the timestamps it
stamps, what it does to stock and to the payment and fulfilment facts, and the permission
it needs. The table renders the docs diagram (:func:`mermaid`), the allowed buttons
(:func:`allowed_actions`) and is tested exhaustively (``tests/machine_support.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dingdan.domain import machine
from dingdan.domain.machine import Requirement
from dingdan.domain.machine import StockEffect as StockEffect


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
    # After-sales (issue 13, ``domain/refunds.payment_status``): a part given back; a
    # cancelled paid order that still owes the payment back.
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUND_DUE = "refund_due"


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


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What guards may look at: the facts of an order, nothing loaded lazily."""

    status: Status
    payment_status: PaymentStatus
    payment_method: str | None
    held_from: Status | None = None


Guard = Callable[[OrderFacts], bool]


@dataclass(frozen=True, slots=True)
class Transition(machine.Transition[Status, Action, OrderFacts]):
    """A row of the order's table: the machine's row plus the payment and fulfilment facts
    it sets."""

    payment: PaymentStatus | None = None
    fulfillment: FulfillmentStatus | None = None
    # What the row sets, and stamps, on an unpaid cash-on-delivery order (delivering it is
    # collecting the cash).
    cod_payment: PaymentStatus | None = None
    cod_stamps: tuple[str, ...] = ()


def _cash_on_delivery(o: OrderFacts) -> bool:
    return o.payment_method == "cod"


def _was_held(o: OrderFacts) -> bool:
    return o.held_from is not None


S, A = Status, Action
_BEFORE_SHIPMENT = (S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD, S.APPROVED,
                    S.ALLOCATED, S.PICKING, S.PACKED)
_HOLDABLE = (S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED)
# Cancelling once the warehouse has started needs its own permission.
_LATE = (S.PICKING, S.PACKED)

# The permission each action needs (values of ``domain.permissions.Permission``, which
# imports this module); a row may ask for another (late cancels).
ACTION_PERMISSIONS: dict[Action, str] = {
    A.PAY: "order.pay",
    A.SUBMIT_REVIEW: "order.review", A.APPROVE: "order.review", A.HOLD: "order.review",
    A.RELEASE: "order.review",
    A.CANCEL: "order.cancel", A.TIMEOUT: "order.cancel",
    A.ALLOCATE: "order.fulfil", A.PICK: "order.fulfil", A.PACK: "order.fulfil",
    A.SHIP: "order.fulfil",
    A.IN_TRANSIT: "order.track", A.OUT_FOR_DELIVERY: "order.track", A.DELIVER: "order.track",
    A.COMPLETE: "order.track",
}


def _reason(action: Action) -> Requirement:
    # The reason goes on the timeline (the event's reason), not into a column of its own.
    return Requirement("reason", f"{action.value} needs a reason", record=False)


_PAYMENT_REFERENCE = Requirement("payment_reference", "marking paid needs a payment reference")
_CARRIER = Requirement("carrier", "shipping needs a carrier")
_TRACKING_NUMBER = Requirement("tracking_number", "shipping needs a tracking number")
_CLOSED = "closed_at"  # stamped by every row that ends in a terminal status


def _row(source: Status, action: Action, target: Status | None, *,
         permission: str | None = None, **kw: Any) -> Transition:
    return Transition(source, action, target, permission=permission or ACTION_PERMISSIONS[action],
                      **kw)


TRANSITIONS: tuple[Transition, ...] = (
    _row(S.PENDING_PAYMENT, A.PAY, S.PAID, payment=PaymentStatus.PAID,
         requires=(_PAYMENT_REFERENCE,), stamps=("paid_at",)),
    # Cash on delivery goes to review unpaid; everything else must be paid first.
    _row(S.PENDING_PAYMENT, A.SUBMIT_REVIEW, S.PENDING_REVIEW, guard=_cash_on_delivery,
         guard_reason="only cash-on-delivery orders are reviewed before payment"),
    _row(S.PENDING_PAYMENT, A.TIMEOUT, S.CANCELLED, stock=StockEffect.RELEASE,
         stamps=(_CLOSED,)),
    _row(S.PAID, A.SUBMIT_REVIEW, S.PENDING_REVIEW),
    _row(S.PENDING_REVIEW, A.APPROVE, S.APPROVED),
    *(_row(s, A.HOLD, S.ON_HOLD, requires=(_reason(A.HOLD),)) for s in _HOLDABLE),
    _row(S.ON_HOLD, A.RELEASE, None, guard=_was_held, requires=(_reason(A.RELEASE),),
         guard_reason="the order does not remember where it was held from"),
    *(_row(s, A.CANCEL, S.CANCELLED, stock=StockEffect.RELEASE, requires=(_reason(A.CANCEL),),
           stamps=(_CLOSED,), permission="order.cancel_late" if s in _LATE else None)
      for s in _BEFORE_SHIPMENT),
    _row(S.APPROVED, A.ALLOCATE, S.ALLOCATED),
    _row(S.ALLOCATED, A.PICK, S.PICKING),
    _row(S.PICKING, A.PACK, S.PACKED),
    _row(S.PACKED, A.SHIP, S.SHIPPED, stock=StockEffect.CONSUME,
         fulfillment=FulfillmentStatus.SHIPPED, requires=(_CARRIER, _TRACKING_NUMBER),
         stamps=("shipped_at",)),
    _row(S.SHIPPED, A.IN_TRANSIT, S.IN_TRANSIT),
    _row(S.SHIPPED, A.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY),
    _row(S.IN_TRANSIT, A.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY),
    *(_row(s, A.DELIVER, S.DELIVERED, fulfillment=FulfillmentStatus.DELIVERED,
           stamps=("delivered_at",), cod_payment=PaymentStatus.PAID, cod_stamps=("paid_at",))
      for s in (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY)),
    _row(S.DELIVERED, A.COMPLETE, S.COMPLETED, stamps=(_CLOSED,)),
)

TERMINAL: frozenset[Status] = frozenset({S.COMPLETED, S.CANCELLED})
# Statuses whose order still holds a stock reservation (placed, not yet shipped or cancelled).
RESERVING: frozenset[Status] = frozenset(_BEFORE_SHIPMENT)
# Contact and address may change until the warehouse starts picking.
EDITABLE_ADDRESS: frozenset[Status] = frozenset(
    {S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD, S.APPROVED, S.ALLOCATED})
# The statuses in which each SLA stage's clock runs (``domain.sla.Stage``); an order on hold
# counts in the stage of the status it was held from.
SLA_STAGES: dict[str, frozenset[Status]] = {
    "review": frozenset({S.PAID, S.PENDING_REVIEW}),
    "ship": frozenset({S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED, S.PICKING,
                       S.PACKED}),
    "deliver": frozenset({S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY}),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of applying an action: the new facts and the stock effect to carry out."""

    transition: Transition
    status: Status
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus | None
    held_from: Status | None
    stamps: tuple[str, ...] = ()  # the timestamp columns to set to the time of the action


def find(status: Status, action: Action) -> Transition | None:
    return ORDER.find(status, action)


def apply(facts: OrderFacts, action: Action) -> Outcome:
    """Apply ``action`` to an order; raise :class:`IllegalTransition` if it is not allowed."""
    t, target = ORDER.step(facts.status, action, facts)
    held_from = facts.status if target is S.ON_HOLD else None
    cod = (t.cod_payment is not None and facts.payment_method == "cod"
           and facts.payment_status is PaymentStatus.UNPAID)
    payment = t.payment or (t.cod_payment if cod else None) or facts.payment_status
    if target is S.CANCELLED and payment is PaymentStatus.PAID:
        payment = PaymentStatus.REFUND_DUE  # a cancelled paid order owes the money back
    return Outcome(t, target, payment, t.fulfillment, held_from,
                   t.stamps + (t.cod_stamps if cod else ()))


def allowed_actions(facts: OrderFacts) -> list[Action]:
    """The actions that may be taken now, in table order (what a page offers as buttons)."""
    return ORDER.allowed_actions(facts.status, facts)


def requirements(status: Status, action: Action) -> tuple[Requirement, ...]:
    """What the caller must give to take ``action`` (see :meth:`Machine.requirements`)."""
    return ORDER.requirements(status, action)


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


ORDER: machine.Machine[Status, Action, OrderFacts, Transition] = machine.Machine(
    name="order", statuses=Status, actions=Action, transitions=TRANSITIONS,
    status_labels=LABELS, action_labels=ACTION_LABELS, terminal=TERMINAL,
    back=lambda facts: facts.held_from, back_node="held_from", stages=SLA_STAGES)


def label(status: Status, lang: str) -> str:
    return ORDER.status_label(status, lang)


def mermaid() -> str:
    """The table as a Mermaid state diagram, for ``docs/lifecycle.md``."""
    return ORDER.mermaid()
