"""Shop order webhooks: Shopify and WooCommerce bodies in their documented shapes, signed as
each documents. An order lands once however often it is delivered; later updates, payments
and cancellations are applied in the shop's order (a late, older delivery is ignored); a
change the order's stage no longer allows is refused out loud; a bad signature is 401 and
changes nothing."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import db_state, refused, stock_row, walk

from conftest import ref
from helpers import seed_catalogue
from shop_payloads import body_of, shopify_order, sign, woocommerce_order

SECRET = "shpss_0123456789abcdef0123456789abcdef"


@pytest.fixture
async def anonymous(app_client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The shop calls without a token: its signature is its credential."""
    app = app_client.app  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://dingdan.test") as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def connect(client: httpx.AsyncClient, kind: str) -> str:
    code = ref(kind[:4]).lower()
    r = await client.post("/api/v1/channel-sources", json={
        "code": code, "kind": kind, "name": f"{kind} 店", "secret": SECRET})
    assert r.status_code == 201, r.text
    assert "secret" not in r.json()
    return code


async def deliver(client: httpx.AsyncClient, kind: str, code: str, payload: dict[str, Any],
                  topic: str, secret: str = SECRET) -> httpx.Response:
    body = body_of(payload)
    if kind == "shopify":
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign(secret, body),
                   "X-Shopify-Shop-Domain": "dingdan-test.myshopify.com",
                   "X-Shopify-Webhook-Id": ref("wh"), "Content-Type": "application/json"}
    else:
        headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": sign(secret, body),
                   "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Source":
                   "https://shop.example.com/", "Content-Type": "application/json"}
    return await client.post(f"/intake/{kind}/{code}", content=body, headers=headers)


async def the_order(client: httpx.AsyncClient, channel: str) -> dict[str, Any]:
    r = await client.get("/api/v1/orders", params={"channel": channel})
    [summary] = r.json()["items"]
    order: dict[str, Any] = (await client.get(f"/api/v1/orders/{summary['number']}")).json()
    return order


