"""The KPI API end to end: orders placed and moved through the API, the read model refreshed
as the worker would, figures read back; bad ranges, dimensions and SKUs refused with a
problem document in the caller's language; a limited person kept to their warehouses."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import httpx
from api_support import assert_problem, error_locs, refused

from conftest import Clock, ref
from dingdan.services import analytics_model
from helpers import order_body, seed_catalogue
from worker_support import uows_of

API = "/api/v1/analytics"
SH = ZoneInfo("Asia/Shanghai")


async def _world(client: httpx.AsyncClient) -> tuple[str, str, str]:
    cat = await seed_catalogue(client, {"A": 50})
    sku, wh = cat["skus"]["A"], cat["warehouses"]["SH"]
    numbers = []
    for province in ("广东省", "广东省", "浙江省"):
        body = order_body([(sku, 1)], external_id=ref("E"))
        body["shipping_address"]["province"] = province
        r = await client.post("/api/v1/orders", json=body)
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    r = await client.post(f"/api/v1/orders/{numbers[2]}/cancel", json={"reason": "客户取消"})
    assert r.status_code == 200, r.text
    await analytics_model.refresh(uows_of(client), SH)
    return sku, wh, numbers[0]


async def test_the_kpis_of_orders_placed_through_the_api(app_client: httpx.AsyncClient,
                                                         clock: Clock) -> None:
    sku, wh, _ = await _world(app_client)
    today = clock().astimezone(SH).date().isoformat()
    r = await app_client.get(f"{API}/summary", params={"warehouse": wh})
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["orders"], s["cancelled"], s["end"]) == (3, 1, today)
    assert s["cancellation_rate"] == round(1 / 3, 4)
    assert s["revenue"] == [{"currency": "CNY", "amount": 2 * 1000}]
    r = await app_client.get(f"{API}/breakdown/province", params={"warehouse": wh})
    rows = {row["key"]: row for row in r.json()["rows"]}
    assert rows["44"]["orders"] == 2 and rows["44"]["name_en"] == "Guangdong"
    assert rows["33"]["cancelled"] == 1
    r = await app_client.get(f"{API}/trend", params={"warehouse": wh, "grain": "week"})
    assert sum(p["orders"] for p in r.json()["points"]) == 3
    r = await app_client.get(f"{API}/gantt", params={"warehouse": wh})
    assert len(r.json()["rows"]) == 2  # open orders only: the cancelled one is not waiting
    r = await app_client.get(f"{API}/forecast/{sku}", params={"warehouse": wh})
    # Today is not over, so its sales are not history yet: an explained empty forecast.
    assert r.status_code == 200 and r.json()["reason"] == "no_history"


async def test_a_backwards_range_is_refused_in_the_callers_language(
        app_client: httpx.AsyncClient) -> None:
    body = await refused(app_client, "GET", f"{API}/summary", 422, "VALIDATION_FAILED",
                         params={"start": "2026-11-12", "end": "2026-11-01"},
                         headers={"Accept-Language": "zh-CN"})
    assert error_locs(body) == {"start": "range_backwards"}
    assert body["errors"][0]["message"] == "开始日期晚于结束日期。"
    body = await refused(app_client, "GET", f"{API}/trend", 422, "VALIDATION_FAILED",
                         params={"start": "2006-01-01", "end": "2026-01-01"},
                         headers={"Accept-Language": "en"})
    assert error_locs(body) == {"end": "range_too_long"}


async def test_unknown_dimensions_dates_and_skus_are_refused(
        app_client: httpx.AsyncClient) -> None:
    assert_problem(await app_client.get(f"{API}/breakdown/colour"), 422, "VALIDATION_FAILED")
    assert_problem(await app_client.get(f"{API}/summary", params={"start": "yesterday"}), 422,
                   "VALIDATION_FAILED")
    assert_problem(await app_client.get(f"{API}/gantt", params={"limit": 501}), 422,
                   "VALIDATION_FAILED")
    assert_problem(await app_client.get(f"{API}/forecast/{ref('NONE')}"), 404, "NOT_FOUND")
    assert_problem(await app_client.get(f"{API}/summary", params={"warehouse": ref("W")}),
                   404, "NOT_FOUND")


async def test_a_person_of_one_warehouse_does_not_see_anothers_figures(
        app_client: httpx.AsyncClient, role_client: object) -> None:
    _, wh, _ = await _world(app_client)
    other = (await seed_catalogue(app_client, {"B": 0}))["warehouses"]["SH"]
    limited = await role_client("manager", warehouses=[other])  # type: ignore[operator]
    assert_problem(await limited.get(f"{API}/summary", params={"warehouse": wh}), 404,
                   "NOT_FOUND")
    r = await limited.get(f"{API}/breakdown/warehouse")
    assert r.status_code == 200 and wh not in {row["key"] for row in r.json()["rows"]}
    viewer = await role_client("viewer")  # type: ignore[operator]
    assert_problem(await viewer.get(f"{API}/summary"), 403, "FORBIDDEN")
