"""Waybill numbers from the carrier's pool and labels printed as PDF: the page at the label's
size, the barcodes decoded back from the rendered page (pypdfium2 renders, zxing-cpp
decodes), Chinese text in it; void; and the label's number carrying the parcel to the door
through the carriers' pushes — nobody types a number."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pypdfium2 as pdfium
import pytest
import zxingcpp
from api_support import refused
from pydantic import SecretStr

from carrier_peers import KUAIDI100_SALT, kuaidi100_push, trace
from carrier_support import parcel_order, rates_csv, upload
from conftest import Clock
from dingdan.domain.waybills import CheckDigit, is_valid
from dingdan.settings import Settings

MM = 72 / 25.4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"kuaidi100_salt": SecretStr(KUAIDI100_SALT)})


async def ems_carrier(client: httpx.AsyncClient, origin: str, numbers: int = 3) -> str:
    code = f"E{uuid.uuid4().hex[:8].upper()}"
    r = await client.put(f"/api/v1/carriers/{code}", json={
        "name_zh": "中国邮政速递", "name_en": "EMS", "check_digit": "s10",
        "services": [{"code": "standard", "name_zh": "标准快递", "name_en": "Standard",
                      "transit_days": 3}]})
    assert r.status_code == 200, r.text
    assert (await upload(client, rates_csv(origin, [
        (code, "standard", "上海", "", 15, 3, 0, 30)]))).status_code == 201
    if numbers:
        r = await client.post(f"/api/v1/carriers/{code}/waybill-numbers", json={
            "first": 47312482, "count": numbers, "prefix": "EE", "suffix": "CN"})
        assert r.status_code == 201, r.text
        assert r.json()["first"] == "EE473124829CN"
    return code


async def packed_and_rated(client: httpx.AsyncClient, origin: str, clock: Clock) -> str:
    number = await parcel_order(client, origin, deliver_by=clock.now + timedelta(days=5))
    await walk_on(client, number)
    r = await client.post(f"/api/v1/orders/{number}/rate-shop", json={})
    assert r.status_code == 200 and r.json()["chosen"], r.text
    return number


async def walk_on(client: httpx.AsyncClient, number: str) -> None:
    for step in ("allocate", "pick", "pack"):
        r = await client.post(f"/api/v1/orders/{number}/{step}")
        assert r.status_code == 200, r.text


def decode(pdf: bytes) -> tuple[tuple[float, float], dict[str, str], str]:
    """The page size in mm, the barcodes on it by format, and its text."""
    page = pdfium.PdfDocument(pdf)[0]
    width, height = page.get_size()
    image = page.render(scale=300 / 72).to_pil()
    codes = {str(r.format): r.text for r in zxingcpp.read_barcodes(image)}
    return (round(width / MM), round(height / MM)), codes, page.get_textpage().get_text_range()


async def test_a_packed_order_gets_a_numbered_label_that_scans_back(
        app_client: httpx.AsyncClient, clock: Clock) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    await ems_carrier(app_client, origin)
    number = await packed_and_rated(app_client, origin, clock)
    r = await app_client.post(f"/api/v1/orders/{number}/labels", json={})
    assert r.status_code == 201, r.text
    label = r.json()
    tn = label["tracking_number"]
    assert tn == "EE473124829CN" and is_valid(CheckDigit.S10, tn)

    r = await app_client.get(f"/api/v1/orders/{number}/labels/{label['id']}/pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    size, codes, text = decode(r.content)
    assert size == (100, 150)
    assert codes == {"Code 128": tn, "QR Code": f"DINGDAN|{tn}|{number}"}
    assert "中国邮政速递" in text and "张伟" in text and "138****8000" in text
    assert "13800138000" not in text  # the phone is masked on the label

    # The next order gets the next number of the pool.
    second = await packed_and_rated(app_client, origin, clock)
    r = await app_client.post(f"/api/v1/orders/{second}/labels", json={"size": "76x130"})
    assert r.status_code == 201, r.text
    assert r.json()["tracking_number"] != tn
    pdf = (await app_client.get(f"/api/v1/orders/{second}/labels/{r.json()['id']}/pdf")).content
    size, codes, _ = decode(pdf)
    assert size == (76, 130) and codes["Code 128"] == r.json()["tracking_number"]


async def test_the_labels_number_carries_the_parcel_to_the_door(
        app_client: httpx.AsyncClient, clock: Clock) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    carrier = await ems_carrier(app_client, origin)
    number = await packed_and_rated(app_client, origin, clock)
    label = (await app_client.post(f"/api/v1/orders/{number}/labels", json={})).json()
    r = await app_client.post(f"/api/v1/orders/{number}/labels/{label['id']}/ship")
    assert r.status_code == 200, r.text
    order = (await app_client.get(f"/api/v1/orders/{number}")).json()
    assert (order["status"], order["carrier"], order["tracking_number"]) == (
        "shipped", carrier, label["tracking_number"])
    r = await app_client.post("/api/v1/carrier-callbacks/kuaidi100", data=kuaidi100_push(
        label["tracking_number"], [trace("304", "已投柜签收", "2026-11-12 10:30:00"),
                                   trace("103", "已揽收", "2026-11-11 18:00:00")], com="ems"))
    assert r.status_code == 200, r.text
    order = (await app_client.get(f"/api/v1/orders/{number}")).json()
    assert order["status"] == "delivered"


async def test_voiding_a_label(app_client: httpx.AsyncClient, clock: Clock) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    await ems_carrier(app_client, origin)
    number = await packed_and_rated(app_client, origin, clock)
    label = (await app_client.post(f"/api/v1/orders/{number}/labels", json={})).json()
    url = f"/api/v1/orders/{number}/labels/{label['id']}/void"
    await refused(app_client, "POST", url, 422, "VALIDATION_FAILED", json={"reason": " "})
    r = await app_client.post(url, json={"reason": "重新打包"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["void_reason"]) == ("voided", "重新打包")
    await refused(app_client, "POST", url, 409, "ILLEGAL_TRANSITION",
                  json={"reason": "again"})
    await refused(app_client, "POST", f"/api/v1/orders/{number}/labels/{label['id']}/ship",
                  409, "ILLEGAL_TRANSITION")
    # A new label takes a new number: a voided one is never given out again.
    again = (await app_client.post(f"/api/v1/orders/{number}/labels", json={})).json()
    assert again["tracking_number"] != label["tracking_number"]


async def test_labels_are_refused_without_a_choice_or_a_number(
        app_client: httpx.AsyncClient, clock: Clock) -> None:
    origin = f"测{uuid.uuid4().hex[:6]}省"
    await ems_carrier(app_client, origin, numbers=0)
    unrated = await parcel_order(app_client, origin)
    await walk_on(app_client, unrated)
    await refused(app_client, "POST", f"/api/v1/orders/{unrated}/labels", 409,
                  "ILLEGAL_TRANSITION", json={})
    number = await packed_and_rated(app_client, origin, clock)
    await refused(app_client, "POST", f"/api/v1/orders/{number}/labels", 409, "CONFLICT",
                  json={})
    shipped_too_early = await parcel_order(app_client, origin)
    await refused(app_client, "POST", f"/api/v1/orders/{shipped_too_early}/labels", 409,
                  "ILLEGAL_TRANSITION", json={})
