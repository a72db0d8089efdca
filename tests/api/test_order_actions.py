"""The lifecycle action endpoints, the timeline, notes, and contact and address changes."""

from __future__ import annotations

import pytest
from api_support import (
    FORWARD,
    FORWARD_STATUSES,
    db_state,
    error_locs,
    order_in,
    refused,
    stock_row,
)
from sqlalchemy import select

from dingdan.store.tables import outbox

ORDERS = "/api/v1/orders"


async def events(client, number):
    r = await client.get(f"{ORDERS}/{number}/events")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(("step", "expected"), list(zip(FORWARD, FORWARD_STATUSES, strict=True)),
                         ids=[p for p, _ in FORWARD])
async def test_each_forward_action_moves_the_order_and_records_one_event(app_client, step,
                                                                         expected):
    path, body = step
    index = FORWARD_STATUSES.index(expected)
    before_status = "pending_payment" if index == 0 else FORWARD_STATUSES[index - 1]
    order, _ = await order_in(app_client, before_status)
    n = order["number"]
    timeline = await events(app_client, n)
    r = await app_client.post(f"{ORDERS}/{n}/{path}", json=body)
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["status"] == expected
    assert after["version"] == order["version"] + 1
    new = (await events(app_client, n))[len(timeline):]
    assert len(new) == 1
    assert (new[0]["from_status"], new[0]["to_status"]) == (before_status, expected)
    assert new[0]["type"] == "order." + {
        "pay": "paid", "submit-review": "submitted_for_review", "approve": "approved",
        "allocate": "allocated", "pick": "picking_started", "pack": "packed",
        "ship": "shipped", "in-transit": "in_transit", "out-for-delivery": "out_for_delivery",
        "deliver": "delivered", "complete": "completed"}[path]
    assert new[0]["actor"] == "token:tests" and new[0]["source"] == "api"


async def test_paying_records_the_payment_reference(app_client):
    order, _ = await order_in(app_client, "paid")
    assert order["payment_status"] == "paid"
    assert order["payment_reference"] == "ALI-2026-0001"
    assert order["paid_at"] == "2026-11-11T09:00:00Z"
    assert (await events(app_client, order["number"]))[-1]["data"] == {
        "payment_reference": "ALI-2026-0001"}


async def test_shipping_consumes_the_reserved_stock_and_records_the_carrier(app_client):
    order, cat = await order_in(app_client, "packed", qty=3, stock_qty=10)
    sku = cat["skus"]["A"]
    row = await stock_row(app_client, sku)
    assert (row["on_hand"], row["reserved"]) == (10, 3)
    r = await app_client.post(f"{ORDERS}/{order['number']}/ship",
                              json={"carrier": "SF", "tracking_number": "SF998877"})
    assert r.status_code == 200, r.text
    shipped = r.json()
    assert (shipped["carrier"], shipped["tracking_number"]) == ("SF", "SF998877")
    assert shipped["fulfillment_status"] == "shipped" and shipped["shipped_at"]
    row = await stock_row(app_client, sku)
    assert (row["on_hand"], row["reserved"], row["available"]) == (7, 0, 7)
    moves = (await app_client.get("/api/v1/stock/movements", params={"sku": sku})).json()
    assert [(m["kind"], m["quantity"], m["on_hand_after"], m["reference"]) for m in moves] == [
        ("shipment", -3, 7, order["number"]), ("receipt", 10, 10, None)]


async def test_delivering_marks_the_order_delivered(app_client):
    order, _ = await order_in(app_client, "delivered")
    assert order["fulfillment_status"] == "delivered" and order["delivered_at"]
    assert order["allowed_actions"] == ["complete"]


async def test_a_shipped_order_can_go_straight_out_for_delivery_or_be_delivered(app_client):
    order, _ = await order_in(app_client, "shipped")
    r = await app_client.post(f"{ORDERS}/{order['number']}/out-for-delivery")
    assert r.status_code == 200 and r.json()["status"] == "out_for_delivery"
    other, _ = await order_in(app_client, "shipped")
    r = await app_client.post(f"{ORDERS}/{other['number']}/deliver")
    assert r.status_code == 200 and r.json()["status"] == "delivered"


@pytest.mark.parametrize("status", ["pending_payment", "paid", "pending_review", "approved",
                                    "allocated", "picking", "packed", "on_hold"])
