"""Bad input from the hardening probe (issue 15, items 6, 7, 8 and 18): each request is refused
with a 4xx problem document and changes nothing — never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from api_support import PROBLEM, assert_problem, error_locs, refused

from conftest import ref
from helpers import order_body, seed_catalogue

API = "/api/v1"
HUGE_ID = "9" * 25  # past bigint


# --- 6. NUL bytes ---------------------------------------------------------------------------

async def test_nul_in_a_json_text_field_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    body = order_body([(cat["skus"]["A"], 1)])
    body["customer"]["name"] = "张\x00伟"
    body["notes"] = "a\x00b"
    problem = await refused(app_client, "POST", f"{API}/orders", 422, "VALIDATION_FAILED",
                            json=body)
    assert error_locs(problem) == {"customer.name": "control_character",
                                   "notes": "control_character"}
    await refused(app_client, "POST", f"{API}/products", 422, "VALIDATION_FAILED",
                  json={"sku": ref("P"), "name": "a\x00", "price": 1})
    await refused(app_client, "POST", f"{API}/orders", 422, "VALIDATION_FAILED",
                  json=order_body([(cat["skus"]["A"], 1)], custom_fields={"k": "v\x00"}))


@pytest.mark.parametrize("url", [f"{API}/orders?q=%00", f"{API}/orders?q=a%00b",
                                 f"{API}/products?q=%01", f"{API}/orders/DD%00",
                                 f"{API}/products/A%00B", "/orders?q=%00"])
async def test_nul_in_a_path_or_query_is_refused(app_client, url):
    await refused(app_client, "GET", url, 400, "INVALID_TEXT")


async def test_nul_in_the_sign_in_form_is_a_400_not_a_500(app_client):
    anonymous = app_client.__class__(transport=app_client._transport,
                                     base_url="http://dingdan.test")
    async with anonymous:
        page = await anonymous.get("/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
        assert token
        before = page  # noqa: F841 (the form has been fetched: the CSRF cookie is set)
        r = await anonymous.post("/login", data={"login": "a\x00b", "password": "x",
                                                 "csrftoken": token.group(1)})
    assert_problem(r, 400, "INVALID_TEXT")


# --- 7. integers past their column ---------------------------------------------------------

@pytest.mark.parametrize(("method", "url"), [
    ("POST", f"{API}/users/{HUGE_ID}/deactivate"), ("POST", f"{API}/users/{HUGE_ID}/activate"),
    ("GET", f"{API}/users/{HUGE_ID}"), ("PATCH", f"{API}/users/{HUGE_ID}"),
    ("POST", f"{API}/tokens/{HUGE_ID}/revoke"), ("GET", f"{API}/webhooks/{HUGE_ID}"),
    ("POST", f"{API}/dead-letters/{HUGE_ID}/replay"),
    ("POST", f"{API}/alerts/{HUGE_ID}/acknowledge"),
    ("GET", f"{API}/tokens?user_id={HUGE_ID}"), ("GET", f"{API}/audit?user_id={HUGE_ID}"),
    ("GET", f"{API}/dead-letters?before_id={HUGE_ID}"),
    ("GET", f"{API}/alerts?before_id={HUGE_ID}"),
])
async def test_an_id_beyond_bigint_is_refused(app_client, method, url):
    await refused(app_client, method, url, 422, "VALIDATION_FAILED",
                  json={} if method in ("PATCH",) else None)


@pytest.mark.parametrize("quantity", [2**63, 2**64, 10**30])
async def test_a_line_quantity_beyond_64_bits_is_a_validation_error(app_client, quantity):
    cat = await seed_catalogue(app_client, {"A": 5})
    problem = await refused(app_client, "POST", f"{API}/orders", 422, "VALIDATION_FAILED",
                            json=order_body([(cat["skus"]["A"], quantity)]))
    assert error_locs(problem) == {"lines.0.quantity": "out_of_range"}


@pytest.mark.parametrize("kind", ["receipts", "adjustments"])
async def test_stock_past_a_32_bit_count_is_refused(app_client, kind):
    cat = await seed_catalogue(app_client, {"A": 10})
    move = {"sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "reason": "count"}
    problem = await refused(app_client, "POST", f"{API}/stock/{kind}", 422, "VALIDATION_FAILED",
                            json={**move, "quantity": 2**31})
    assert error_locs(problem) == {"quantity": "out_of_range"}
    problem = await refused(app_client, "POST", f"{API}/stock/{kind}", 422, "VALIDATION_FAILED",
                            json={**move, "quantity": 2**31 - 1})
    assert error_locs(problem) == {"quantity": "too_large"}
    r = await app_client.post(f"{API}/stock/{kind}", json={**move, "quantity": 2**31 - 11})
    assert r.status_code == 201 and r.json()["on_hand"] == 2**31 - 1, r.text


async def test_a_first_receipt_of_the_most_a_warehouse_holds_is_kept(app_client):
    cat = await seed_catalogue(app_client, {"A": 0})
    r = await app_client.post(f"{API}/stock/receipts", json={
        "sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "reason": "count",
        "quantity": 2**31 - 1})
    assert r.status_code == 201 and r.json()["on_hand"] == 2**31 - 1, r.text


@pytest.mark.parametrize("minutes", [2**31, 2**40, 366 * 24 * 60 + 1])
async def test_an_sla_limit_past_a_year_is_refused(app_client, minutes):
    body = {"minutes": minutes, "working_time": False, "warn_minutes": 10, "role": "warehouse"}
    problem = await refused(app_client, "PUT", f"{API}/sla/policies/ship", 422,
                            "VALIDATION_FAILED", json=body)
    assert set(error_locs(problem)) == {"minutes"}


# --- 8. null for a field a person always has -------------------------------------------------

@pytest.mark.parametrize("field", ["name", "roles", "warehouses"])
async def test_null_for_a_person_s_required_field_is_refused(app_client, field):
    r = await app_client.post(f"{API}/users", json={"name": "王芳",
                                                    "email": f"{ref().lower()}@example.com"})
    assert r.status_code == 201, r.text
    problem = await refused(app_client, "PATCH", f"{API}/users/{r.json()['id']}", 422,
                            "VALIDATION_FAILED", json={field: None})
    assert error_locs(problem) == {field: "not_null"}


# --- 18. loose input -------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "loc", "code"), [
    ({"quantity": "12"}, "lines.0.quantity", "int_type"),
    ({"quantity": True}, "lines.0.quantity", "int_type"),
    ({"quantity": 2.0}, "lines.0.quantity", "int_type"),
    ({"shipping_fee": True}, "shipping_fee", "int_type"),
    ({"ship_by": 7}, "ship_by", "datetime_type"),
    ({"ship_by": "7"}, "ship_by", "datetime_type"),
    ({"customer": {"name": ""}}, "customer.name", "required"),
    ({"quantity": 0}, "lines.0.quantity", "out_of_range"),
])
async def test_numbers_dates_and_required_text_are_not_coerced(app_client, change, loc, code):
    cat = await seed_catalogue(app_client, {"A": 50})
    body = order_body([(cat["skus"]["A"], 1)])
    if "quantity" in change:
        body["lines"][0]["quantity"] = change["quantity"]
    elif "customer" in change:
        body["customer"]["name"] = ""
    else:
        body.update(change)
    problem = await refused(app_client, "POST", f"{API}/orders", 422, "VALIDATION_FAILED",
                            json=body)
    assert error_locs(problem) == {loc: code}


@pytest.mark.parametrize("sku", ['A"B', "A B", "A'B", " ", "<b>"])
async def test_a_sku_with_quotes_or_spaces_is_refused(app_client, sku):
    problem = await refused(app_client, "POST", f"{API}/products", 422, "VALIDATION_FAILED",
                            json={"sku": sku, "name": "杯子", "price": 100})
    assert set(error_locs(problem)) == {"sku"}


async def test_the_openapi_document_says_what_the_rules_accept(app_client):
    doc = (await app_client.get(f"{API}/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    quantity = schemas["LineIn"]["properties"]["quantity"]
    assert (quantity["minimum"], quantity["maximum"]) == (1, 100_000)
    assert schemas["LineIn"]["properties"]["sku"]["pattern"]
    name = schemas["CustomerIn"]["properties"]["name"]
    assert name["minLength"] == 1 and name["pattern"] == r"^[^\x00-\x1f\x7f]*$"
    assert schemas["NoteIn"]["properties"]["note"]["minLength"] == 1
    assert schemas["PolicyIn"]["properties"]["minutes"]["maximum"] == 366 * 24 * 60
    assert schemas["StockMoveIn"]["properties"]["quantity"]["maximum"] == 2**31 - 1
    deactivate = doc["paths"][f"{API}/users/{{user_id}}/deactivate"]["post"]
    user_id = next(p for p in deactivate["parameters"] if p["name"] == "user_id")
    assert user_id["schema"]["maximum"] == 2**63 - 1


async def test_a_wrong_method_answers_405_with_allow(app_client):
    r = await app_client.delete(f"{API}/orders")
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")
    assert r.headers["content-type"].startswith(PROBLEM)
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
