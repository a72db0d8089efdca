"""POST /orders and GET /orders/{number}: intake, reservation, idempotency and refusals."""

from __future__ import annotations

import json

from api_support import (
    db_state,
    error_locs,
    place,
    refused,
    stock_row,
)

from conftest import ref
from helpers import order_body, seed_catalogue

ORDERS = "/api/v1/orders"


async def test_placing_an_order_reserves_stock_and_returns_the_whole_order(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 5})
    a, b = cat["skus"]["A"], cat["skus"]["B"]
    body = order_body([(b, 1), (a, 2)], shipping_fee=800, discount=300, tax=100,
                      subtotal=3000, total=3600, promo_code="DOUBLE11", tags=["vip", "首单"],
                      notes="请放门卫", custom_fields={"gift_wrap": True},
                      ship_by="2026-11-12T09:00:00+08:00", deliver_by="2026-11-14T18:00:00+08:00")
    body["lines"][1].update(model="红色 XL", name="定制商品名")
    r = await app_client.post(ORDERS, json=body)
    assert r.status_code == 201, r.text
    order = r.json()
    assert r.headers["location"] == f"/api/v1/orders/{order['number']}"
    assert order["number"].startswith("DD261111")
    assert (order["status"], order["payment_status"], order["fulfillment_status"]) == (
        "pending_payment", "unpaid", "unfulfilled")
    assert order["status_label"] == "Pending payment"
    assert order["amounts"] == {"currency": "CNY", "subtotal": 3000, "shipping_fee": 800,
                                "discount": 300, "tax": 100, "total": 3600}
    assert order["customer"]["phone"] == "+8613800138000"
    assert order["shipping_address"]["phone"] == "+8613800138000"
    assert order["warehouse"] == cat["warehouses"]["SH"]
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["line_total"])
            for ln in order["lines"]] == sorted([(a, 2, 1000, 2000), (b, 1, 1000, 1000)])
    line_a = next(ln for ln in order["lines"] if ln["sku"] == a)
    assert (line_a["name"], line_a["model"]) == ("定制商品名", "红色 XL")
    assert sorted(order["tags"]) == ["vip", "首单"]
    assert order["custom_fields"] == {"gift_wrap": True}
    assert order["promo_code"] == "DOUBLE11" and order["notes"] == "请放门卫"
    assert order["ship_by"].startswith("2026-11-12T01:00:00")
    assert order["version"] == 1
    assert "pay" in order["allowed_actions"] and "cancel" in order["allowed_actions"]
    assert (await stock_row(app_client, a))["reserved"] == 2
    assert (await stock_row(app_client, b))["reserved"] == 1


