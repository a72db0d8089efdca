"""Stock levels, receipts, adjustments and the append-only movement ledger."""

from __future__ import annotations

import pytest
from api_support import error_locs, order_in, place, refused, stock_row, walk

from conftest import ref
from helpers import seed_catalogue

STOCK = "/api/v1/stock"
RECEIPTS = "/api/v1/stock/receipts"
ADJUSTMENTS = "/api/v1/stock/adjustments"
MOVEMENTS = "/api/v1/stock/movements"


async def movements(client, sku):
    r = await client.get(MOVEMENTS, params={"sku": sku})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_receipt_creates_the_stock_row_and_a_ledger_entry(app_client):
    cat = await seed_catalogue(app_client, {"A": 0})
    sku, wh = cat["skus"]["A"], cat["warehouses"]["SH"]
    assert (await app_client.get(STOCK, params={"sku": sku})).json() == []
    r = await app_client.post(RECEIPTS, json={"sku": sku, "warehouse": wh, "quantity": 25,
                                              "reason": "PO-1001 到货", "reference": "PO-1001"})
    assert r.status_code == 201, r.text
    level = r.json()
    assert {k: level[k] for k in ("sku", "name", "warehouse_code", "on_hand", "reserved",
                                  "available")} == {
        "sku": sku, "name": "商品 A", "warehouse_code": wh, "on_hand": 25, "reserved": 0,
        "available": 25}
    [move] = await movements(app_client, sku)
    assert {k: move[k] for k in ("kind", "quantity", "on_hand_after", "reason", "reference",
                                 "actor")} == {
        "kind": "receipt", "quantity": 25, "on_hand_after": 25, "reason": "PO-1001 到货",
        "reference": "PO-1001", "actor": "token:tests"}


async def test_receipts_add_up(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    sku, wh = cat["skus"]["A"], cat["warehouses"]["SH"]
    r = await app_client.post(RECEIPTS, json={"sku": sku, "warehouse": wh, "quantity": 5,
                                              "reason": "top up"})
    assert r.status_code == 201 and r.json()["on_hand"] == 15


async def test_an_adjustment_changes_on_hand_either_way_with_its_reason(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    sku, wh = cat["skus"]["A"], cat["warehouses"]["SH"]
    r = await app_client.post(ADJUSTMENTS, json={"sku": sku, "warehouse": wh, "quantity": -3,
                                                 "reason": "破损"})
    assert r.status_code == 201 and r.json()["on_hand"] == 7
    r = await app_client.post(ADJUSTMENTS, json={"sku": sku, "warehouse": wh, "quantity": 1,
                                                 "reason": "盘点多出"})
    assert r.status_code == 201 and r.json()["on_hand"] == 8
    ledger = await movements(app_client, sku)
    assert [(m["kind"], m["quantity"], m["on_hand_after"], m["reason"]) for m in ledger] == [
        ("adjustment", 1, 8, "盘点多出"), ("adjustment", -3, 7, "破损"),
        ("receipt", 10, 10, "opening stock")]


async def test_an_adjustment_cannot_take_on_hand_below_what_is_reserved(app_client):
    _, cat = await order_in(app_client, "pending_payment", qty=6, stock_qty=10)
    sku, wh = cat["skus"]["A"], cat["warehouses"]["SH"]
    problem = await refused(app_client, "POST", ADJUSTMENTS, 422, "VALIDATION_FAILED",
                            json={"sku": sku, "warehouse": wh, "quantity": -5,
                                  "reason": "lost"})
    assert error_locs(problem) == {"quantity": "below_reserved"}
    r = await app_client.post(ADJUSTMENTS, json={"sku": sku, "warehouse": wh, "quantity": -4,
                                                 "reason": "lost"})
    assert r.status_code == 201, r.text
    assert (r.json()["on_hand"], r.json()["reserved"], r.json()["available"]) == (6, 6, 0)


async def test_a_negative_adjustment_where_there_is_no_stock_is_refused(app_client):
    cat = await seed_catalogue(app_client, {"A": 0})
    await refused(app_client, "POST", ADJUSTMENTS, 422, "VALIDATION_FAILED", json={
        "sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "quantity": -1,
        "reason": "count"})


@pytest.mark.parametrize(("url", "quantity"), [(RECEIPTS, 0), (RECEIPTS, -4), (ADJUSTMENTS, 0)])
async def test_zero_and_negative_quantities_are_refused_where_they_make_no_sense(
        app_client, url, quantity):
    cat = await seed_catalogue(app_client, {"A": 10})
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED", json={
        "sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "quantity": quantity,
        "reason": "x"})
    assert error_locs(problem) == {"quantity": "out_of_range"}


