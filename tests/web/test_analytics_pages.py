"""The analytics pages on the server: the dashboard's tiles, tables and chart data in both
languages, the drill-down links, CSV export, the forecast page, and who may see them."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from dingdan.services import analytics_model
from web.conftest import Office, place, walk

SH = ZoneInfo("Asia/Shanghai")


async def _orders(office: Office, admin: httpx.AsyncClient, catalogue: dict[str, Any]) -> str:
    sku = catalogue["skus"]["A"]
    a = await place(admin, sku)
    b = await place(admin, sku)
    await walk(admin, a, "pay", "submit-review", "approve", "allocate", "pick", "pack", "ship")
    await walk(admin, b, "cancel")
    await analytics_model.refresh(office.app.state.uow, SH)
    return sku


def _payload(html: str, chart: str) -> Any:
    m = re.search(rf'data-chart="{chart}"[^>]*data-payload="([^"]*)"', html)
    assert m, f"no {chart} chart"
    import html as h

    return json.loads(h.unescape(m.group(1)))


async def test_the_dashboard_shows_kpis_charts_data_and_drill_downs(
        office: Office, admin: httpx.AsyncClient, catalogue: dict[str, Any]) -> None:
    await _orders(office, admin, catalogue)
    wh = catalogue["warehouses"]["SH"]
    r = await admin.get("/analytics", params={"warehouse": wh})
    assert r.status_code == 200, r.text
    html = r.text
    assert 'data-testid="kpi-orders"' in html and ">2</span>" in html
    assert "50.0%" in html  # one of two cancelled
    trend = _payload(html, "trend")
    assert sum(p["orders"] for p in trend["points"]) == 2
    stages = _payload(html, "stages")
    assert "picking" in {s["status"] for s in stages["stages"]}
    assert _payload(html, "regions")["rows"][0]["key"] == "31"
    gantt = _payload(html, "gantt")
    assert gantt["rows"] and gantt["rows"][0]["bars"][-1]["status"] == "shipped"
    assert f"placed_from={trend['points'][0]['period']}" in html.replace("&amp;", "&")
    assert "status=cancelled" in html
    assert "province=%E4%B8%8A%E6%B5%B7%E5%B8%82" in html  # 上海市, the orders behind a tile
    assert '<script src="/static/app/analytics.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html  # the CSP allows neither


async def test_the_dashboard_speaks_chinese(office: Office, catalogue: dict[str, Any]) -> None:
    zh = await office.client("manager", lang="zh-CN")
    html = (await zh.get("/analytics")).text
    assert "数据分析" in html and "按时发货率" in html and "省份分布图" in html


async def test_csv_export_of_each_table(office: Office, admin: httpx.AsyncClient,
                                        catalogue: dict[str, Any]) -> None:
    await _orders(office, admin, catalogue)
    wh = catalogue["warehouses"]["SH"]
    r = await admin.get("/analytics/export.csv", params={"warehouse": wh,
                                                         "dimension": "province"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [dict(rows[0], key="31", name_zh="上海", orders="2", cancelled="1")]
    days = list(csv.reader(io.StringIO((await admin.get(
        "/analytics/export.csv", params={"warehouse": wh})).content.decode("utf-8-sig"))))
    assert days[0][:2] == ["period", "orders"] and len(days) == 31
    bad = await admin.get("/analytics/export.csv", params={"dimension": "colour"})
    assert bad.status_code == 422


async def test_bad_dates_on_the_page_are_refused_not_a_crash(office: Office,
                                                             admin: httpx.AsyncClient) -> None:
    r = await admin.get("/analytics", params={"start": "2026-13-45"})
    assert r.status_code == 422
    backwards = {"start": "2026-11-12", "end": "2026-11-01"}
    r = await admin.get("/analytics", params=backwards)
    assert r.status_code == 422 and "the range starts after it ends" in r.text
    zh = await office.client("manager", lang="zh-CN")
    r = await zh.get("/analytics", params=backwards)
    assert r.status_code == 422 and "开始日期晚于结束日期。" in r.text


async def test_the_forecast_page_explains_a_sku_without_history(
        office: Office, admin: httpx.AsyncClient, catalogue: dict[str, Any]) -> None:
    sku = await _orders(office, admin, catalogue)
    r = await admin.get("/analytics/forecast", params={"sku": sku})
    assert r.status_code == 200
    assert 'data-testid="forecast-reason"' in r.text and "nothing to forecast" in r.text
    assert (await admin.get("/analytics/forecast", params={"sku": "NO-SUCH"})).status_code == 404


async def test_only_people_with_analytics_read_see_the_pages(
        office: Office, catalogue: dict[str, Any]) -> None:
    warehouse = await office.client("warehouse")
    assert (await warehouse.get("/analytics")).status_code == 403
    assert 'href="/analytics"' not in (await warehouse.get("/")).text
    finance = await office.client("finance")
    assert (await finance.get("/analytics")).status_code == 200
    assert 'href="/analytics"' in (await finance.get("/")).text


async def test_the_order_page_shows_the_orders_own_gantt_with_its_promises(
        office: Office, admin: httpx.AsyncClient, catalogue: dict[str, Any]) -> None:
    number = await place(admin, catalogue["skus"]["A"],
                         ship_by="2026-11-12T18:00:00+08:00")
    await walk(admin, number, "pay", "submit-review")
    html = (await admin.get(f"/orders/{number}")).text
    gantt = _payload(html, "gantt")
    (row,) = gantt["rows"]
    assert [b["status"] for b in row["bars"]] == ["pending_payment", "paid", "pending_review"]
    assert row["bars"][-1]["open"] is True
    assert gantt["marks"] == [{"label": "Ship by", "at": "2026-11-12T10:00:00+00:00"}]
