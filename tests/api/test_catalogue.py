"""Products and warehouses: create, read, list, update with optimistic concurrency."""

from __future__ import annotations

import pytest
from api_support import error_locs, place, refused

from conftest import ref
from helpers import order_body, seed_catalogue

PRODUCTS = "/api/v1/products"
WAREHOUSES = "/api/v1/warehouses"


async def new_product(client, **fields):
    body = {"sku": ref("P"), "name": "保温杯 500ml", "price": 5900, **fields}
    r = await client.post(PRODUCTS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def new_warehouse(client, **fields):
    body = {"code": ref("WH"), "name": "上海仓", "region": "上海", **fields}
    r = await client.post(WAREHOUSES, json=body)
    assert r.status_code == 201, r.text
    return r.json()


# --- products -------------------------------------------------------------------------------


async def test_a_product_is_created_with_every_field(app_client):
    sku, barcode = ref("P"), ref("690")
    product = await new_product(app_client, sku=sku, barcode=barcode, currency="CNY",
                                weight_g=350, length_mm=70, width_mm=70, height_mm=220)
    assert product == {"sku": sku, "name": "保温杯 500ml", "price": 5900, "currency": "CNY",
                       "barcode": barcode, "weight_g": 350, "length_mm": 70, "width_mm": 70,
                       "height_mm": 220, "active": True, "version": 1}
    r = await app_client.get(f"{PRODUCTS}/{sku}")
    assert r.status_code == 200 and r.json() == product


async def test_an_unknown_product_is_not_found(app_client):
    body = await refused(app_client, "GET", f"{PRODUCTS}/NO-SUCH-SKU", 404, "NOT_FOUND")
    assert body["params"] == {"kind": "product", "key": "NO-SUCH-SKU"}


async def test_a_taken_sku_is_refused(app_client):
    product = await new_product(app_client)
    body = await refused(app_client, "POST", PRODUCTS, 409, "ALREADY_EXISTS",
                         json={"sku": product["sku"], "name": "另一个", "price": 1})
    assert body["params"] == {"field": "sku", "value": product["sku"]}


@pytest.mark.parametrize(("fields", "loc", "code"), [
    ({"price": -1}, "price", "negative"),
    ({"price": "cheap"}, "price", "int_type"),
    ({"price": 1.5}, "price", "int_type"),
    ({"currency": "ABC"}, "currency", "unknown_currency"),
    ({"weight_g": 0}, "weight_g", "out_of_range"),
    ({"sku": ""}, "sku", "required"),
    ({"name": "   "}, "name", "required"),
    ({"colour": "red"}, "colour", "extra_forbidden"),
])
async def test_a_bad_product_is_refused_naming_the_field(app_client, fields, loc, code):
    body = {"sku": ref("P"), "name": "杯子", "price": 100, **fields}
    problem = await refused(app_client, "POST", PRODUCTS, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {loc: code}


async def test_a_price_too_large_to_store_is_refused(app_client):
    await refused(app_client, "POST", PRODUCTS, 422, "VALIDATION_FAILED",
                  json={"sku": ref("P"), "name": "金条", "price": 10**19})


async def test_products_are_listed_by_sku_and_can_be_searched(app_client):
    stem = ref("LIST")
    made = [await new_product(app_client, sku=f"{stem}-{i}", name=f"商品 {i}")
            for i in range(3)]
    r = await app_client.get(PRODUCTS, params={"q": stem})
    assert r.status_code == 200, r.text
    assert [p["sku"] for p in r.json()] == [p["sku"] for p in made]
    # By barcode, exactly.
    coded = await new_product(app_client, barcode=ref("69"))
    r = await app_client.get(PRODUCTS, params={"q": coded["barcode"]})
    assert [p["sku"] for p in r.json()] == [coded["sku"]]


async def test_the_product_list_pages_by_the_last_sku_seen(app_client):
    stem = ref("PAGE")
    skus = [(await new_product(app_client, sku=f"{stem}-{i}"))["sku"] for i in range(5)]
    first = (await app_client.get(PRODUCTS, params={"q": stem, "limit": 2})).json()
    assert [p["sku"] for p in first] == skus[:2]
    rest = (await app_client.get(PRODUCTS, params={"q": stem, "after": skus[1]})).json()
    assert [p["sku"] for p in rest] == skus[2:]


async def test_the_product_list_filters_on_active(app_client):
    stem = ref("ACT")
    on = await new_product(app_client, sku=f"{stem}-on")
    off = await new_product(app_client, sku=f"{stem}-off", active=False)
    active = (await app_client.get(PRODUCTS, params={"q": stem, "active": True})).json()
    inactive = (await app_client.get(PRODUCTS, params={"q": stem, "active": "false"})).json()
    assert [p["sku"] for p in active] == [on["sku"]]
    assert [p["sku"] for p in inactive] == [off["sku"]]


async def test_a_product_list_limit_out_of_range_is_refused(app_client):
    await refused(app_client, "GET", PRODUCTS, 422, "VALIDATION_FAILED", params={"limit": 0})


async def test_updating_a_product_changes_only_the_given_fields_and_bumps_the_version(
        app_client):
    product = await new_product(app_client, weight_g=100)
    r = await app_client.patch(f"{PRODUCTS}/{product['sku']}",
                               json={"price": 4900, "expected_version": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {**product, "price": 4900, "version": 2}
    assert (await app_client.get(f"{PRODUCTS}/{product['sku']}")).json()["price"] == 4900


async def test_updating_a_product_with_a_stale_version_is_a_conflict(app_client):
    product = await new_product(app_client)
    r = await app_client.patch(f"{PRODUCTS}/{product['sku']}", json={"name": "新名字"})
    assert r.status_code == 200 and r.json()["version"] == 2
    await refused(app_client, "PATCH", f"{PRODUCTS}/{product['sku']}", 409,
                  "VERSION_CONFLICT", json={"price": 1, "expected_version": 1})


async def test_updating_an_unknown_product_is_not_found(app_client):
    await refused(app_client, "PATCH", f"{PRODUCTS}/NO-SUCH-SKU", 404, "NOT_FOUND",
                  json={"price": 1})


@pytest.mark.parametrize(("fields", "loc"), [
    ({"price": -5}, "price"),
    ({"name": None}, "name"),
    ({"price": None}, "price"),
    ({"currency": None}, "currency"),
    ({"active": None}, "active"),
    ({"sku": "RENAMED"}, "sku"),
])
async def test_a_bad_product_update_is_refused(app_client, fields, loc):
    product = await new_product(app_client)
    problem = await refused(app_client, "PATCH", f"{PRODUCTS}/{product['sku']}", 422,
                            "VALIDATION_FAILED", json=fields)
    assert list(error_locs(problem)) == [loc]


# --- warehouses -----------------------------------------------------------------------------


async def test_a_warehouse_is_created_and_read_back(app_client):
    code = ref("GZ")
    wh = await new_warehouse(app_client, code=code, name="广州仓", region="广东",
                             city="广州市", address="白云区 1 号", priority=7)
    assert wh == {"code": code, "name": "广州仓", "region": "广东", "city": "广州市",
                  "address": "白云区 1 号", "priority": 7, "active": True, "version": 1}
    r = await app_client.get(f"{WAREHOUSES}/{code}")
    assert r.status_code == 200 and r.json() == wh


async def test_warehouses_are_listed_highest_priority_first(app_client):
    low = await new_warehouse(app_client, priority=-1000)
    high = await new_warehouse(app_client, priority=1000)
    r = await app_client.get(WAREHOUSES)
    assert r.status_code == 200, r.text
    codes = [w["code"] for w in r.json()]
    assert codes.index(high["code"]) < codes.index(low["code"])
    priorities = [w["priority"] for w in r.json()]
    assert priorities == sorted(priorities, reverse=True)


async def test_an_unknown_warehouse_is_not_found(app_client):
    await refused(app_client, "GET", f"{WAREHOUSES}/NOPE", 404, "NOT_FOUND")


async def test_a_taken_warehouse_code_is_refused(app_client):
    wh = await new_warehouse(app_client)
    await refused(app_client, "POST", WAREHOUSES, 409, "ALREADY_EXISTS",
                  json={"code": wh["code"], "name": "x", "region": "x"})


@pytest.mark.parametrize(("fields", "loc", "code"), [
    ({"code": "has space"}, "code", "string_pattern_mismatch"),
    ({"region": ""}, "region", "required"),
    ({"priority": "high"}, "priority", "int_type"),
])
async def test_a_bad_warehouse_is_refused_naming_the_field(app_client, fields, loc, code):
    body = {"code": ref("WH"), "name": "仓", "region": "上海", **fields}
    problem = await refused(app_client, "POST", WAREHOUSES, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {loc: code}


async def test_updating_a_warehouse_bumps_its_version(app_client):
    wh = await new_warehouse(app_client)
    r = await app_client.patch(f"{WAREHOUSES}/{wh['code']}",
                               json={"priority": 3, "active": False, "expected_version": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {**wh, "priority": 3, "active": False, "version": 2}


async def test_updating_a_warehouse_with_a_stale_version_is_a_conflict(app_client):
    wh = await new_warehouse(app_client)
    await refused(app_client, "PATCH", f"{WAREHOUSES}/{wh['code']}", 409, "VERSION_CONFLICT",
                  json={"name": "新", "expected_version": 7})


async def test_updating_an_unknown_warehouse_is_not_found(app_client):
    await refused(app_client, "PATCH", f"{WAREHOUSES}/NOPE", 404, "NOT_FOUND",
                  json={"name": "新"})


@pytest.mark.parametrize(("fields", "loc"), [
    ({"name": None}, "name"),
    ({"region": None}, "region"),
    ({"priority": None}, "priority"),
    ({"active": None}, "active"),
    ({"priority": 2**40}, "priority"),
])
async def test_a_bad_warehouse_update_is_refused(app_client, fields, loc):
    wh = await new_warehouse(app_client)
    problem = await refused(app_client, "PATCH", f"{WAREHOUSES}/{wh['code']}", 422,
                            "VALIDATION_FAILED", json=fields)
    assert list(error_locs(problem)) == [loc]


async def test_an_inactive_warehouse_serves_no_orders(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    code = cat["warehouses"]["SH"]
    r = await app_client.patch(f"{WAREHOUSES}/{code}", json={"active": False})
    assert r.status_code == 200, r.text
    await refused(app_client, "POST", "/api/v1/orders", 409, "INSUFFICIENT_STOCK",
                  json=order_body([(cat["skus"]["A"], 1)]))
    r = await app_client.patch(f"{WAREHOUSES}/{code}", json={"active": True})
    assert (await place(app_client, [(cat["skus"]["A"], 1)]))["warehouse"] == code