async def test_cancel_releases_the_reserved_stock(app_client, status):
    order, cat = await order_in(app_client, status, qty=4, stock_qty=10)
    sku = cat["skus"]["A"]
    assert (await stock_row(app_client, sku))["reserved"] == 4
    r = await app_client.post(f"{ORDERS}/{order['number']}/cancel",
                              json={"reason": "customer asked"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["allowed_actions"] == []
    row = await stock_row(app_client, sku)
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 0, 10)
    last = (await events(app_client, order["number"]))[-1]
    assert (last["type"], last["from_status"], last["reason"]) == (
        "order.cancelled", status, "customer asked")


async def test_hold_and_release_return_the_order_to_where_it_was(app_client):
    order, _ = await order_in(app_client, "approved")
    n = order["number"]
    r = await app_client.post(f"{ORDERS}/{n}/hold", json={"reason": "fraud check"})
    assert r.status_code == 200 and r.json()["status"] == "on_hold"
    assert r.json()["status_label"] == "On hold"
    r = await app_client.post(f"{ORDERS}/{n}/release", json={"reason": "cleared"})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    held, released = (await events(app_client, n))[-2:]
    assert (held["type"], held["from_status"], held["to_status"], held["reason"]) == (
        "order.held", "approved", "on_hold", "fraud check")
    assert (released["type"], released["to_status"], released["reason"]) == (
        "order.released", "approved", "cleared")


async def test_a_cash_on_delivery_order_goes_to_review_unpaid(app_client):
    order, _ = await order_in(app_client, "pending_payment", payment_method="cod")
    r = await app_client.post(f"{ORDERS}/{order['number']}/submit-review")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["payment_status"]) == ("pending_review", "unpaid")


async def test_the_timeline_lists_every_change_oldest_first(app_client):
    order, _ = await order_in(app_client, "shipped")
    timeline = await events(app_client, order["number"])
    assert [e["type"] for e in timeline] == [
        "order.placed", "order.paid", "order.submitted_for_review", "order.approved",
        "order.allocated", "order.picking_started", "order.packed", "order.shipped"]
    placed = timeline[0]
    assert (placed["from_status"], placed["to_status"]) == (None, "pending_payment")
    assert placed["data"]["lines"][0]["quantity"] == 2
    assert len({e["event_id"] for e in timeline}) == len(timeline)
    shipped = timeline[-1]
    assert shipped["data"] == {"carrier": "SF", "tracking_number": "SF1234567890"}


async def test_the_timeline_of_an_unknown_order_is_not_found(app_client):
    await refused(app_client, "GET", f"{ORDERS}/DDNOPE/events", 404, "NOT_FOUND")


async def test_each_event_has_exactly_one_outbox_row(app_client):
    order, _ = await order_in(app_client, "allocated")
    timeline = await events(app_client, order["number"])
    assert len(timeline) == 5
    engine = app_client.app.state.uow.engine
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.event_id, outbox.c.type, outbox.c.payload)
                                   .where(outbox.c.order_number == order["number"]))).all()
        await conn.rollback()
    assert sorted((r.event_id, r.type) for r in rows) == sorted(
        (e["event_id"], e["type"]) for e in timeline)
    assert all(r.payload["order_number"] == order["number"] for r in rows)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "path", "body"), [
    ("pending_payment", "approve", None),
    ("pending_payment", "ship", {"carrier": "SF", "tracking_number": "SF1"}),
    ("pending_payment", "submit-review", None),  # not cash on delivery: pay first
    ("paid", "pay", {"payment_reference": "again"}),
    ("approved", "pick", None),
    ("on_hold", "approve", None),
    ("shipped", "cancel", {"reason": "too late"}),
    ("shipped", "hold", {"reason": "too late"}),
    ("delivered", "release", {"reason": "never held"}),
    ("completed", "deliver", None),
    ("cancelled", "pay", {"payment_reference": "late"}),
    ("cancelled", "cancel", {"reason": "twice"}),
])
async def test_an_action_not_allowed_from_the_status_is_an_illegal_transition(
        app_client, status, path, body):
    order, _ = await order_in(app_client, status)
    problem = await refused(app_client, "POST", f"{ORDERS}/{order['number']}/{path}", 409,
                            "ILLEGAL_TRANSITION", json=body)
    assert problem["params"]["status"] == status
    assert problem["params"]["action"] == path.replace("-", "_")


async def test_an_illegal_transition_says_which_action_and_status_in_english(app_client):
    order, _ = await order_in(app_client, "pending_payment")
    problem = await refused(app_client, "POST", f"{ORDERS}/{order['number']}/approve", 409,
                            "ILLEGAL_TRANSITION", json=None)
    assert problem["detail"] == ("Action 'approve' is not allowed when the order is "
                                 "'pending_payment'.")


@pytest.mark.parametrize("path", [p for p, _ in FORWARD] + ["hold", "release", "cancel"])
async def test_every_action_on_an_unknown_order_is_not_found(app_client, path):
    body = {"payment_reference": "X", "carrier": "SF", "tracking_number": "1",
            "reason": "r"}
    keys = {"pay": ["payment_reference"], "ship": ["carrier", "tracking_number"]}.get(
        path, ["reason"])
    await refused(app_client, "POST", f"{ORDERS}/DD000000ZZZZZZZ/{path}", 404, "NOT_FOUND",
                  json={k: body[k] for k in keys})


