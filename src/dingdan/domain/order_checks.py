"""Checks an order gets when it arrives, beyond field formats: the address against the
divisions, the phones against the mobile-number rules, prices against the catalogue,
quantities, duplicates. Pure: the caller passes the catalogue prices, the customer's
standing, recent orders and the division tree.

Checks do not refuse an order; each finding (a stable code, bilingual message) and each
number measured becomes a *fact* that the review rules (``domain.review``) read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from dingdan.domain.divisions import CODES as ADDRESS_CODES
from dingdan.domain.divisions import AddressCheck, Divisions


@dataclass(frozen=True, slots=True)
class CheckedLine:
    sku: str
    quantity: int
    unit_price: int
    catalogue_price: int | None  # None: the product is gone from the catalogue
    active: bool = True


@dataclass(frozen=True, slots=True)
class Standing:
    """The customer's record and history as the rules see it (before this order)."""

    tier: str = "standard"
    blocked: bool = False
    orders: int = 0  # earlier orders, cancelled ones included
    paid_orders: int = 0
    cancelled_orders: int = 0
    open_exposure: int = 0  # unpaid, not cancelled (COD and credit terms), minor units
    credit_limit: int | None = None  # None: no credit terms


@dataclass(frozen=True, slots=True)
class OrderToCheck:
    total: int
    currency: str
    payment_method: str | None
    channel: str
    paid: bool
    country: str
    province: str
    city: str
    district: str
    ship_phone: str
    customer_phone: str | None
    lines: tuple[CheckedLine, ...]
    duplicates: int = 0  # same customer, same lines, within the window (counted by the caller)
    standing: Standing = field(default_factory=Standing)
    blocklisted: frozenset[str] = frozenset()  # the kinds of blocklist entry it matches


FINDING_MESSAGES: dict[str, dict[str, str]] = {
    **ADDRESS_CODES,
    "phone.not_mobile": {"zh-CN": "收件电话不是手机号，无法接收短信",
                         "en": "recipient phone is not a mobile number"},
    "price.off_catalogue": {"zh-CN": "单价与商品目录价格相差较大",
                            "en": "unit price far from the catalogue price"},
    "sku.inactive": {"zh-CN": "商品已下架", "en": "product no longer active"},
    "order.duplicate": {"zh-CN": "疑似重复订单", "en": "possible duplicate order"},
    "blocklist.phone": {"zh-CN": "电话在黑名单中", "en": "phone on the blocklist"},
    "blocklist.email": {"zh-CN": "邮箱在黑名单中", "en": "email on the blocklist"},
    "blocklist.address": {"zh-CN": "地址在黑名单中", "en": "address on the blocklist"},
}


def finding_message(code: str, lang: str) -> str:
    labels = FINDING_MESSAGES.get(code, {"en": code})
    return labels.get(lang, labels["en"])


def is_mobile(e164: str) -> bool:
    """A mobile number (CN: 1[3-9]… eleven digits, by libphonenumber's metadata)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def price_deviation_pct(line: CheckedLine) -> int:
    """How far the unit price is from the catalogue's, in whole percent (0 if unknown)."""
    if not line.catalogue_price:
        return 0
    return round(abs(line.unit_price - line.catalogue_price) * 100 / line.catalogue_price)


@dataclass(frozen=True)
class Checked:
    facts: dict[str, Any]  # what the rules read, by field name (``review.FIELDS``)
    findings: tuple[str, ...]
    address: AddressCheck | None


def check_order(order: OrderToCheck, divisions: Divisions | None,
                price_tolerance_pct: int = 20) -> Checked:
    """Every check of one order, as facts and findings. ``divisions`` None: not checked."""
    findings: list[str] = []
    address = None
    confidence: int | None = None
    if order.country == "CN" and divisions is not None:
        address = divisions.check(order.province, order.city, order.district)
        findings += address.findings
        confidence = address.confidence
    mobile = is_mobile(order.ship_phone)
    if not mobile:
        findings.append("phone.not_mobile")
    deviation = max((price_deviation_pct(ln) for ln in order.lines), default=0)
    if deviation > price_tolerance_pct:
        findings.append("price.off_catalogue")
    if any(not ln.active or ln.catalogue_price is None for ln in order.lines):
        findings.append("sku.inactive")
    if order.duplicates:
        findings.append("order.duplicate")
    findings += [f"blocklist.{kind}" for kind in sorted(order.blocklisted)]
    s = order.standing
    exposure_after = s.open_exposure + (0 if order.paid else order.total)
    facts: dict[str, Any] = {
        "order.total": order.total,
        "order.currency": order.currency,
        "order.payment_method": order.payment_method or "",
        "order.channel": order.channel,
        "order.paid": order.paid,
        "order.line_count": len(order.lines),
        "order.max_quantity": max((ln.quantity for ln in order.lines), default=0),
        "order.max_price_deviation_pct": deviation,
        "order.duplicates": order.duplicates,
        "address.confidence": confidence if confidence is not None else 100,
        "address.checked": address is not None,
        "phone.mobile": mobile,
        "customer.tier": s.tier,
        "customer.blocked": s.blocked,
        "customer.orders": s.orders,
        "customer.paid_orders": s.paid_orders,
        "customer.cancelled_orders": s.cancelled_orders,
        "customer.first_order": s.orders == 0,
        "customer.open_exposure": exposure_after,
        "customer.credit_limit": s.credit_limit if s.credit_limit is not None else -1,
        "customer.over_credit_limit": s.credit_limit is not None
        and exposure_after > s.credit_limit,
        "blocklist.hit": bool(order.blocklisted),
        "blocklist.phone": "phone" in order.blocklisted,
        "blocklist.email": "email" in order.blocklisted,
        "blocklist.address": "address" in order.blocklisted,
        "findings.count": len(findings),
    }
    return Checked(facts, tuple(findings), address)


def same_lines(a: Sequence[tuple[str, int]], b: Sequence[tuple[str, int]]) -> bool:
    return sorted(a) == sorted(b)


def count_duplicates(lines: Sequence[tuple[str, int]],
                     recent: Mapping[str, Sequence[tuple[str, int]]]) -> int:
    """How many of the customer's ``recent`` orders (number → lines) have the same lines."""
    return sum(1 for other in recent.values() if same_lines(lines, other))
