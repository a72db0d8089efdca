"""WooCommerce's order webhooks (REST API v3 order, topics ``order.created``,
``order.updated``, ``order.deleted``) as Dingdan order drafts.

WooCommerce signs the raw body with the webhook's secret: ``X-WC-Webhook-Signature`` is the
base64 HMAC-SHA256. When a webhook is saved it first sends a ping (``webhook_id=12``, form
encoded), answered with 200. Every order delivery carries the whole order, with
``date_modified_gmt`` (UTC, no offset) as its version. Money is decimal strings; a line's
``subtotal`` is before discounts (``discount_total`` is the order's), ``total_tax`` is added
unless ``prices_include_tax``.
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

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
PAID = frozenset({"processing", "completed"})


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    return signed(secret, body, headers.get(SIGNATURE_HEADER))


def parse(channel: str, body: bytes, headers: Mapping[str, str]) -> ShopOrder | None:
    topic = headers.get(TOPIC_HEADER, "order.created")
    if body.startswith(b"webhook_id=") or not topic.startswith("order."):
        return None  # the ping sent when the webhook is saved, or not an order
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad("body", "json_invalid", "the body is not JSON") from None
    if not isinstance(data, dict) or "id" not in data:
        raise bad("id", "required", "an order has an id")
    if topic == "order.deleted":  # the body holds the id alone
        return ShopOrder(_deleted(channel, data), None, paid=False, cancelled=True,
                         cancel_reason="deleted in WooCommerce")
    return order(channel, data)


def _deleted(channel: str, o: dict[str, Any]) -> OrderDraft:
    return OrderDraft(channel=channel, external_id=str(o["id"])[:128],
                      customer=Customer(""), shipping_address=Address("", "", "", "", "", ""),
                      lines=())


def order(channel: str, o: dict[str, Any]) -> ShopOrder:
    currency = text(o.get("currency") or "CNY", 3).upper()
    ship = o.get("shipping") or {}
    bill = o.get("billing") or {}
    name = full_name(ship.get("first_name"), ship.get("last_name"))
    street = " ".join(x for x in (text(ship.get("address_1")), text(ship.get("address_2")))
                      if x)
    city = text(ship.get("city"), 64)
    phone = text(ship.get("phone") or bill.get("phone"), 32)
    lines = []
    for i, item in enumerate(o.get("line_items") or []):
        if not isinstance(item, dict):
            raise bad(f"line_items.{i}", "invalid", "a line item is an object")
        qty = item.get("quantity")
        if not isinstance(qty, int) or qty <= 0:
            raise bad(f"line_items.{i}.quantity", "int_type", "quantity is a whole number")
        subtotal = amount(item.get("subtotal"), currency, f"line_items.{i}.subtotal")
        if subtotal % qty:
            raise bad(f"line_items.{i}.subtotal", "not_an_amount",
                      "the line's subtotal is not a whole unit price times the quantity")
        lines.append(LineDraft(text(item.get("sku"), 64), qty, subtotal // qty,
                               text(item.get("name"), 200) or None))
    tax = 0 if o.get("prices_include_tax") else amount(o.get("total_tax"), currency,
                                                        "total_tax")
    status = text(o.get("status"), 32)
    buyer = full_name(bill.get("first_name"), bill.get("last_name")) or name
    draft = OrderDraft(
        channel=channel, external_id=str(o["id"])[:128],
        customer=Customer(buyer, text(bill.get("phone"), 32) or phone or None,
                          text(bill.get("email"), 254) or None,
                          text(bill.get("company"), 200) or None),
        shipping_address=Address(name, phone, text(ship.get("state"), 64), city,
                                 district_of(street, city), street,
                                 text(ship.get("postcode"), 16) or None,
                                 text(ship.get("country") or "CN", 2).upper()),
        lines=tuple(lines), currency=currency,
        shipping_fee=amount(o.get("shipping_total"), currency, "shipping_total"),
        discount=amount(o.get("discount_total"), currency, "discount_total"), tax=tax,
        payment_method=payment_method(text(o.get("payment_method"), 64)),
        placed_at=moment(o.get("date_created_gmt"), "date_created_gmt", utc_if_naive=True),
        notes=text(o.get("customer_note"), 2000) or None)
    reference = text(o.get("transaction_id"), 128) or f"woocommerce:{o['id']}"
    return ShopOrder(draft, moment(o.get("date_modified_gmt"), "date_modified_gmt",
                                   utc_if_naive=True),
                     paid=status in PAID or bool(o.get("date_paid_gmt")),
                     cancelled=status == "cancelled", payment_reference=reference,
                     cancel_reason="cancelled in WooCommerce" if status == "cancelled"
                     else None)