async def test_getting_an_order_by_number_returns_what_was_placed(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    placed = await place(app_client, [(cat["skus"]["A"], 1)])
    r = await app_client.get(f"{ORDERS}/{placed['number']}")
    assert r.status_code == 200, r.text
    assert r.json() == placed


async def test_an_unknown_order_number_is_not_found(app_client):
    body = await refused(app_client, "GET", f"{ORDERS}/DD000000NOPE000", 404, "NOT_FOUND")
    assert body["params"] == {"kind": "order", "key": "DD000000NOPE000"}
    assert body["detail"] == "No order 'DD000000NOPE000'."


async def test_the_same_sku_on_two_lines_is_merged_into_one(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    order = await place(app_client, [(a, 2), (a, 3)])
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [(a, 5)]
    assert (await stock_row(app_client, a))["reserved"] == 5


async def test_an_order_is_reserved_from_the_highest_priority_warehouse_that_has_every_line(
        app_client):
    cat = await seed_catalogue(app_client, {"A": 0, "B": 0},
                               warehouses=(("GZ", 5), ("SH", 50), ("CD", 1)))
    a, b = cat["skus"]["A"], cat["skus"]["B"]
    wh = cat["warehouses"]
    receipts = [(a, "SH", 10), (a, "GZ", 10), (b, "GZ", 10), (a, "CD", 10), (b, "CD", 10)]
    for sku, label, qty in receipts:
        r = await app_client.post("/api/v1/stock/receipts", json={
            "sku": sku, "warehouse": wh[label], "quantity": qty, "reason": "opening"})
        assert r.status_code == 201, r.text
    # SH has the highest priority but no B; GZ outranks CD and holds both.
    order = await place(app_client, [(a, 1), (b, 1)])
    assert order["warehouse"] == wh["GZ"]
    # An order SH can serve alone goes to SH.
    assert (await place(app_client, [(a, 1)]))["warehouse"] == wh["SH"]


async def test_the_catalogue_price_is_used_unless_the_line_names_its_own(app_client):
    cat = await seed_catalogue(app_client, {"A": 10}, price=1999)
    a = cat["skus"]["A"]
    default = await place(app_client, [(a, 2)])
    assert default["amounts"]["subtotal"] == 3998
    priced = order_body([(a, 1)])
    priced["lines"][0]["unit_price"] = 1500
    r = await app_client.post(ORDERS, json=priced)
    assert r.status_code == 201, r.text
    assert r.json()["amounts"]["total"] == 1500


# --- idempotency ----------------------------------------------------------------------------


async def test_repeating_a_request_with_the_same_idempotency_key_returns_the_original(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    key = ref("IDEM")
    body = order_body([(a, 2)])
    first = await app_client.post(ORDERS, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    before = await db_state(app_client)
    again = await app_client.post(ORDERS, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200, again.text
    assert again.json()["number"] == first.json()["number"]
    assert again.headers["location"] == first.headers["location"]
    assert await db_state(app_client) == before
    assert (await stock_row(app_client, a))["reserved"] == 2


async def test_reusing_an_idempotency_key_with_another_body_is_a_conflict(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    key = ref("IDEM")
    first = await app_client.post(ORDERS, json=order_body([(a, 2)]),
                                  headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    body = await refused(app_client, "POST", ORDERS, 409, "IDEMPOTENCY_CONFLICT",
                         json=order_body([(a, 3)]), headers={"Idempotency-Key": key})
    assert body["params"]["number"] == first.json()["number"]


async def test_a_different_idempotency_key_places_a_second_order(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    body = order_body([(a, 1)])
    one = await app_client.post(ORDERS, json=body, headers={"Idempotency-Key": ref("K")})
    two = await app_client.post(ORDERS, json=body, headers={"Idempotency-Key": ref("K")})
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["number"] != two.json()["number"]
    assert (await stock_row(app_client, a))["reserved"] == 2


async def test_the_same_channel_order_sent_twice_returns_the_original(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    ext = ref("TB")
    first = await app_client.post(ORDERS, json=order_body([(a, 2)], channel="taobao",
                                                          external_id=ext))
    assert first.status_code == 201, first.text
    before = await db_state(app_client)
    # A shop resends its order, here with a changed note: still the same channel order.
    again = await app_client.post(ORDERS, json=order_body([(a, 2)], channel="taobao",
                                                          external_id=ext, notes="resent"))
    assert again.status_code == 200, again.text
    assert again.json()["number"] == first.json()["number"]
    assert await db_state(app_client) == before


async def test_the_same_external_id_in_another_channel_is_another_order(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    ext = ref("EXT")
    one = await place(app_client, [(a, 1)], channel="taobao", external_id=ext)
    two = await place(app_client, [(a, 1)], channel="jd", external_id=ext)
    assert one["number"] != two["number"]
    assert (one["external_id"], two["external_id"]) == (ext, ext)


async def test_a_refused_request_does_not_use_up_its_idempotency_key(app_client):
    cat = await seed_catalogue(app_client, {"A": 1})
    a = cat["skus"]["A"]
    key = ref("IDEM")
    await refused(app_client, "POST", ORDERS, 409, "INSUFFICIENT_STOCK",
                  json=order_body([(a, 2)]), headers={"Idempotency-Key": key})
    r = await app_client.post(ORDERS, json=order_body([(a, 1)]), headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text


# --- refusals: nothing changes --------------------------------------------------------------


async def test_malformed_json_is_refused_with_400(app_client):
    await refused(app_client, "POST", ORDERS, 400, "MALFORMED_JSON",
                  content=b'{"channel": "api", "lines": [', headers={
                      "Content-Type": "application/json"})


async def test_a_body_that_is_not_an_object_is_refused(app_client):
    body = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=[1, 2])
    assert body["errors"]


async def test_wrong_types_are_refused_naming_each_field(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)])
    body["lines"][0]["quantity"] = "two"
    body["shipping_fee"] = [1]
    body["customer"]["name"] = 42
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    locs = error_locs(problem)
    assert locs["lines.0.quantity"] == "int_type"
    assert locs["shipping_fee"] == "int_type"
    assert locs["customer.name"] == "string_type"


async def test_a_missing_required_field_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)])
    del body["shipping_address"]
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {"shipping_address": "missing"}


async def test_an_unknown_field_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)], discount_code="X")
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {"discount_code": "extra_forbidden"}


async def test_zero_and_negative_quantities_are_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 10})
    a, b = cat["skus"]["A"], cat["skus"]["B"]
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                            json=order_body([(a, 0), (b, -3)]))
    assert error_locs(problem) == {"lines.0.quantity": "out_of_range",
                                   "lines.1.quantity": "out_of_range"}


