"""Order webhook bodies as the shops document them, and their signatures.

Shopify: the Admin REST ``Order`` resource as sent to ``orders/create`` / ``orders/updated``
/ ``orders/cancelled`` (the shape of the sample Shopify's admin sends with "Send test
notification": ``id``, ``name`` ``#9999``, money as decimal strings, ``line_items`` with
``sku``, ``price`` and ``quantity``, ``shipping_address``, ``financial_status``,
``cancelled_at``, ``updated_at``). WooCommerce: the REST API v3 order as sent to
``order.created`` / ``order.updated`` (``status``, ``billing``, ``shipping``,
``line_items`` with ``subtotal``, ``date_modified_gmt`` without offset). Headers are
theirs: ``X-Shopify-Hmac-Sha256`` / ``X-WC-Webhook-Signature``, base64 HMAC-SHA256 of the raw
body under the shared secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_order(order_id: int, sku: str, quantity: int = 1, *,
                  updated_at: str = "2026-11-11T10:00:00+08:00",
                  financial_status: str = "pending", cancelled_at: str | None = None,
                  address1: str = "南山区科技园路1号") -> dict[str, Any]:
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": "#9999", "number": 234, "order_number": 1234, "email": "jon@example.com",
        "phone": None, "test": True, "token": "123456abcd", "confirmed": True,
        "created_at": "2026-11-11T09:58:00+08:00", "updated_at": updated_at,
        "processed_at": "2026-11-11T09:58:00+08:00",
        "cancelled_at": cancelled_at, "cancel_reason": "customer" if cancelled_at else None,
        "closed_at": None, "currency": "CNY", "presentment_currency": "CNY",
        "financial_status": financial_status, "fulfillment_status": None,
        "taxes_included": False, "total_tax": "0.00", "total_discounts": "5.00",
        "total_line_items_price": f"{quantity * 100}.00",
        "subtotal_price": f"{quantity * 100 - 5}.00",
        "total_price": f"{quantity * 100 - 5 + 10}.00",
        "note": "请尽快发货", "tags": "", "gateway": "alipay",
        "payment_gateway_names": ["alipay"],
        "customer": {"id": 115310627314723954, "email": "jon@example.com",
                     "first_name": "三", "last_name": "张", "phone": "+8613800138000"},
        "shipping_address": {"first_name": "三", "last_name": "张", "name": "张三",
                             "address1": address1, "address2": None, "city": "深圳市",
                             "province": "广东省", "province_code": "GD", "zip": "518057",
                             "country": "China", "country_code": "CN",
                             "phone": "+86 138 0013 8000", "company": None},
        "shipping_lines": [{"id": 271878346596884015, "title": "顺丰", "price": "10.00",
                            "code": "sf", "source": "shopify"}],
        "line_items": [{"id": 866550311766439020, "admin_graphql_api_id":
                        "gid://shopify/LineItem/866550311766439020", "title": "保温杯",
                        "variant_title": "500ml", "sku": sku, "quantity": quantity,
                        "price": "100.00", "total_discount": "0.00", "taxable": True,
                        "requires_shipping": True, "fulfillable_quantity": quantity}],
    }


def woocommerce_order(order_id: int, sku: str, quantity: int = 1, *,
                      status: str = "pending",
                      modified: str = "2026-11-11T02:00:00") -> dict[str, Any]:
    return {
        "id": order_id, "parent_id": 0, "number": str(order_id),
        "order_key": f"wc_order_{order_id}", "created_via": "checkout", "version": "9.4.0",
        "status": status, "currency": "CNY", "prices_include_tax": False,
        "date_created": "2026-11-11T09:58:00", "date_created_gmt": "2026-11-11T01:58:00",
        "date_modified": "2026-11-11T10:00:00", "date_modified_gmt": modified,
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "8.00",
        "shipping_tax": "0.00", "cart_tax": "0.00", "total": f"{quantity * 50 + 8}.00",
        "total_tax": "0.00", "customer_id": 0, "customer_note": "",
        "billing": {"first_name": "四", "last_name": "李", "company": "", "address_1":
                    "浦东新区世纪大道 1 号", "address_2": "", "city": "上海市", "state": "上海市",
                    "postcode": "200120", "country": "CN", "email": "li.si@example.com",
                    "phone": "13900139000"},
        "shipping": {"first_name": "四", "last_name": "李", "company": "", "address_1":
                     "浦东新区世纪大道 1 号", "address_2": "", "city": "上海市", "state": "上海市",
                     "postcode": "200120", "country": "CN", "phone": "13900139000"},
        "payment_method": "bacs", "payment_method_title": "Direct bank transfer",
        "transaction_id": "", "date_paid": None, "date_paid_gmt": None,
        "date_completed": None, "date_completed_gmt": None,
        "line_items": [{"id": 315, "name": "保温杯", "product_id": 93, "variation_id": 0,
                        "quantity": quantity, "tax_class": "", "subtotal": f"{quantity * 50}.00",
                        "subtotal_tax": "0.00", "total": f"{quantity * 50}.00",
                        "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": sku,
                        "price": 50}],
        "shipping_lines": [{"id": 316, "method_title": "Flat rate", "method_id": "flat_rate",
                            "total": "8.00", "total_tax": "0.00"}],
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """As the shops send it: compact JSON with the non-ASCII escaped (PHP's json_encode,
    Ruby's to_json) — the signature is over exactly these bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()
