"""What an order is and the rules its data must follow. Pure: callers pass time and randomness.

An order holds the fields of a real order-tracking sheet: number, channel and external id,
customer, shipping address, lines, amounts, promises, payment method, promo code, notes, tags
and bounded custom fields. :func:`validate_draft` checks an incoming order once, names every
bad field, and returns it normalised (phones in E.164, amounts computed and checked).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import phonenumbers

from dingdan.domain.errors import (
    AmountsInconsistent,
    ErrorCollector,
    FieldError,
    ValidationFailed,
)
from dingdan.domain.money import MAX_AMOUNT, is_known_currency

MAX_LINES = 200
MAX_QTY = 100_000
MAX_CUSTOM_FIELDS_BYTES = 4096
MAX_CUSTOM_FIELDS_KEYS = 50
MAX_TAGS = 20
DEFAULT_REGION = "CN"
PAYMENT_METHODS = frozenset({"alipay", "wechat_pay", "unionpay", "card", "bank_transfer",
                             "cod", "paypal", "other"})
_POSTCODE_CN = re.compile(r"^\d{6}$")
_TAG = re.compile(r"^[\w\-:.\u4e00-\u9fff]{1,40}$")


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    phone: str | None = None
    email: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    postcode: str | None = None
    country: str = DEFAULT_REGION


@dataclass(frozen=True, slots=True)
class LineDraft:
    sku: str
    quantity: int
    unit_price: int | None = None  # minor units; None: the catalogue price
    name: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Amounts:
    subtotal: int
    shipping_fee: int
    discount: int
    tax: int
    total: int


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """An order as it arrives from a channel, before it is checked."""

    channel: str
    customer: Customer
    shipping_address: Address
    lines: tuple[LineDraft, ...]
    currency: str = "CNY"
    external_id: str | None = None
    shipping_fee: int = 0
    discount: int = 0
    tax: int = 0
    subtotal: int | None = None  # if given, must match the lines
    total: int | None = None  # if given, must match the sum
    payment_method: str | None = None
    promo_code: str | None = None
    placed_at: datetime | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """What the rules need to know about a product when an order names it."""

    sku: str
    name: str
    price: int
    active: bool


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    name: str
    model: str | None
    quantity: int
    unit_price: int

    @property
    def line_total(self) -> int:
        return self.quantity * self.unit_price


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def compute_amounts(lines: list[PricedLine], shipping_fee: int, discount: int, tax: int) -> Amounts:
    subtotal = sum(line.line_total for line in lines)
    return Amounts(subtotal, shipping_fee, discount, tax, subtotal + shipping_fee - discount + tax)


def validate_address(address: Address, errors: ErrorCollector, loc: str) -> Address:
    for name in ("recipient", "province", "city", "district", "street"):
        if not getattr(address, name).strip():
            errors.add(f"{loc}.{name}", "required", f"{name} is required")
    phone = normalize_phone(address.phone, address.country or DEFAULT_REGION)
    if phone is None:
        errors.add(f"{loc}.phone", "invalid_phone", "not a valid phone number")
    if address.country == "CN" and address.postcode and not _POSTCODE_CN.match(address.postcode):
        errors.add(f"{loc}.postcode", "invalid_postcode", "a Chinese postcode has six digits")
    return replace(address, phone=phone or address.phone,
                   recipient=address.recipient.strip(), street=address.street.strip())


def validate_draft(draft: OrderDraft, catalogue: dict[str, CatalogueItem],
                   ) -> tuple[OrderDraft, list[PricedLine], Amounts]:
    """Check an incoming order against the rules and the catalogue; name every bad field.

    Returns the normalised draft, its priced lines (quantities of the same SKU merged) and
    its amounts. Raises ``ValidationFailed`` or ``AmountsInconsistent``.
    """
    errors = ErrorCollector()
    if not is_known_currency(draft.currency):
        errors.add("currency", "unknown_currency", f"unknown currency {draft.currency}")
    customer = draft.customer
    if not customer.name.strip():
        errors.add("customer.name", "required", "customer name is required")
    cust_phone = None
    if customer.phone:
        cust_phone = normalize_phone(customer.phone, draft.shipping_address.country)
        if cust_phone is None:
            errors.add("customer.phone", "invalid_phone", "not a valid phone number")
    address = validate_address(draft.shipping_address, errors, "shipping_address")
    if not draft.lines:
        errors.add("lines", "required", "an order needs at least one line")
    if len(draft.lines) > MAX_LINES:
        errors.add("lines", "too_many", f"at most {MAX_LINES} lines")
    merged: dict[str, PricedLine] = {}
    for i, line in enumerate(draft.lines):
        loc = f"lines.{i}"
        if not 0 < line.quantity <= MAX_QTY:
            errors.add(f"{loc}.quantity", "out_of_range", f"quantity must be 1..{MAX_QTY}")
            continue
        if line.unit_price is not None and line.unit_price < 0:
            errors.add(f"{loc}.unit_price", "negative", "unit price cannot be negative")
            continue
        item = catalogue.get(line.sku)
        if item is None or not item.active:
            errors.add(f"{loc}.sku", "unknown_sku", f"no active product with SKU {line.sku}")
            continue
        price = item.price if line.unit_price is None else line.unit_price
        prev = merged.get(line.sku)
        if prev is not None and prev.unit_price != price:
            errors.add(f"{loc}.unit_price", "price_differs",
                       "the same SKU appears twice with different prices")
            continue
        qty = line.quantity + (prev.quantity if prev else 0)
        merged[line.sku] = PricedLine(line.sku, line.name or item.name, line.model, qty, price)
    for name in ("shipping_fee", "discount", "tax"):
        if getattr(draft, name) < 0:
            errors.add(name, "negative", f"{name} cannot be negative")
    if len(draft.tags) > MAX_TAGS:
        errors.add("tags", "too_many", f"at most {MAX_TAGS} tags")
    for i, tag in enumerate(draft.tags):
        if not _TAG.match(tag):
            errors.add(f"tags.{i}", "invalid_tag", "tags are 1-40 letters, digits, - _ : .")
    _check_custom_fields(draft.custom_fields, errors)
    if draft.payment_method is not None and draft.payment_method not in PAYMENT_METHODS:
        errors.add("payment_method", "unknown_payment_method",
                   f"one of {', '.join(sorted(PAYMENT_METHODS))}")
    if draft.ship_by and draft.deliver_by and draft.deliver_by < draft.ship_by:
        errors.add("deliver_by", "before_ship_by", "delivery promise is before the ship-by date")
    errors.raise_if_any()

    lines = sorted(merged.values(), key=lambda p: p.sku)
    amounts = compute_amounts(lines, draft.shipping_fee, draft.discount, draft.tax)
    too_large = [FieldError(name, "too_large", f"at most {MAX_AMOUNT} minor units")
                 for name, v in (("shipping_fee", draft.shipping_fee),
                                 ("discount", draft.discount), ("tax", draft.tax),
                                 ("subtotal", amounts.subtotal), ("total", amounts.total))
                 if v > MAX_AMOUNT]
    if too_large:
        raise ValidationFailed(details=too_large)
    mismatches = []
    if draft.subtotal is not None and draft.subtotal != amounts.subtotal:
        mismatches.append(FieldError("subtotal", "mismatch",
                                     f"lines add up to {amounts.subtotal}, not {draft.subtotal}"))
    if draft.total is not None and draft.total != amounts.total:
        mismatches.append(FieldError("total", "mismatch",
                                     f"subtotal + shipping - discount + tax = {amounts.total}, "
                                     f"not {draft.total}"))
    if amounts.total < 0:
        mismatches.append(FieldError("discount", "exceeds_total", "discount exceeds the amount"))
    if mismatches:
        raise AmountsInconsistent({"expected_total": amounts.total}, mismatches)
    customer = replace(customer, phone=cust_phone, name=customer.name.strip(),
                       email=customer.email.lower() if customer.email else None)
    return replace(draft, customer=customer, shipping_address=address), lines, amounts


def _check_custom_fields(custom: dict[str, Any], errors: ErrorCollector) -> None:
    if len(custom) > MAX_CUSTOM_FIELDS_KEYS:
        errors.add("custom_fields", "too_many_keys", f"at most {MAX_CUSTOM_FIELDS_KEYS} keys")
        return
    size = len(json.dumps(custom, ensure_ascii=False).encode())
    if size > MAX_CUSTOM_FIELDS_BYTES:
        errors.add("custom_fields", "too_large",
                   f"custom fields take {size} bytes; at most {MAX_CUSTOM_FIELDS_BYTES}")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number(now: datetime, entropy: int) -> str:
    """A readable, unique-enough order number: ``DD`` + yymmdd + 7 Crockford base-32 chars.

    ``entropy`` is a random integer from the caller (35 bits are used: ~3.4e10 per day, so a
    collision is rare; the unique index catches it and the caller draws again).
    """
    chars = []
    for _ in range(7):
        entropy, r = divmod(entropy, 32)
        chars.append(_CROCKFORD[r])
    return f"DD{now:%y%m%d}{''.join(chars)}"