async def test_a_stale_expected_version_is_a_version_conflict(app_client):
    order, _ = await order_in(app_client, "paid")
    n, version = order["number"], order["version"]
    await refused(app_client, "POST", f"{ORDERS}/{n}/submit-review", 409, "VERSION_CONFLICT",
                  json={"expected_version": version - 1})
    r = await app_client.post(f"{ORDERS}/{n}/submit-review", json={"expected_version": version})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == version + 1


@pytest.mark.parametrize("path", ["hold", "release", "cancel"])
async def test_actions_that_need_a_reason_refuse_to_go_without_one(app_client, path):
    order, _ = await order_in(app_client, "on_hold" if path == "release" else "paid")
    for body in (None, {}, {"reason": "   "}):
        problem = await refused(app_client, "POST", f"{ORDERS}/{order['number']}/{path}", 422,
                                "VALIDATION_FAILED", json=body)
        assert error_locs(problem) == {"reason": "required"}


async def test_shipping_without_carrier_or_tracking_number_is_refused(app_client):
    order, _ = await order_in(app_client, "packed")
    url = f"{ORDERS}/{order['number']}/ship"
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED", json={})
    assert error_locs(problem) == {"carrier": "missing", "tracking_number": "missing"}
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED",
                            json={"carrier": " ", "tracking_number": ""})
    assert error_locs(problem) == {"carrier": "required", "tracking_number": "required"}


async def test_paying_without_a_payment_reference_is_refused(app_client):
    order, _ = await order_in(app_client, "pending_payment")
    url = f"{ORDERS}/{order['number']}/pay"
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED", json={})
    assert error_locs(problem) == {"payment_reference": "missing"}
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED",
                            json={"payment_reference": ""})
    assert error_locs(problem) == {"payment_reference": "required"}


async def test_an_action_body_with_wrong_types_is_refused(app_client):
    order, _ = await order_in(app_client, "paid")
    url = f"{ORDERS}/{order['number']}/hold"
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED",
                            json={"reason": 5, "expected_version": "latest"})
    assert error_locs(problem) == {"reason": "string_type", "expected_version": "int_type"}
    await refused(app_client, "POST", url, 400, "MALFORMED_JSON", content=b"{reason:",
                  headers={"Content-Type": "application/json"})


# --- notes ----------------------------------------------------------------------------------


async def test_a_note_is_added_to_the_timeline_without_changing_the_order(app_client):
    order, _ = await order_in(app_client, "paid")
    n = order["number"]
    r = await app_client.post(f"{ORDERS}/{n}/notes", json={"note": "客户来电：周末送货"})
    assert r.status_code == 201, r.text
    last = r.json()[-1]
    assert (last["type"], last["reason"], last["from_status"], last["to_status"]) == (
        "order.note_added", "客户来电：周末送货", None, None)
    after = (await app_client.get(f"{ORDERS}/{n}")).json()
    assert (after["status"], after["version"]) == ("paid", order["version"])


async def test_an_empty_note_is_refused(app_client):
    order, _ = await order_in(app_client, "paid")
    problem = await refused(app_client, "POST", f"{ORDERS}/{order['number']}/notes", 422,
                            "VALIDATION_FAILED", json={"note": "  "})
    assert error_locs(problem) == {"note": "required"}


async def test_a_note_on_an_unknown_order_is_not_found(app_client):
    await refused(app_client, "POST", f"{ORDERS}/DDNOPE/notes", 404, "NOT_FOUND",
                  json={"note": "hello"})


# --- contact and shipping address -----------------------------------------------------------

NEW_ADDRESS = {"recipient": "李娜", "phone": "+86 139 1234 5678", "province": "广东省",
               "city": "广州市", "district": "天河区", "street": "天河路 385 号",
               "postcode": "510620"}


async def test_changing_the_shipping_address_records_before_and_after(app_client):
    order, _ = await order_in(app_client, "approved")
    n = order["number"]
    r = await app_client.put(f"{ORDERS}/{n}/shipping-address", json={
        "shipping_address": NEW_ADDRESS, "reason": "customer moved",
        "expected_version": order["version"]})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["shipping_address"] == {**NEW_ADDRESS, "phone": "+8613912345678",
                                           "country": "CN"}
    assert changed["version"] == order["version"] + 1
    assert changed["status"] == "approved"
    event = (await events(app_client, n))[-1]
    assert (event["type"], event["reason"]) == ("order.address_changed", "customer moved")
    assert event["data"]["before"]["ship_province"] == "上海市"
    assert event["data"]["after"]["ship_province"] == "广东省"
    assert event["data"]["after"]["ship_phone"] == "+8613912345678"
    assert event["data"]["before"]["ship_street"] == "世纪大道 100 号"
    assert set(event["data"]["before"]) == set(event["data"]["after"])


