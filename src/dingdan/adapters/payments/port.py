"""The refund port: what a payment gateway is asked, and what it answers.

An adapter never raises for the gateway's own failures (a refusal, a timeout, a 5xx, an
answer whose signature does not verify): it answers ``ok=False`` with the reason, and says
whether asking again with the same request number can help (``retryable``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RefundRequest:
    request_no: str  # the same on every retry: the gateway refunds once per request number
    order_number: str  # the merchant's order number the payment was made under
    payment_reference: str | None  # the gateway's trade number, when known
    amount: int  # minor units
    currency: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RefundAnswer:
    ok: bool
    reference: str | None = None  # the gateway's trade number
    error: str | None = None  # the gateway's code and message, for the person retrying
    retryable: bool = False


class RefundGateway(Protocol):
    method: str  # the refund method it serves ("alipay")

    async def refund(self, request: RefundRequest) -> RefundAnswer: ...
