"""The analytics pages: the dashboard (KPI tiles, volume trend, where orders wait, the
regional view, carriers and warehouses), per-SKU forecasts, and CSV export of each table.

Charts are drawn in the browser by ``static/analytics.js`` with ECharts from npm; their data
is in ``data-`` attributes of the page (no inline script under the CSP, nothing from a CDN).
Every figure links to the orders behind it (the order list with the same filters).
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from dingdan.domain import lifecycle, regions
from dingdan.domain.analytics import BUCKET_EDGES, Event, gantt_bars
from dingdan.domain.errors import DomainError, FieldError, ValidationFailed
from dingdan.domain.lifecycle import Status
from dingdan.services import analytics as svc
from dingdan.services import catalogue
from dingdan.web.ui import error_response, page_language, render
from dingdan.web.ui.deps import PageActor, read_uow
from dingdan.web.ui.export import spreadsheet_text
from dingdan.web.ui.text import pick

router = APIRouter()
GANTT_ROWS = 40

WORDS: dict[str, tuple[str, str]] = {
    "title": ("数据分析", "Analytics"),
    "start": ("开始日期", "From"),
    "end": ("结束日期", "To"),
    "warehouse": ("仓库", "Warehouse"),
    "all": ("全部", "All"),
    "show": ("查看", "Show"),
    "orders": ("订单数", "Orders"),
    "revenue": ("销售额", "Revenue"),
    "cancelled": ("已取消", "Cancelled"),
    "shipped": ("已发货", "Shipped"),
    "delivered": ("已签收", "Delivered"),
    "cancellation_rate": ("取消率", "Cancellation rate"),
    "on_time_ship_rate": ("按时发货率", "On-time shipping"),
    "on_time_delivery_rate": ("按时送达率", "On-time delivery"),
    "mean_lead_hours": ("平均履约时长（小时）", "Mean order-to-delivery (hours)"),
    "trend": ("订单量趋势", "Order volume"),
    "stages": ("订单在哪里等待（各状态停留时长）", "Where orders wait (time in each status)"),
    "gantt": ("进行中订单甘特图（最近下单）", "Open orders, stage by stage (latest placed)"),
    "regions": ("地区分布（按 GB/T 2260 省级代码）", "Orders by province (GB/T 2260 codes)"),
    "carriers": ("承运商按时率", "Carriers: on time"),
    "warehouses": ("仓库", "Warehouses"),
    "channels": ("渠道", "Channels"),
    "forecast": ("需求预测", "Demand forecast"),
    "export": ("导出 CSV", "Export CSV"),
    "mean": ("平均", "Mean"),
    "p50": ("中位数 ≤", "Median ≤"),
    "p90": ("P90 ≤", "P90 ≤"),
    "count": ("次数", "Stays"),
    "status": ("状态", "Status"),
    "province": ("省份", "Province"),
    "code": ("代码", "Code"),
    "carrier": ("承运商", "Carrier"),
    "channel": ("渠道", "Channel"),
    "no_data": ("所选范围内没有数据。", "No figures in this range."),
    "hours": ("小时", "hours"),
    "sku": ("商品 SKU", "SKU"),
    "method": ("选用方法", "Method chosen"),
    "baseline": ("朴素基线（明天 = 今天）", "Naive baseline (tomorrow = today)"),
    "mae": ("平均绝对误差", "MAE"),
    "wape": ("WAPE", "WAPE"),
    "mase": ("MASE", "MASE"),
    "next_days": ("未来 7 天预测", "Next 7 days"),
    "units": ("件", "units"),
    "backtest": ("回测（最后 7 天不参与拟合）", "Backtest (the last 7 days held out)"),
    "no_history": ("此商品近 12 周没有销量，无法预测。",
                   "No sales in the last 12 weeks: nothing to forecast."),
    "short_history": ("此商品首次售出不足 14 天，历史太短，暂不预测。",
                      "First sold less than 14 days ago: too little history to forecast."),
    "history": ("近 12 周每日销量", "Daily sales, last 12 weeks"),
    "predicted": ("预测", "Forecast"),
    "sold": ("销量", "Sold"),
    "refresh_note": ("数据每分钟由后台任务更新；停留时长只统计已离开的状态。",
                     "Figures are refreshed every minute by the worker; a stay counts once the "
                     "order has left that status."),
    "tiles": ("省份分布图（非地图）", "Province tile grid (not a map)"),
    "drill": ("查看订单", "Orders"),
}

METHODS = {"naive": ("朴素法", "Naive"), "seasonal_naive": ("季节朴素法（上周同日）",
                                                         "Seasonal naive (same day last week)"),
           "moving_average": ("7 日移动平均", "7-day moving average"),
           "exponential_smoothing": ("指数平滑", "Exponential smoothing"),
           "croston": ("Croston 间歇需求法", "Croston (intermittent demand)")}


def _w(lang: str) -> dict[str, str]:
    return {k: pick(v, lang) for k, v in WORDS.items()}


def _range(params: QueryParams) -> svc.Range:
    errors = []
    days: list[date | None] = []
    for name in ("start", "end"):
        raw = (params.get(name) or "").strip()
        try:
            days.append(date.fromisoformat(raw) if raw else None)
        except ValueError:
            days.append(None)
            errors.append(FieldError(name, "value_error", "a date, e.g. 2026-11-11"))
    if errors:
        raise ValidationFailed(details=errors)
    warehouse = (params.get("warehouse") or "").strip()[:32] or None
    return svc.Range(days[0], days[1], warehouse)


def _tz(request: Request) -> ZoneInfo:
    tz: ZoneInfo = request.app.state.templates.env.globals["tz"]
    return tz


def _status_labels(lang: str) -> dict[str, str]:
    return {s.value: lifecycle.label(s, lang) for s in Status}


@router.get("/analytics")
async def dashboard(request: Request, actor: PageActor) -> Response:
    lang = _lang(request)
    tz = _tz(request)
    try:
        q = _range(request.query_params)
        # Independent reads, each in its own read-only unit of work: side by side, so the
        # page takes about as long as its slowest read (PostgreSQL answers them in parallel).
        # return_exceptions: a refusal waits for the other reads to end (and give their
        # connections back) before it is raised.
        results = await asyncio.gather(
            svc.summary(q, read_uow(request), actor=actor, tz=tz),
            svc.trend(q, read_uow(request), actor=actor, tz=tz),
            svc.stages(q, read_uow(request), actor=actor, tz=tz),
            svc.gantt(q, read_uow(request), actor=actor, tz=tz, limit=GANTT_ROWS),
            catalogue.list_warehouses(read_uow(request), actor=actor),
            *(svc.breakdown(q, d, read_uow(request), actor=actor, tz=tz)
              for d in svc.DIMENSIONS), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        summary, trend, stages, gantt, warehouses, *parts = results
        by = {d: part["rows"] for d, part in zip(svc.DIMENSIONS, parts, strict=True)}
    except DomainError as exc:
        return error_response(request, exc, actor)
    labels = _status_labels(lang)
    words = _w(lang)
    province_rows = by["province"]
    for row in province_rows:
        row["name"] = row["name_zh"] if lang == "zh-CN" else row["name_en"]
        row["full"] = regions.BY_CODE[row["key"]].name if row["key"] in regions.BY_CODE else ""
    most = max((r["orders"] for r in province_rows), default=0)
    tiles = []
    counts = {r["key"]: r["orders"] for r in province_rows}
    for p in regions.PROVINCES:
        n = counts.get(p.code, 0)
        shade = 0 if not n or not most else 1 + min(4, int(5 * n / (most + 1)))
        tiles.append({"code": p.code, "name": regions.label(p.code, lang), "full": p.name,
                      "orders": n, "row": p.row, "col": p.col, "shade": shade})
    chart = {
        "trend": {"points": trend["points"], "currency": trend["currency"],
                  "labels": {k: words[k] for k in ("orders", "cancelled", "shipped",
                                                   "revenue")}},
        "stages": {"stages": [dict(s, label=labels[s["status"]]) for s in stages["stages"]],
                   "labels": {"mean": words["mean"], "p90": words["p90"],
                              "hours": words["hours"]}},
        "gantt": {"now": gantt["now"], "rows": gantt["rows"], "statuses": labels},
        "regions": {"rows": [{"key": r["key"], "name": r["name"], "orders": r["orders"]}
                             for r in province_rows[:15]], "label": words["orders"]},
    }
    ctx = {"w": words, "q": q, "summary": summary, "stages": stages["stages"], "by": by,
           "labels": labels, "tiles": tiles, "chart": chart, "warehouses": warehouses,
           "start": summary["start"], "end": summary["end"],
           "drill": {"placed_from": summary["start"], "placed_to": summary["end"],
                     "warehouse": q.warehouse or ""},
           "edges": BUCKET_EDGES}
    return render(request, "ui/analytics.html", ctx, actor=actor)


@router.get("/analytics/forecast")
async def forecast_page(request: Request, actor: PageActor) -> Response:
    lang = _lang(request)
    tz = _tz(request)
    sku = (request.query_params.get("sku") or "").strip()[:64]
    try:
        q = _range(request.query_params)
        picks = await svc.top_skus(q, read_uow(request), actor=actor, tz=tz, limit=12)
        sku = sku or (picks[0] if picks else "")
        result = (await svc.forecast(sku, read_uow(request), actor=actor, tz=tz,
                                     warehouse=q.warehouse) if sku else None)
    except DomainError as exc:
        return error_response(request, exc, actor)
    words = _w(lang)
    methods = {k: pick(v, lang) for k, v in METHODS.items()}
    chart = None
    if result and result["forecast"]:
        chart = {"history": result["history"], "start": result["history_start"],
                 "forecast": result["forecast"],
                 "labels": {"sold": words["sold"], "predicted": words["predicted"]}}
    return render(request, "ui/analytics_forecast.html",
                  {"w": words, "q": q, "sku": sku, "picks": picks, "f": result,
                   "methods": methods, "chart": chart}, actor=actor)


@router.get("/analytics/export.csv")
async def export(request: Request, actor: PageActor) -> Response:
    """One table of the dashboard as CSV: ``dimension`` = day, province, warehouse, carrier
    or channel (UTF-8 with a byte-order mark, so Excel reads the Chinese)."""
    lang = _lang(request)
    tz = _tz(request)
    dimension = request.query_params.get("dimension") or "day"
    try:
        q = _range(request.query_params)
        if dimension == "day":
            data = await svc.trend(q, read_uow(request), actor=actor, tz=tz)
            rows = data["points"]
            keys = ["period", "orders", "revenue", "cancelled", "shipped",
                    "on_time_ship_rate"]
        else:
            data = await svc.breakdown(q, dimension, read_uow(request), actor=actor, tz=tz)
            rows = data["rows"]
            keys = ["key", *(["name_zh", "name_en"] if dimension == "province" else []),
                    "orders", "cancelled", "shipped", "shipped_on_time", "ship_promised",
                    "delivered", "delivered_on_time", "deliver_promised",
                    "cancellation_rate", "on_time_ship_rate", "on_time_delivery_rate",
                    "mean_lead_hours"]
    except DomainError as exc:
        return error_response(request, exc, actor)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(keys)
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in keys])
    name = f"dingdan-{dimension}-{data['start']}-{data['end']}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Content-Language": lang})


def order_gantt(order: dict[str, Any], timeline: list[dict[str, Any]], now: datetime,
                lang: str) -> dict[str, Any]:
    """One order's lifecycle for the order page: a bar per status it stayed in (the current
    one runs to now) and its promises (ship by, deliver by) as markers."""
    events = [Event(e.get("to_status"), e["created_at"]) for e in timeline]
    bars = gantt_bars(events, now)
    marks = [{"label": pick(label, lang), "at": order[key].isoformat()}
             for key, label in (("ship_by", ("承诺发货", "Ship by")),
                                ("deliver_by", ("承诺送达", "Deliver by")))
             if order.get(key)]
    return {"now": now.isoformat(), "statuses": _status_labels(lang), "marks": marks,
            "rows": [{"number": order["number"], "status": order["status"],
                      "bars": [{"status": b.status, "start": b.start.isoformat(),
                                "end": b.end.isoformat(), "open": b.open} for b in bars]}]}


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return spreadsheet_text(value)
    return "" if value is None else value


def _lang(request: Request) -> str:
    return page_language(request)