@pytest.mark.parametrize("url", [RECEIPTS, ADJUSTMENTS])
async def test_a_stock_change_needs_a_reason(app_client, url):
    cat = await seed_catalogue(app_client, {"A": 10})
    body = {"sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "quantity": 1}
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED", json=body)
    assert error_locs(problem) == {"reason": "missing"}
    problem = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED",
                            json={**body, "reason": "  "})
    assert error_locs(problem) == {"reason": "required"}


@pytest.mark.parametrize("url", [RECEIPTS, ADJUSTMENTS])
async def test_a_stock_change_for_an_unknown_sku_or_warehouse_is_not_found(app_client, url):
    cat = await seed_catalogue(app_client, {"A": 10})
    sku, wh = cat["skus"]["A"], cat["warehouses"]["SH"]
    body = await refused(app_client, "POST", url, 404, "NOT_FOUND", json={
        "sku": ref("GHOST"), "warehouse": wh, "quantity": 1, "reason": "x"})
    assert body["params"]["kind"] == "product"
    body = await refused(app_client, "POST", url, 404, "NOT_FOUND", json={
        "sku": sku, "warehouse": ref("NOWH"), "quantity": 1, "reason": "x"})
    assert body["params"]["kind"] == "warehouse"


@pytest.mark.parametrize("quantity", ["ten", 2.5, None, 2**40])
async def test_a_stock_change_with_a_bad_quantity_is_refused(app_client, quantity):
    cat = await seed_catalogue(app_client, {"A": 10})
    problem = await refused(app_client, "POST", RECEIPTS, 422, "VALIDATION_FAILED", json={
        "sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "quantity": quantity,
        "reason": "x"})
    assert list(error_locs(problem)) == ["quantity"]


async def test_a_malformed_receipt_is_refused_with_400(app_client):
    await refused(app_client, "POST", RECEIPTS, 400, "MALFORMED_JSON", content=b"{'sku': 1}",
                  headers={"Content-Type": "application/json"})


async def test_stock_levels_show_on_hand_reserved_and_available(app_client):
    _, cat = await order_in(app_client, "paid", qty=3, stock_qty=10)
    row = await stock_row(app_client, cat["skus"]["A"])
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 3, 7)
    assert row["warehouse_code"] == cat["warehouses"]["SH"]


async def test_stock_levels_filter_by_warehouse(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 4},
                               warehouses=(("SH", 10), ("CD", 5)))
    a, cd = cat["skus"]["A"], cat["warehouses"]["CD"]
    r = await app_client.post(RECEIPTS, json={"sku": a, "warehouse": cd, "quantity": 2,
                                              "reason": "transfer in"})
    assert r.status_code == 201
    rows = (await app_client.get(STOCK, params={"warehouse": cd})).json()
    assert [(x["sku"], x["on_hand"]) for x in rows] == [(a, 2)]
    rows = (await app_client.get(STOCK, params={"sku": a})).json()
    assert sorted((x["warehouse_code"], x["on_hand"]) for x in rows) == sorted(
        [(cat["warehouses"]["SH"], 10), (cd, 2)])


async def test_the_low_filter_lists_rows_at_or_below_the_threshold(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 11, "C": 3})
    wh = cat["warehouses"]["SH"]
    await place(app_client, [(cat["skus"]["B"], 1)])  # B: 11 on hand, 10 available
    rows = (await app_client.get(STOCK, params={"warehouse": wh, "low": True})).json()
    assert sorted(x["sku"] for x in rows) == sorted(
        [cat["skus"]["A"], cat["skus"]["B"], cat["skus"]["C"]])
    rows = (await app_client.get(STOCK, params={"warehouse": wh, "low": "true",
                                                "threshold": 5})).json()
    assert [x["sku"] for x in rows] == [cat["skus"]["C"]]
    rows = (await app_client.get(STOCK, params={"warehouse": wh, "low": False})).json()
    assert len(rows) == 3