async def test_an_address_change_that_changes_nothing_records_nothing(app_client):
    order, _ = await order_in(app_client, "paid")
    same = {**order["shipping_address"]}
    before = await db_state(app_client)
    r = await app_client.put(f"{ORDERS}/{order['number']}/shipping-address",
                             json={"shipping_address": same})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == order["version"]
    assert await db_state(app_client) == before


async def test_an_invalid_new_address_is_refused(app_client):
    order, _ = await order_in(app_client, "paid")
    bad = {**NEW_ADDRESS, "phone": "not a phone", "postcode": "51", "city": " "}
    problem = await refused(app_client, "PUT", f"{ORDERS}/{order['number']}/shipping-address",
                            422, "VALIDATION_FAILED", json={"shipping_address": bad})
    assert error_locs(problem) == {"shipping_address.phone": "invalid_phone",
                                   "shipping_address.postcode": "invalid_postcode",
                                   "shipping_address.city": "required"}


@pytest.mark.parametrize("status", ["picking", "shipped", "cancelled"])
async def test_the_address_cannot_change_once_picking_has_started(app_client, status):
    order, _ = await order_in(app_client, status)
    await refused(app_client, "PUT", f"{ORDERS}/{order['number']}/shipping-address", 409,
                  "ILLEGAL_TRANSITION", json={"shipping_address": NEW_ADDRESS})


async def test_an_address_change_with_a_stale_version_is_a_conflict(app_client):
    order, _ = await order_in(app_client, "paid")
    await refused(app_client, "PUT", f"{ORDERS}/{order['number']}/shipping-address", 409,
                  "VERSION_CONFLICT", json={"shipping_address": NEW_ADDRESS,
                                            "expected_version": order["version"] - 1})


async def test_an_address_change_on_an_unknown_order_is_not_found(app_client):
    await refused(app_client, "PUT", f"{ORDERS}/DDNOPE/shipping-address", 404, "NOT_FOUND",
                  json={"shipping_address": NEW_ADDRESS})


async def test_changing_the_contact_normalises_it_and_records_before_and_after(app_client):
    order, _ = await order_in(app_client, "pending_payment")
    n = order["number"]
    r = await app_client.put(f"{ORDERS}/{n}/contact", json={
        "customer": {"name": "王芳", "phone": "139 8765 4321", "email": "Wang.Fang@Example.com",
                     "company": "芳华贸易"}, "reason": "typo"})
    assert r.status_code == 200, r.text
    assert r.json()["customer"] == {"name": "王芳", "phone": "+8613987654321",
                                    "email": "wang.fang@example.com", "company": "芳华贸易"}
    event = (await events(app_client, n))[-1]
    assert event["type"] == "order.contact_changed"
    assert event["data"]["before"]["customer_name"] == "张伟"
    assert event["data"]["after"] == {"customer_name": "王芳", "customer_company": "芳华贸易",
                                      "customer_phone": "+8613987654321",
                                      "customer_email": "wang.fang@example.com"}


async def test_an_invalid_contact_is_refused(app_client):
    order, _ = await order_in(app_client, "paid")
    url = f"{ORDERS}/{order['number']}/contact"
    problem = await refused(app_client, "PUT", url, 422, "VALIDATION_FAILED",
                            json={"customer": {"name": "王芳", "phone": "123"}})
    assert error_locs(problem) == {"customer.phone": "invalid_phone"}
    problem = await refused(app_client, "PUT", url, 422, "VALIDATION_FAILED",
                            json={"customer": {"name": "王芳", "email": "not-an-email"}})
    assert list(error_locs(problem)) == ["customer.email"]
    problem = await refused(app_client, "PUT", url, 422, "VALIDATION_FAILED",
                            json={"customer": {"name": " "}})
    assert error_locs(problem) == {"customer.name": "required"}


async def test_the_contact_cannot_change_after_packing(app_client):
    order, _ = await order_in(app_client, "packed")
    await refused(app_client, "PUT", f"{ORDERS}/{order['number']}/contact", 409,
                  "ILLEGAL_TRANSITION", json={"customer": {"name": "王芳"}})


async def test_a_contact_change_with_a_stale_version_is_a_conflict(app_client):
    order, _ = await order_in(app_client, "paid")
    await refused(app_client, "PUT", f"{ORDERS}/{order['number']}/contact", 409,
                  "VERSION_CONFLICT", json={"customer": {"name": "王芳"},
                                            "expected_version": 1})


async def test_a_contact_change_on_an_unknown_order_is_not_found(app_client):
    await refused(app_client, "PUT", f"{ORDERS}/DDNOPE/contact", 404, "NOT_FOUND",
                  json={"customer": {"name": "王芳"}})

