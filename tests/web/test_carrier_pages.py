"""The carrier pages: carriers and rate-table import (rows with gaps named), an order's
shipping page (rate shopping, a label, the tracking history the pushes wrote), the parcels in
trouble — in both languages, as the roles that use them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from carrier_peers import KUAIDI100_SALT, kuaidi100_push, trace
from carrier_support import carrier, parcel_order, rates_csv
from conftest import Clock
from dingdan.settings import Settings

K100 = "/api/v1/carrier-callbacks/kuaidi100"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"kuaidi100_salt": SecretStr(KUAIDI100_SALT)})


def sheet(text: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("运价.csv", text.encode(), "text/csv")}


async def test_a_manager_imports_a_rate_table_and_sees_bad_rows_named(
        office, admin: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    code = await carrier(admin, [("standard", 2, False)])
    manager = await office.client("manager")
    page = (await manager.get("/carriers")).text
    assert code in page and 'action="/carriers/rate-table"' in page
    bad = rates_csv(origin, [(code, "standard", "上海", "", 10, 2, 0, 3),
                             (code, "standard", "上海", "", 10, 2, 5, 30)])
    r = await manager.post("/carriers/rate-table", files=sheet(bad))
    assert r.status_code == 422
    assert "rows[3].min_weight" in r.text and "3000-5000 g" in r.text
    good = rates_csv(origin, [(code, "standard", "上海", "", 10, 2, 0, 30)])
    r = await manager.post("/carriers/rate-table", files=sheet(good))
    assert r.status_code == 200, r.text
    assert f"Imported 1 rows: {code}/standard" in r.text
    viewer = await office.client("viewer")
    assert 'action="/carriers/rate-table"' not in (await viewer.get("/carriers")).text


async def test_the_shipping_page_shops_rates_prints_a_label_and_shows_the_parcel(
        office, admin: httpx.AsyncClient, clock: Clock) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    code = await carrier(admin, [("standard", 2, False)])
    await admin.post("/api/v1/rate-tables", files=sheet(rates_csv(origin, [
        (code, "standard", "上海", "", 10, 2, 0, 30)])))
    r = await admin.post(f"/api/v1/carriers/{code}/waybill-numbers",
                         json={"first": 700000000001, "count": 2, "width": 12})
    assert r.status_code == 201, r.text
    number = await parcel_order(admin, origin, deliver_by=clock.now + timedelta(days=4))
    for step in ("allocate", "pick", "pack"):
        assert (await admin.post(f"/api/v1/orders/{number}/{step}")).status_code == 200
    packer = await office.client("warehouse")
    assert f'href="/orders/{number}/shipping"' in (await packer.get(f"/orders/{number}")).text
    r = await packer.post(f"/orders/{number}/shipping/rate-shop")
    assert r.status_code == 303
    r = await packer.post(f"/orders/{number}/shipping/labels", data={"size": "100x150"})
    assert r.status_code == 303
    page = (await packer.get(f"/orders/{number}/shipping")).text
    assert f"{code}/standard" in page and "keeps the promise" in page
    assert "700000000001" in page and "/pdf" in page

    # The parcel leaves with the label's number; Kuaidi100 pushes, one status it never sent.
    label_id = (await admin.get(f"/api/v1/orders/{number}/labels")).json()[0]["id"]
    assert f'data-testid="ship-{label_id}"' in page
    r = await packer.post(f"/orders/{number}/shipping/labels/{label_id}/ship")
    assert r.status_code == 303, r.text
    assert (await admin.get(f"/api/v1/orders/{number}")).json()["tracking_number"] == \
        "700000000001"
    r = await admin.post(K100, data=kuaidi100_push("700000000001", [
        trace("777", "快件遇到了奇怪的事", "2026-11-12 09:00:00"),
        trace("103", "快递员已揽件", "2026-11-11 18:00:00", "杭州市")]))
    assert r.status_code == 200, r.text
    page = (await packer.get(f"/orders/{number}/shipping")).text
    assert "快递员已揽件" in page and "杭州市" in page and "Picked up" in page
    assert "unknown code 777" in page
    zh = await office.client("warehouse", lang="zh-CN")
    assert "已揽收" in (await zh.get(f"/orders/{number}/shipping")).text

    trouble = (await packer.get("/tracking/exceptions")).text
    row = trouble[trouble.index(f"/orders/{number}/shipping"):]
    assert "Unknown carrier status" in trouble[:trouble.index(row) + 400]
    assert "异常包裹" in (await zh.get("/tracking/exceptions")).text


async def test_a_viewer_sees_the_shipping_page_without_buttons(
        office, admin: httpx.AsyncClient) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    number = await parcel_order(admin, origin)
    viewer = await office.client("viewer")
    page = (await viewer.get(f"/orders/{number}/shipping")).text
    assert "No scan yet." in page and 'data-testid="shop-rates"' not in page
    r = await viewer.post(f"/orders/{number}/shipping/rate-shop")
    assert r.status_code == 403
