"""Shopify's order webhooks (Admin API ``Order`` resource, topics ``orders/create``,
``orders/updated``, ``orders/paid``, ``orders/cancelled``) as Dingdan order drafts.

Shopify signs the raw body with the app's client secret: ``X-Shopify-Hmac-Sha256`` is the
base64 HMAC-SHA256. Every delivery carries the whole order as it is now, with ``updated_at``:
the version that keeps late deliveries from undoing newer ones. Money is decimal strings in
the order's ``currency``; ``price`` of a line is its unit price before discounts, which are
in ``total_discounts``; tax is added only when prices exclude it (``taxes_included``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from dingdan.adapters.channels.shops import (
    ShopOrder,
    amount,
    bad,
    district_of,
    full_name,
    moment,
    payment_method,
    signed,
    text,
)
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft

SIGNATURE_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid",
                          "orders/cancelled", "orders/edited"})
PAID = frozenset({"paid", "partially_refunded"})


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    return signed(secret, body, headers.get(SIGNATURE_HEADER))


def parse(channel: str, body: bytes, headers: Mapping[str, str]) -> ShopOrder | None:
    """The order in a delivery; None for a topic that is not about an order's contents."""
    if headers.get(TOPIC_HEADER, "orders/create") not in ORDER_TOPICS:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad("body", "json_invalid", "the body is not JSON") from None
    if not isinstance(data, dict) or "id" not in data:
        raise bad("id", "required", "an order has an id")
    return order(channel, data)


def order(channel: str, o: dict[str, Any]) -> ShopOrder:
    currency = text(o.get("currency") or "CNY", 3).upper()
    ship = o.get("shipping_address") or {}
    buyer = o.get("customer") or {}
    name = text(ship.get("name")) or full_name(ship.get("first_name"), ship.get("last_name"))
    street = " ".join(x for x in (text(ship.get("address1")), text(ship.get("address2"))) if x)
    city = text(ship.get("city"), 64)
    phone = text(ship.get("phone") or o.get("phone") or buyer.get("phone"), 32)
    lines = []
    for i, item in enumerate(o.get("line_items") or []):
        if not isinstance(item, dict):
            raise bad(f"line_items.{i}", "invalid", "a line item is an object")
        qty = item.get("quantity")
        if not isinstance(qty, int):
            raise bad(f"line_items.{i}.quantity", "int_type", "quantity is a whole number")
        lines.append(LineDraft(text(item.get("sku"), 64), qty,
                               amount(item.get("price"), currency, f"line_items.{i}.price"),
                               text(item.get("title"), 200) or None,
                               text(item.get("variant_title"), 200) or None))
    shipping = sum(amount(s.get("price"), currency, "shipping_lines.price")
                   for s in o.get("shipping_lines") or [] if isinstance(s, dict))
    tax = 0 if o.get("taxes_included") else amount(o.get("total_tax"), currency, "total_tax")
    customer_name = full_name(buyer.get("first_name"), buyer.get("last_name")) or name
    gateways = o.get("payment_gateway_names") or []
    draft = OrderDraft(
        channel=channel, external_id=str(o["id"])[:128],
        customer=Customer(customer_name, phone or None,
                          text(o.get("email") or buyer.get("email"), 254) or None,
                          text(ship.get("company"), 200) or None),
        shipping_address=Address(name, phone, text(ship.get("province"), 64), city,
                                 district_of(street, city), street,
                                 text(ship.get("zip"), 16) or None,
                                 text(ship.get("country_code") or "CN", 2).upper()),
        lines=tuple(lines), currency=currency, shipping_fee=shipping,
        discount=amount(o.get("total_discounts"), currency, "total_discounts"), tax=tax,
        payment_method=payment_method(str(gateways[0])) if gateways else None,
        placed_at=moment(o.get("created_at"), "created_at"),
        notes=text(o.get("note"), 2000) or None)
    return ShopOrder(draft, moment(o.get("updated_at"), "updated_at"),
                     paid=o.get("financial_status") in PAID,
                     cancelled=bool(o.get("cancelled_at")),
                     payment_reference=f"shopify:{o['id']}",
                     cancel_reason=f"cancelled in Shopify ({text(o.get('cancel_reason'), 60)})"
                     if o.get("cancelled_at") else None)
