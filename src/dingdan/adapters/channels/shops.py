"""What the shops' order webhooks have in common: the signature and the message.

Shopify and WooCommerce both sign the raw body with HMAC-SHA256 under a shared secret and
send the digest in base64 (``X-Shopify-Hmac-Sha256``, ``X-WC-Webhook-Signature``);
:func:`signed` checks it in constant time. Each shop's module turns its order JSON into a
:class:`ShopOrder`: the order draft and the shop's facts about it (its version, paid,
cancelled).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dingdan.domain.errors import FieldError, ValidationFailed
from dingdan.domain.imports import parse_amount
from dingdan.domain.orders import OrderDraft

MAX_BODY = 1 << 20


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed(secret: str, body: bytes, given: str | None) -> bool:
    """The base64 HMAC-SHA256 of the raw ``body`` under ``secret`` is ``given``."""
    return bool(given) and hmac.compare_digest(signature(secret, body), (given or "").strip())


@dataclass(frozen=True, slots=True)
class ShopOrder:
    draft: OrderDraft
    version: datetime | None  # the shop's updated_at: later messages carry later ones
    paid: bool
    cancelled: bool
    payment_reference: str | None = None
    cancel_reason: str | None = None


def bad(loc: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(details=[FieldError(loc, code, message)])


def text(value: Any, limit: int = 400) -> str:
    return str(value).strip()[:limit] if value is not None else ""


def amount(value: Any, currency: str, loc: str) -> int:
    """A shop's decimal string (``"12.50"``) as minor units of ``currency``."""
    if value in (None, ""):
        return 0
    minor = parse_amount(str(value), currency)
    if minor is None:
        raise bad(loc, "not_an_amount", f"{value!r} is not an amount of {currency}")
    return minor


def moment(value: Any, loc: str, utc_if_naive: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad(loc, "not_a_date", "not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        if not utc_if_naive:
            raise bad(loc, "not_a_date", "a date-time without its offset")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


_CJK = re.compile(r"[\u3400-\u9fff]")


def full_name(first: Any, last: Any) -> str:
    """A person's name from the shops' two fields: ``张`` + ``三`` -> ``张三`` (family name
    first, no space, for Chinese names); ``Jon`` + ``Doe`` -> ``Jon Doe``."""
    f, la = text(first, 100), text(last, 100)
    if _CJK.search(f + la):
        return la + f
    return " ".join(x for x in (f, la) if x)


_DISTRICT = re.compile(r"^\s*(\S{1,12}?(?:区|县|旗|市))")


def district_of(street: str, fallback: str) -> str:
    """A Chinese street line's leading district (``南山区科技园路1号`` -> ``南山区``); shops
    have no district field, so the city stands in when the street names none."""
    m = _DISTRICT.match(street)
    return m.group(1) if m else fallback


PAYMENT_METHODS = {"alipay": "alipay", "wechat": "wechat_pay", "wechat_pay": "wechat_pay",
                   "wxpay": "wechat_pay", "paypal": "paypal", "ppcp-gateway": "paypal",
                   "cod": "cod", "cash on delivery (cod)": "cod", "bacs": "bank_transfer",
                   "shopify_payments": "card", "stripe": "card", "unionpay": "unionpay"}


def payment_method(name: str) -> str | None:
    return PAYMENT_METHODS.get(name.strip().lower(), "other") if name else None
