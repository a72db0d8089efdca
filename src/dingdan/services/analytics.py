"""Analytics reads: KPIs, trend, breakdowns by province / warehouse / carrier / channel, time
in each stage, the cohort Gantt and per-SKU demand forecasts.

Each is a query use case: it requires ``analytics.read`` and keeps to the warehouses the
person may see (a person limited to some warehouses sees their figures only, and another
warehouse asked for by name is "not found"). Figures come from the read model
(``services.analytics_model``), except the Gantt, which reads the live timeline of a
bounded cohort, and the forecast, which reads one SKU's order lines. The range is of days
placed, in the business's time zone, inclusive.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dingdan.domain import forecast as fc
from dingdan.domain import regions
from dingdan.domain.analytics import (
    DAILY_FIELDS,
    day_range,
    gantt_bars,
    kpis,
    stage_summary,
)
from dingdan.domain.errors import FieldError, NotFound, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission, may_touch_warehouse
from dingdan.services._access import require
from dingdan.store.tables import products
from dingdan.store.uow import UnitOfWork

DIMENSIONS = ("province", "warehouse", "carrier", "channel")
GRAINS = ("day", "week", "month")
MAX_GANTT = 500
MAX_HORIZON = 28
HISTORY_DAYS = 84  # twelve weeks of daily sales behind each forecast


@dataclass(frozen=True)
class Range:
    """What every analytics read is asked over."""

    start: date | None = None
    end: date | None = None
    warehouse: str | None = None  # a warehouse code; None: every warehouse the person sees


@dataclass(frozen=True)
class _Scope:
    start: date
    end: date
    warehouses: list[int] | None  # None: all
    names: dict[int, str]  # warehouse id -> code


async def _scope(q: Range, uow: UnitOfWork, actor: Actor, tz: ZoneInfo) -> _Scope:
    require(actor, Permission.ANALYTICS_READ, "analytics", None)
    start, end = day_range(q.start, q.end, uow.now().astimezone(tz).date())
    names = {int(w["id"]): str(w["code"]) for w in await uow.catalogue.list_warehouses()}
    seen: list[int] | None = None
    if actor.warehouse_ids is not None:
        seen = sorted(actor.warehouse_ids)
    if q.warehouse is not None:
        wid = next((i for i, code in names.items() if code == q.warehouse), None)
        if wid is None or not may_touch_warehouse(actor, wid):
            raise NotFound({"kind": "warehouse", "key": q.warehouse})
        seen = [wid]
    return _Scope(start, end, seen, names)


def _range_out(s: _Scope) -> dict[str, str]:
    return {"start": s.start.isoformat(), "end": s.end.isoformat()}


def _figures(counts: tuple[Any, ...] | list[Any]) -> dict[str, Any]:
    return kpis([counts]).as_dict()


async def summary(q: Range, uow: UnitOfWork, *, actor: Actor, tz: ZoneInfo) -> dict[str, Any]:
    """The headline KPIs of the range, with revenue per currency."""
    async with uow:
        s = await _scope(q, uow, actor, tz)
        (total,) = await uow.analytics.daily_sums(s.start, s.end, s.warehouses)
        by_currency = await uow.analytics.daily_sums(s.start, s.end, s.warehouses,
                                                     by=("currency",))
    figures = _figures(total)
    figures["revenue"] = [{"currency": r[0], "amount": int(r[2])} for r in by_currency]
    return {**_range_out(s), **figures}


def _period(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


async def trend(q: Range, uow: UnitOfWork, *, actor: Actor, tz: ZoneInfo,
                grain: str = "day") -> dict[str, Any]:
    """Orders, revenue (main currency), cancellations and shipments per day, week or month;
    every day of the range is present (zero when nothing happened)."""
    if grain not in GRAINS:
        raise ValidationFailed(details=[_unknown("grain", grain, GRAINS)])
    async with uow:
        s = await _scope(q, uow, actor, tz)
        rows = await uow.analytics.daily_sums(s.start, s.end, s.warehouses,
                                              by=("day", "currency"))
    currencies: dict[str, int] = defaultdict(int)
    for r in rows:
        currencies[r[1]] += int(r[2])
    main = max(currencies, key=lambda c: (currencies[c], c)) if currencies else "CNY"
    periods: dict[date, list[int]] = {}
    day = s.start
    while day <= s.end:
        periods.setdefault(_period(day, grain), [0] * len(DAILY_FIELDS))
        day += timedelta(days=1)
    revenue: dict[date, int] = defaultdict(int)
    for r in rows:
        d = r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0]))
        p = _period(d, grain)
        counts = periods[p]
        for i, v in enumerate(r[2:]):
            counts[i] += int(v)
        if r[1] == main:
            revenue[p] += int(r[3])
    points = []
    for p, counts in sorted(periods.items()):
        figures = _figures(counts)
        points.append({"period": p.isoformat(), "orders": figures["orders"],
                       "revenue": revenue[p], "cancelled": figures["cancelled"],
                       "shipped": figures["shipped"],
                       "on_time_ship_rate": figures["on_time_ship_rate"]})
    return {**_range_out(s), "grain": grain, "currency": main, "points": points}


def _unknown(field: str, value: str, allowed: tuple[str, ...]) -> FieldError:
    return FieldError(field, "unknown_value", f"'{value}' is not one of {', '.join(allowed)}")


async def breakdown(q: Range, dimension: str, uow: UnitOfWork, *, actor: Actor,
                    tz: ZoneInfo) -> dict[str, Any]:
    """The KPIs per province (GB/T 2260), warehouse, carrier or channel, largest first."""
    if dimension not in DIMENSIONS:
        raise ValidationFailed(details=[_unknown("dimension", dimension, DIMENSIONS)])
    async with uow:
        s = await _scope(q, uow, actor, tz)
        rows = await uow.analytics.daily_sums(s.start, s.end, s.warehouses, by=(dimension,))
    out = []
    for r in rows:
        key = r[0]
        item: dict[str, Any] = {"key": str(key), **_figures(r[1:])}
        item.pop("revenue")  # sums over currencies mean nothing; see the summary
        if dimension == "province":
            item["name_zh"] = regions.label(str(key), "zh-CN")
            item["name_en"] = regions.label(str(key), "en")
        elif dimension == "warehouse":
            item["key"] = s.names.get(int(key), str(key))
        out.append(item)
    out.sort(key=lambda i: (-i["orders"], i["key"]))
    return {**_range_out(s), "dimension": dimension, "rows": out}


async def stages(q: Range, uow: UnitOfWork, *, actor: Actor, tz: ZoneInfo) -> dict[str, Any]:
    """Time in each status (closed stays of orders placed in the range): count, mean and the
    bucket the median and the 90th percentile fall in."""
    async with uow:
        s = await _scope(q, uow, actor, tz)
        rows = await uow.analytics.stage_sums(s.start, s.end, s.warehouses)
    return {**_range_out(s), "stages": [
        {"status": f.status, "count": f.count, "mean_seconds": f.mean_seconds,
         "p50_le_seconds": f.p50_le_seconds, "p90_le_seconds": f.p90_le_seconds}
        for f in stage_summary(rows)]}


async def gantt(q: Range, uow: UnitOfWork, *, actor: Actor, tz: ZoneInfo,
                limit: int = 100, open_only: bool = True) -> dict[str, Any]:
    """The latest ``limit`` orders placed in the range, each a row of bars (one per status it
    stayed in; the current one runs to now): where orders wait, at a glance."""
    if not 1 <= limit <= MAX_GANTT:
        raise ValidationFailed(details=[_out_of_range("limit", 1, MAX_GANTT)])
    async with uow:
        s = await _scope(q, uow, actor, tz)
        now = uow.now()
        start = datetime.combine(s.start, time(), tz)
        end = datetime.combine(s.end + timedelta(days=1), time(), tz)
        cohort = await uow.analytics.cohort(start, end, s.warehouses, open_only, limit)
        events = await uow.analytics.events_of([int(o["id"]) for o in cohort])
    rows = []
    for o in cohort:
        bars = gantt_bars(events[int(o["id"])], now)
        rows.append({"number": o["number"], "status": o["status"],
                     "warehouse": s.names.get(int(o["warehouse_id"] or 0), ""),
                     "placed_at": o["placed_at"].isoformat(),
                     "bars": [{"status": b.status, "start": b.start.isoformat(),
                               "end": b.end.isoformat(), "open": b.open} for b in bars]})
    return {**_range_out(s), "now": now.isoformat(), "rows": rows}


def _out_of_range(field: str, low: int, high: int) -> FieldError:
    return FieldError(field, "out_of_range", f"between {low} and {high}")


async def forecast(sku: str, uow: UnitOfWork, *, actor: Actor, tz: ZoneInfo,
                   warehouse: str | None = None, horizon: int = 7) -> dict[str, Any]:
    """Daily demand of ``sku`` over the next ``horizon`` days, from the last twelve weeks,
    with every method's error on a holdout of the last ``horizon`` days beside the naive
    baseline's. A SKU with no sales gets an empty forecast that says why."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationFailed(details=[_out_of_range("horizon", 1, MAX_HORIZON)])
    async with uow:
        s = await _scope(Range(warehouse=warehouse), uow, actor, tz)
        if await uow.catalogue.get(products, "sku", sku) is None:
            raise NotFound({"kind": "product", "key": sku})
        today = uow.now().astimezone(tz).date()
        first = today - timedelta(days=HISTORY_DAYS)
        sales = await uow.analytics.sku_sales(
            sku, datetime.combine(first, time(), tz), s.warehouses)
    per_day: dict[date, int] = defaultdict(int)
    for placed_at, qty in sales:
        per_day[placed_at.astimezone(tz).date()] += qty
    # Today is not over: the history ends yesterday.
    last = today - timedelta(days=1)
    series = fc.daily_series(per_day, first, last)
    result = fc.backtest(series, horizon)
    return {"sku": sku, "warehouse": warehouse, "horizon": horizon,
            "history_start": first.isoformat(), "history_end": last.isoformat(),
            "history": series, "method": result.method, "reason": result.reason,
            "forecast": [{"day": (today + timedelta(days=i)).isoformat(), "units": v}
                         for i, v in enumerate(result.forecast)],
            "forecast_total": round(sum(result.forecast), 2),
            "holdout": result.holdout,
            "scores": [_score(sc) for sc in result.scores],
            "baseline": _score(result.baseline) if result.scores else None}


def _score(sc: fc.Score) -> dict[str, Any]:
    return {"method": sc.method, "mae": sc.mae, "wape": sc.wape, "mase": sc.mase}


async def top_skus(q: Range, uow: UnitOfWork, *, actor: Actor, tz: ZoneInfo,
                   limit: int = 10) -> list[str]:
    """The best-selling SKUs (units) of the last four weeks: the forecast page's picks."""
    async with uow:
        s = await _scope(q, uow, actor, tz)
        since = datetime.combine(s.end - timedelta(days=27), time(), tz)
        return await uow.analytics.top_skus(since, s.warehouses, limit)