async def test_an_order_without_lines_is_refused(app_client):
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                            json=order_body([]))
    assert "lines" in error_locs(problem)


async def test_an_unknown_sku_is_refused_naming_the_line(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    ghost = ref("GHOST")
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                            json=order_body([(cat["skus"]["A"], 1), (ghost, 1)]))
    assert error_locs(problem) == {"lines.1.sku": "unknown_sku"}


async def test_an_inactive_product_cannot_be_ordered(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    r = await app_client.patch(f"/api/v1/products/{a}", json={"active": False})
    assert r.status_code == 200, r.text
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                            json=order_body([(a, 1)]))
    assert error_locs(problem) == {"lines.0.sku": "unknown_sku"}


async def test_a_total_that_does_not_add_up_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 2)], shipping_fee=500, total=2000)
    problem = await refused(app_client, "POST", ORDERS, 422, "AMOUNTS_INCONSISTENT", json=body)
    assert error_locs(problem) == {"total": "mismatch"}
    assert problem["params"]["expected_total"] == 2500
    assert "2500" in problem["detail"]


async def test_a_subtotal_that_does_not_match_the_lines_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 2)], subtotal=1000)
    problem = await refused(app_client, "POST", ORDERS, 422, "AMOUNTS_INCONSISTENT", json=body)
    assert error_locs(problem) == {"subtotal": "mismatch"}


async def test_a_discount_larger_than_the_order_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)], discount=5000)
    problem = await refused(app_client, "POST", ORDERS, 422, "AMOUNTS_INCONSISTENT", json=body)
    assert error_locs(problem) == {"discount": "exceeds_total"}


async def test_negative_fees_and_prices_are_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)], shipping_fee=-1, tax=-5)
    body["lines"][0]["unit_price"] = -100
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {"shipping_fee": "negative", "tax": "negative",
                                   "lines.0.unit_price": "negative"}


async def test_amounts_too_large_to_store_are_refused_not_crashed_on(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)])
    body["lines"][0]["unit_price"] = 10**19
    await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                  json=order_body([(cat["skus"]["A"], 1)], shipping_fee=2**63))


async def test_oversized_custom_fields_are_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    big = {"blob": "字" * 2000}  # 6,000 bytes of UTF-8, over the 4 KiB bound
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                            json=order_body([(a, 1)], custom_fields=big))
    assert error_locs(problem) == {"custom_fields": "too_large"}
    many = {f"k{i}": i for i in range(51)}
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                            json=order_body([(a, 1)], custom_fields=many))
    assert error_locs(problem) == {"custom_fields": "too_many_keys"}


