"""Carriers, rate tables from a spreadsheet, and rate shopping through the API: the cheapest
service that keeps the order's promise, chosen and recorded with its alternatives; rate
tables with gaps or overlaps refused with the rows named and nothing changed."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import httpx
from api_support import refused
from openpyxl import Workbook

from carrier_support import carrier, parcel_order, rates_csv, upload
from conftest import Clock


async def test_rate_shopping_picks_the_cheapest_service_that_keeps_the_promise(
        app_client: httpx.AsyncClient, clock: Clock) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    fast = await carrier(app_client, [("standard", 2, False), ("express", 1, False)])
    cheap = await carrier(app_client, [("economy", 4, False)], divisor=8000)
    r = await upload(app_client, rates_csv(origin, [
        (fast, "standard", "上海", "", 12, 2, 0, 30), (fast, "express", "上海", "", 23, 5, 0, 30),
        (cheap, "economy", "上海市", "", 8, 1.5, 0, 30)]))
    assert r.status_code == 201, r.text
    assert r.json() == {"rows": 3, "services": sorted(
        [f"{fast}/standard", f"{fast}/express", f"{cheap}/economy"])}

    loose = await parcel_order(app_client, origin, deliver_by=clock.now + timedelta(days=7))
    r = await app_client.post(f"/api/v1/orders/{loose}/rate-shop", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["chosen"]["service"] == f"{cheap}/economy"
    assert (body["chosen"]["price"], body["weight_g"]) == (800 + 150, 1500)  # 首重 + 1 续重
    assert [a["service"] for a in body["alternatives"]] == [f"{fast}/standard",
                                                            f"{fast}/express"]
    assert body["keeps_promise"] is True

    tight = await parcel_order(app_client, origin, deliver_by=clock.now + timedelta(days=2))
    body = (await app_client.post(f"/api/v1/orders/{tight}/rate-shop", json={})).json()
    assert body["chosen"]["service"] == f"{fast}/standard"
    assert body["chosen"]["promised_at"].startswith(
        (clock.now + timedelta(days=2)).date().isoformat())

    # Recorded on the order, with the alternatives it was chosen from.
    [choice] = (await app_client.get(f"/api/v1/orders/{tight}/rate-choices")).json()
    assert (choice["service"], choice["keeps_promise"]) == (f"{fast}/standard", True)
    assert {a["service"] for a in choice["alternatives"]} == {f"{fast}/express",
                                                             f"{cheap}/economy"}


async def test_a_weighed_bulky_parcel_is_charged_on_its_volume(
        app_client: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    c = await carrier(app_client, [("standard", 2, False)])
    assert (await upload(app_client, rates_csv(origin, [
        (c, "standard", "上海", "", 10, 2, 0, 30)]))).status_code == 201
    number = await parcel_order(app_client, origin)
    r = await app_client.post(f"/api/v1/orders/{number}/rate-shop", json={
        "weight_g": 1200, "length_mm": 400, "width_mm": 300, "height_mm": 200})
    assert r.status_code == 200, r.text
    assert r.json()["chosen"]["weight_g"] == 4000  # 40×30×20 cm / 6000
    assert r.json()["chosen"]["price"] == 1000 + 3 * 200


async def test_a_remote_destination_pays_the_carriers_surcharge(
        app_client: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    c = await carrier(app_client, [("standard", 3, False)],
                      surcharges=[{"province": "上海市", "amount": 500}])
    assert (await upload(app_client, rates_csv(origin, [
        (c, "standard", "上海", "", 10, 2, 0, 30)]))).status_code == 201
    number = await parcel_order(app_client, origin)
    chosen = (await app_client.post(f"/api/v1/orders/{number}/rate-shop", json={})).json()[
        "chosen"]
    assert (chosen["price"], chosen["surcharge"]) == (1000 + 200 + 500, 500)


async def test_a_parcel_with_no_weight_is_refused(app_client: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    number = await parcel_order(app_client, origin, weight_g=None)
    body = await refused(app_client, "POST", f"/api/v1/orders/{number}/rate-shop", 422,
                         "VALIDATION_FAILED", json={})
    assert body["errors"][0]["loc"] == "weight_g"


async def test_rates_are_not_shopped_for_a_parcel_that_left(app_client: httpx.AsyncClient,
                                                           ) -> None:
    number = await parcel_order(app_client, f"测{uuid.uuid4().hex[:6]}省")
    r = await app_client.post(f"/api/v1/orders/{number}/cancel", json={"reason": "不要了"})
    assert r.status_code == 200, r.text
    await refused(app_client, "POST", f"/api/v1/orders/{number}/rate-shop", 409,
                  "ILLEGAL_TRANSITION", json={"weight_g": 1000})


async def test_a_rate_table_with_gaps_or_overlaps_is_refused_row_by_row(
        app_client: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    c = await carrier(app_client, [("standard", 2, False)])
    text = rates_csv(origin, [
        (c, "standard", "上海", "", 10, 2, 0, 3),
        (c, "standard", "上海", "", 10, 2, 5, 10),  # row 3: gap 3-5 kg
        (c, "standard", "上海", "", 10, 2, 8, 30),  # row 4: overlaps row 3
        (c, "standard", "北京", "", 10, "x", 0, 30),  # row 5: not a number
        ("NOPE", "standard", "北京", "", 10, 2, 0, 30)])  # row 6: unknown service
    body = await refused(app_client, "POST", "/api/v1/rate-tables", 422, "VALIDATION_FAILED",
                         files={"file": ("rates.csv", text.encode(), "text/csv")})
    assert [(e["loc"], e["code"]) for e in body["errors"]] == [
        ("rows[3].min_weight", "gap"), ("rows[4].min_weight", "overlap"),
        ("rows[5].step_price", "not_a_number"), ("rows[6].service", "unknown_service")]


async def test_a_file_that_is_not_a_rate_table_is_refused(app_client: httpx.AsyncClient,
                                                          ) -> None:
    await refused(app_client, "POST", "/api/v1/rate-tables", 422, "VALIDATION_FAILED",
                  files={"file": ("x.csv", b"name,price\nfoo,1\n", "text/csv")})
    await refused(app_client, "POST", "/api/v1/rate-tables", 422, "VALIDATION_FAILED",
                  files={"file": ("x.xlsx", b"PK\x03\x04broken", "application/zip")})


async def test_an_excel_rate_table_with_chinese_headers(app_client: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    c = await carrier(app_client, [("standard", 2, False)])
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["承运商", "服务", "始发省", "目的省", "起始重量", "截止重量", "首重",
                  "首重价格", "续重单位", "续重价格", "时效"])
    sheet.append([c, "standard", origin, "上海市", 0, 30, 1, 11.5, 1, 2, 2])
    buf = io.BytesIO()
    book.save(buf)
    r = await app_client.post("/api/v1/rate-tables", files={"file": (
        "运费表.xlsx", buf.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert r.status_code == 201, r.text
    number = await parcel_order(app_client, origin)
    chosen = (await app_client.post(f"/api/v1/orders/{number}/rate-shop", json={})).json()[
        "chosen"]
    assert chosen["price"] == 1150 + 200


async def test_the_catalogue_lists_carriers_with_their_services(
        app_client: httpx.AsyncClient) -> None:
    c = await carrier(app_client, [("standard", 2, False), ("cod", 3, True)])
    listed = {x["code"]: x for x in (await app_client.get("/api/v1/carriers")).json()}
    assert [(s["code"], s["cod"]) for s in listed[c]["services"]] == [
        ("cod", True), ("standard", False)]
