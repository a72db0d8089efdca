"""Refunds: money given back against an order's payment, their small lifecycle, and the
order's payment status that follows from them. Pure: callers pass amounts.

A refund is asked of a payment gateway (Alipay) or recorded by a person who paid it back by
bank transfer or cash (``manual``). The gateway may fail or not answer: the refund stays
``failed`` with the gateway's word, and is retried with the *same* request number, which the
gateway uses to refund once however often it is asked (Alipay's ``out_request_no``).

    pending ──succeed──▶ succeeded
       │  ▲
   fail│  │retry
       ▼  │
      failed

What may be refunded: never more than was paid, counting every refund not failed (a pending
one may still go through). :func:`payment_status` says what the order shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dingdan.domain import machine
from dingdan.domain.errors import FieldError, ValidationFailed
from dingdan.domain.lifecycle import PaymentStatus


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundAction(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    RETRY = "retry"


class Method(StrEnum):
    ALIPAY = "alipay"  # through the gateway, back to the buyer's account
    MANUAL = "manual"  # bank transfer or cash, paid by a person who records it


@dataclass(frozen=True, slots=True)
class RefundFacts:
    status: RefundStatus


PERMISSION = "order.refund"
Rs, Ra = RefundStatus, RefundAction


@dataclass(frozen=True, slots=True)
class Row(machine.Transition[RefundStatus, RefundAction, RefundFacts]):
    """A row of the refund table."""



TRANSITIONS: tuple[Row, ...] = (
    Row(Rs.PENDING, Ra.SUCCEED, Rs.SUCCEEDED, permission=PERMISSION, stamps=("succeeded_at",)),
    Row(Rs.PENDING, Ra.FAIL, Rs.FAILED, permission=PERMISSION),
    Row(Rs.FAILED, Ra.RETRY, Rs.PENDING, permission=PERMISSION),
)
REFUND: machine.Machine[RefundStatus, RefundAction, RefundFacts, Row] = machine.Machine(
    name="refund", statuses=RefundStatus, actions=RefundAction, transitions=TRANSITIONS,
    status_labels={Rs.PENDING: {"zh-CN": "退款中", "en": "Pending"},
                   Rs.SUCCEEDED: {"zh-CN": "退款成功", "en": "Succeeded"},
                   Rs.FAILED: {"zh-CN": "退款失败", "en": "Failed"}},
    action_labels={Ra.SUCCEED: {"zh-CN": "退款成功", "en": "Succeeded"},
                   Ra.FAIL: {"zh-CN": "退款失败", "en": "Failed"},
                   Ra.RETRY: {"zh-CN": "重试", "en": "Retry"}},
    terminal=frozenset({Rs.SUCCEEDED}))


def step(status: RefundStatus, action: RefundAction) -> RefundStatus:
    return REFUND.step(status, action, RefundFacts(status))[1]


# Payment statuses that mean money was taken and may be given back.
PAID_STATUSES: frozenset[PaymentStatus] = frozenset({
    PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUND_DUE})


def refundable(paid: int, committed: int) -> int:
    """What may still be refunded: paid less every refund not failed."""
    return max(0, paid - committed)


def check_amount(amount: int, paid: int, committed: int, loc: str = "amount") -> None:
    """Refuse a refund of nothing, or of more than is left of what was paid."""
    if amount < 1:
        raise ValidationFailed(details=[FieldError(loc, "too_small", "refund at least 0.01")])
    left = refundable(paid, committed)
    if amount > left:
        raise ValidationFailed({"refundable": left}, details=[FieldError(
            loc, "exceeds_paid", f"at most {left} (minor units) is left to refund")])


def payment_status(paid: int, refunded: int, cancelled: bool) -> PaymentStatus:
    """What an order that took ``paid`` and gave back ``refunded`` (succeeded) shows.

    A cancelled order owes the whole payment back: it shows "refund due" until it is all
    refunded. An open order shows "partially refunded" after a part went back.
    """
    if paid <= 0:
        return PaymentStatus.UNPAID
    if refunded >= paid:
        return PaymentStatus.REFUNDED
    if cancelled:
        return PaymentStatus.REFUND_DUE
    return PaymentStatus.PARTIALLY_REFUNDED if refunded > 0 else PaymentStatus.PAID


PAYMENT_LABELS: Mapping[PaymentStatus, Mapping[str, str]] = {
    PaymentStatus.UNPAID: {"zh-CN": "未付款", "en": "Unpaid"},
    PaymentStatus.PAID: {"zh-CN": "已付款", "en": "Paid"},
    PaymentStatus.PARTIALLY_REFUNDED: {"zh-CN": "部分退款", "en": "Partially refunded"},
    PaymentStatus.REFUND_DUE: {"zh-CN": "待退款", "en": "Refund due"},
    PaymentStatus.REFUNDED: {"zh-CN": "已退款", "en": "Refunded"},
}


def yuan(amount: int) -> str:
    """Minor units as the gateway's decimal yuan (``12345`` → ``"123.45"``), no float."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d}"