async def test_stock_levels_of_an_unknown_warehouse_are_not_found(app_client):
    await refused(app_client, "GET", STOCK, 404, "NOT_FOUND", params={"warehouse": "NOPE"})


@pytest.mark.parametrize("params", [{"threshold": -1}, {"low": "maybe"},
                                    {"threshold": 2**70}])
async def test_bad_stock_level_parameters_are_refused(app_client, params):
    await refused(app_client, "GET", STOCK, 422, "VALIDATION_FAILED", params=params)


async def test_the_ledger_filters_by_warehouse_and_is_newest_first(app_client):
    cat = await seed_catalogue(app_client, {"A": 10}, warehouses=(("SH", 10), ("GZ", 5)))
    a = cat["skus"]["A"]
    r = await app_client.post(RECEIPTS, json={"sku": a, "warehouse": cat["warehouses"]["GZ"],
                                              "quantity": 4, "reason": "GZ in"})
    assert r.status_code == 201
    everything = await movements(app_client, a)
    assert [m["reason"] for m in everything] == ["GZ in", "opening stock"]
    gz_id = everything[0]["warehouse_id"]
    r = await app_client.get(MOVEMENTS, params={"sku": a, "warehouse_id": gz_id})
    assert [m["reason"] for m in r.json()] == ["GZ in"]
    r = await app_client.get(MOVEMENTS, params={"sku": a, "limit": 1})
    assert [m["reason"] for m in r.json()] == ["GZ in"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"warehouse_id": "SH"},
                                    {"warehouse_id": 2**70}])
async def test_bad_ledger_parameters_are_refused(app_client, params):
    await refused(app_client, "GET", MOVEMENTS, 422, "VALIDATION_FAILED", params=params)


async def test_cancelling_and_shipping_keep_reserved_within_on_hand(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    a = cat["skus"]["A"]
    first = await place(app_client, [(a, 3)])
    second = await place(app_client, [(a, 2)])
    row = await stock_row(app_client, a)
    assert (row["on_hand"], row["reserved"], row["available"]) == (5, 5, 0)
    r = await app_client.post(f"/api/v1/orders/{first['number']}/cancel",
                              json={"reason": "out of budget"})
    assert r.status_code == 200, r.text
    row = await stock_row(app_client, a)
    assert (row["on_hand"], row["reserved"], row["available"]) == (5, 2, 3)
    await walk(app_client, second["number"], "shipped")
    row = await stock_row(app_client, a)
    assert (row["on_hand"], row["reserved"], row["available"]) == (3, 0, 3)


async def test_warehouse_staff_see_only_their_warehouses_stock_and_movements(app_client,
                                                                            role_client):
    """docs/security.md: a person assigned warehouses sees only those warehouses' stock."""
    cat = await seed_catalogue(app_client, {"A": 10}, warehouses=(("SH", 10), ("GZ", 5)))
    a, sh, gz = cat["skus"]["A"], cat["warehouses"]["SH"], cat["warehouses"]["GZ"]
    r = await app_client.post(RECEIPTS, json={"sku": a, "warehouse": gz, "quantity": 4,
                                              "reason": "GZ in"})
    assert r.status_code == 201
    gz_id = (await movements(app_client, a))[0]["warehouse_id"]
    staff = await role_client("warehouse", warehouses=[sh])

    rows = (await staff.get(STOCK, params={"sku": a})).json()
    assert [(x["warehouse_code"], x["on_hand"]) for x in rows] == [(sh, 10)]
    await refused(staff, "GET", STOCK, 404, "NOT_FOUND", params={"warehouse": gz})
    ledger = (await staff.get(MOVEMENTS, params={"sku": a})).json()
    assert [m["reason"] for m in ledger] == ["opening stock"]
    r = await staff.get(MOVEMENTS, params={"sku": a, "warehouse_id": gz_id})
    assert r.status_code == 200 and r.json() == []
    # Someone with no assignment still sees every warehouse.
    rows = (await app_client.get(STOCK, params={"sku": a})).json()
    assert sorted(x["warehouse_code"] for x in rows) == sorted([sh, gz])