async def test_custom_fields_just_under_the_bound_are_kept(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    fields = {"blob": "x" * (4096 - len(json.dumps({"blob": ""})))}
    order = await place(app_client, [(cat["skus"]["A"], 1)], custom_fields=fields)
    assert order["custom_fields"] == fields


async def test_bad_phone_postcode_tag_currency_and_payment_method_are_each_named(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)], tags=["ok", "not ok!"], currency="XYZ",
                      payment_method="barter")
    body["customer"]["phone"] = "12345"
    body["shipping_address"]["postcode"] = "2001"
    body["shipping_address"]["street"] = "   "
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {
        "customer.phone": "invalid_phone", "shipping_address.postcode": "invalid_postcode",
        "shipping_address.street": "required", "tags.1": "invalid_tag",
        "currency": "unknown_currency", "payment_method": "unknown_payment_method"}


async def test_a_lowercase_country_code_is_understood(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)])
    body["shipping_address"]["country"] = "cn"
    r = await app_client.post(ORDERS, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["shipping_address"]["country"] == "CN"
    assert r.json()["shipping_address"]["phone"] == "+8613800138000"


async def test_a_country_that_is_not_a_two_letter_code_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)])
    body["shipping_address"]["country"] = "中国"
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert list(error_locs(problem)) == ["shipping_address.country"]


async def test_a_delivery_promise_before_the_ship_by_date_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)], ship_by="2026-11-13T00:00:00Z",
                      deliver_by="2026-11-12T00:00:00Z")
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {"deliver_by": "before_ship_by"}


async def test_a_time_without_a_timezone_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)], placed_at="2026-11-11T09:00:00")
    problem = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {"placed_at": "timezone_aware"}


async def test_insufficient_stock_is_refused_naming_only_the_short_skus(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 1, "C": 0})
    a, b, c = cat["skus"]["A"], cat["skus"]["B"], cat["skus"]["C"]
    problem = await refused(app_client, "POST", ORDERS, 409, "INSUFFICIENT_STOCK",
                            json=order_body([(a, 2), (b, 3), (c, 1)]))
    short = {line["sku"]: line for line in problem["params"]["lines"]}
    assert set(short) == {b, c}
    assert short[b] == {"sku": b, "requested": 3, "available": 1}
    assert b in problem["detail"] and c in problem["detail"] and a not in problem["detail"]


async def test_an_order_that_takes_the_last_unit_succeeds_and_the_next_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 3})
    a = cat["skus"]["A"]
    await place(app_client, [(a, 3)])
    row = await stock_row(app_client, a)
    assert (row["on_hand"], row["reserved"], row["available"]) == (3, 3, 0)
    await refused(app_client, "POST", ORDERS, 409, "INSUFFICIENT_STOCK",
                  json=order_body([(a, 1)]))


async def test_an_overlong_idempotency_key_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 3})
    await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED",
                  json=order_body([(cat["skus"]["A"], 1)]), headers={"Idempotency-Key": "k" * 129})


async def test_every_refusal_is_answered_as_a_problem_document(app_client):
    body = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json={})
    assert set(body) >= {"type", "title", "status", "code", "detail", "instance", "errors"}
    assert body["type"] == "https://dingdan.dev/problems/validation-failed"
    assert body["instance"] == ORDERS
    r = await app_client.post(ORDERS, json={})
    assert r.headers["content-language"] == "en"


async def test_a_retry_with_other_spacing_and_key_order_is_the_same_request(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 1)])
    key = ref("K")
    first = await app_client.post(ORDERS, json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2, ensure_ascii=False)
    again = await app_client.post(ORDERS, content=reordered.encode(), headers={
        "Idempotency-Key": key, "Content-Type": "application/json"})
    assert again.status_code == 200, again.text
    assert again.json()["number"] == first.json()["number"]