async def test_a_shopify_order_lands_once_and_its_later_word_is_applied_in_order(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sku = cat["skus"]["A"]
    code = await connect(app_client, "shopify")
    oid = random.randrange(10**15, 10**16)

    created = shopify_order(oid, sku, 2)
    r = await deliver(anonymous, "shopify", code, created, "orders/create")
    assert (r.status_code, r.json()["outcome"]) == (200, "created"), r.text
    for _ in range(2):  # Shopify retries: the same delivery lands once
        r = await deliver(anonymous, "shopify", code, created, "orders/create")
        assert r.json()["outcome"] == "unchanged"
    order = await the_order(app_client, code)
    assert (order["external_id"], order["status"], order["amounts"]["total"]) == (
        str(oid), "pending_payment", 20000 + 1000 - 500)
    assert order["shipping_address"]["district"] == "南山区"
    assert (await stock_row(app_client, sku))["reserved"] == 2

    # Paid, with one more cup, at 10:05; then a late delivery of 10:01 (older) arrives.
    paid = shopify_order(oid, sku, 3, updated_at="2026-11-11T10:05:00+08:00",
                         financial_status="paid")
    r = await deliver(anonymous, "shopify", code, paid, "orders/updated")
    assert (r.json()["outcome"], set(r.json()["changed"])) == (
        "updated", {"lines", "subtotal", "total", "pay"}), r.text
    late = shopify_order(oid, sku, 1, updated_at="2026-11-11T10:01:00+08:00")
    r = await deliver(anonymous, "shopify", code, late, "orders/updated")
    assert r.json()["outcome"] == "stale"
    order = await the_order(app_client, code)
    assert (order["status"], order["lines"][0]["quantity"]) == ("paid", 3)
    assert order["payment_reference"] == f"shopify:{oid}"
    assert (await stock_row(app_client, sku))["reserved"] == 3
    events = (await app_client.get(f"/api/v1/orders/{order['number']}/events")).json()
    assert [e["type"] for e in events] == ["order.placed", "order.channel_updated",
                                           "order.paid"]
    assert events[1]["actor"] == f"channel:{code}"

    cancelled = shopify_order(oid, sku, 3, updated_at="2026-11-11T10:09:00+08:00",
                              financial_status="paid",
                              cancelled_at="2026-11-11T10:09:00+08:00")
    r = await deliver(anonymous, "shopify", code, cancelled, "orders/cancelled")
    assert r.json()["outcome"] == "updated"
    assert (await the_order(app_client, code))["status"] == "cancelled"
    assert (await stock_row(app_client, sku))["reserved"] == 0


async def test_a_change_after_picking_is_refused_with_the_reason_and_changes_nothing(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sku = cat["skus"]["A"]
    code = await connect(app_client, "shopify")
    oid = random.randrange(10**15, 10**16)
    await deliver(anonymous, "shopify", code, shopify_order(oid, sku), "orders/create")
    order = await the_order(app_client, code)
    await walk(app_client, order["number"], "picking")

    moved = shopify_order(oid, sku, updated_at="2026-11-11T11:00:00+08:00",
                          financial_status="paid", address1="福田区深南大道 1 号")
    body = body_of(moved)
    body_json = await refused(anonymous, "POST", f"/intake/shopify/{code}", 409,
                              "CHANNEL_ORDER_LOCKED", content=body, headers={
                                  "X-Shopify-Topic": "orders/updated",
                                  "X-Shopify-Hmac-Sha256": sign(SECRET, body)})
    assert "picking" in body_json["params"]["reason"]
    cancelled = shopify_order(oid, sku, updated_at="2026-11-11T11:00:00+08:00",
                              cancelled_at="2026-11-11T11:00:00+08:00")
    # cancelling while picking is still allowed by the order's table
    r = await deliver(anonymous, "shopify", code, cancelled, "orders/cancelled")
    assert r.json()["outcome"] == "updated"


async def test_a_shipped_order_refuses_the_shops_cancellation(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    code = await connect(app_client, "woocommerce")
    oid = random.randrange(10**6, 10**7)
    await deliver(anonymous, "woocommerce", code, woocommerce_order(oid, cat["skus"]["A"]),
                  "order.created")
    await walk(app_client, (await the_order(app_client, code))["number"], "shipped")
    gone = woocommerce_order(oid, cat["skus"]["A"], status="cancelled",
                             modified="2026-11-12T02:00:00")
    body = body_of(gone)
    problem = await refused(anonymous, "POST", f"/intake/woocommerce/{code}", 409,
                            "CHANNEL_ORDER_LOCKED", content=body, headers={
                                "X-WC-Webhook-Topic": "order.updated",
                                "X-WC-Webhook-Signature": sign(SECRET, body)})
    assert "shipped" in problem["params"]["reason"]


async def test_a_woocommerce_order_lands_once_and_is_paid_when_processing(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sku = cat["skus"]["A"]
    code = await connect(app_client, "woocommerce")
    oid = random.randrange(10**6, 10**7)
    # the ping WooCommerce sends when the webhook is saved
    ping = b"webhook_id=12"
    r = await anonymous.post(f"/intake/woocommerce/{code}", content=ping, headers={
        "X-WC-Webhook-Signature": sign(SECRET, ping),
        "Content-Type": "application/x-www-form-urlencoded"})
    assert (r.status_code, r.json()["outcome"]) == (200, "ignored")

    r = await deliver(anonymous, "woocommerce", code, woocommerce_order(oid, sku, 2),
                      "order.created")
    assert r.json()["outcome"] == "created", r.text
    order = await the_order(app_client, code)
    assert (order["amounts"]["total"], order["customer"]["name"]) == (10800, "李四")
    processing = woocommerce_order(oid, sku, 2, status="processing",
                                   modified="2026-11-11T02:03:00")
    r = await deliver(anonymous, "woocommerce", code, processing, "order.updated")
    assert (r.json()["outcome"], r.json()["changed"]) == ("updated", ["pay"])
    assert (await the_order(app_client, code))["status"] == "paid"
    r = await deliver(anonymous, "woocommerce", code, processing, "order.updated")
    assert r.json()["outcome"] == "unchanged"  # the same version again
    older = woocommerce_order(oid, sku, 1, modified="2026-11-11T02:01:00")
    r = await deliver(anonymous, "woocommerce", code, older, "order.updated")
    assert r.json()["outcome"] == "stale"
    assert (await the_order(app_client, code))["lines"][0]["quantity"] == 2


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
async def test_a_bad_signature_is_401_and_writes_nothing(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient, kind: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    code = await connect(app_client, kind)
    payload = (shopify_order(1, cat["skus"]["A"]) if kind == "shopify"
               else woocommerce_order(1, cat["skus"]["A"]))
    body = body_of(payload)
    header = "X-Shopify-Hmac-Sha256" if kind == "shopify" else "X-WC-Webhook-Signature"
    for signature in (sign("another-secret-entirely", body), "", "bm90IGEgc2lnbmF0dXJl"):
        await refused(anonymous, "POST", f"/intake/{kind}/{code}", 401, "SIGNATURE_INVALID",
                      content=body, headers={header: signature})
    # the right signature over other bytes (the body changed on the way)
    await refused(anonymous, "POST", f"/intake/{kind}/{code}", 401, "SIGNATURE_INVALID",
                  content=body + b" ", headers={header: sign(SECRET, body)})
    # a shop that is not connected answers exactly alike
    await refused(anonymous, "POST", f"/intake/{kind}/no-such-shop", 401,
                  "SIGNATURE_INVALID", content=body, headers={header: sign(SECRET, body)})


async def test_an_order_dingdan_cannot_take_is_refused_naming_the_fields(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    code = await connect(app_client, "shopify")
    body = body_of(shopify_order(7, "NO-SUCH-SKU"))
    before = await db_state(app_client)
    r = await anonymous.post(f"/intake/shopify/{code}", content=body, headers={
        "X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": sign(SECRET, body)})
    assert r.status_code == 422 and r.json()["code"] == "VALIDATION_FAILED", r.text
    assert {e["loc"] for e in r.json()["errors"]} == {"lines.0.sku"}
    assert await db_state(app_client) == before


async def test_a_generic_json_channel_lands_orders_through_its_mapping(
        app_client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sku = cat["skus"]["A"]
    code = ref("erp").lower()
    mapping = {"order_id": "no", "recipient": "to.name", "phone": "to.tel",
               "province": "to.addr.prov", "city": "to.addr.city",
               "district": "to.addr.area", "street": "to.addr.line", "lines": "items",
               "sku": "code", "quantity": "n", "unit_price": "price", "paid": "payment.done",
               "version": "changed"}
    r = await app_client.post("/api/v1/channel-sources", json={
        "code": code, "kind": "json", "name": "ERP", "secret": SECRET, "mapping": mapping})
    assert r.status_code == 201, r.text

    def order(n: int, changed: str, done: bool) -> dict[str, Any]:
        return {"no": "ERP-1", "changed": changed, "payment": {"done": done},
                "to": {"name": "王五", "tel": "13700137000", "addr": {
                    "prov": "北京市", "city": "北京市", "area": "朝阳区", "line": "建国路 1 号"}},
                "items": [{"code": sku, "n": n, "price": 12.5}]}

    async def send(payload: dict[str, Any]) -> httpx.Response:
        body = body_of(payload)
        return await anonymous.post(f"/intake/json/{code}", content=body, headers={
            "X-Dingdan-Signature": sign(SECRET, body)})

    r = await send(order(2, "2026-11-11T10:00:00+08:00", False))
    assert r.json()["outcome"] == "created", r.text
    r = await send(order(3, "2026-11-11T10:05:00+08:00", True))
    assert (r.json()["outcome"], set(r.json()["changed"])) == (
        "updated", {"lines", "subtotal", "total", "pay"})
    placed = await the_order(app_client, code)
    assert (placed["status"], placed["amounts"]["total"]) == ("paid", 3750)
    # a body its mapping cannot read is refused naming the field, and writes nothing
    broken = order(1, "2026-11-11T10:09:00+08:00", True)
    broken["items"][0]["n"] = "many"
    body = body_of(broken)
    problem = await refused(anonymous, "POST", f"/intake/json/{code}", 422,
                            "VALIDATION_FAILED", content=body,
                            headers={"X-Dingdan-Signature": sign(SECRET, body)})
    assert [e["code"] for e in problem["errors"]] == ["not_a_number"]
