"""The KPI API for dashboards and BI tools: summary, trend, breakdowns, stage durations, the
cohort Gantt and per-SKU demand forecasts. Read-only; ``analytics.read``; warehouse-scoped.

Days are the business's (``DINGDAN_TIMEZONE``), ranges inclusive, at most two years; money
in minor units. Figures come from the analytics read model, which the worker refreshes every
minute (``docs/analytics.md``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from dingdan.services import analytics as svc
from dingdan.web.deps import ActorDep, ReadUowDep
from dingdan.web.errors import problem_responses
from dingdan.web.fields import LineQuery, Sku

router = APIRouter(prefix="/analytics", tags=["analytics"],
                   responses=problem_responses(400, 401, 403, 404, 422))


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


TzDep = Annotated[ZoneInfo, Depends(_tz)]
StartQuery = Annotated[date | None, Query(description="first day placed (inclusive); "
                                                      "default: 29 days before end")]
EndQuery = Annotated[date | None, Query(description="last day placed (inclusive); "
                                                    "default: today")]
WarehouseQuery = Annotated[LineQuery, Query(max_length=32, description="a warehouse code")]


class Figures(BaseModel):
    orders: int
    cancelled: int
    shipped: int
    ship_promised: int
    shipped_on_time: int
    delivered: int
    deliver_promised: int
    delivered_on_time: int
    lead_n: int
    lead_seconds: int
    cancellation_rate: float | None
    on_time_ship_rate: float | None
    on_time_delivery_rate: float | None
    mean_lead_hours: float | None


class Revenue(BaseModel):
    currency: str
    amount: int  # minor units, orders not cancelled


class Summary(Figures):
    start: date
    end: date
    revenue: list[Revenue]


class TrendPoint(BaseModel):
    period: date  # the first day of the day, week (Monday) or month
    orders: int
    revenue: int
    cancelled: int
    shipped: int
    on_time_ship_rate: float | None


class Trend(BaseModel):
    start: date
    end: date
    grain: str
    currency: str  # revenue is in this currency (the range's main one)
    points: list[TrendPoint]


class BreakdownRow(Figures):
    key: str  # GB/T 2260 code, warehouse code, carrier or channel
    name_zh: str | None = None
    name_en: str | None = None


class Breakdown(BaseModel):
    start: date
    end: date
    dimension: str
    rows: list[BreakdownRow]


class StageRow(BaseModel):
    status: str
    count: int
    mean_seconds: int
    p50_le_seconds: int | None
    p90_le_seconds: int | None


class Stages(BaseModel):
    start: date
    end: date
    stages: list[StageRow]


class GanttBar(BaseModel):
    status: str
    start: str
    end: str
    open: bool


class GanttRow(BaseModel):
    number: str
    status: str
    warehouse: str
    placed_at: str
    bars: list[GanttBar]


class Gantt(BaseModel):
    start: date
    end: date
    now: str
    rows: list[GanttRow]


class ForecastDay(BaseModel):
    day: date
    units: float


class Score(BaseModel):
    method: str
    mae: float
    wape: float | None
    mase: float | None


class Forecast(BaseModel):
    sku: str
    warehouse: str | None
    horizon: int
    history_start: date
    history_end: date
    history: list[float]
    method: str
    reason: str  # "" or why there is no forecast: no_history, short_history
    forecast: list[ForecastDay]
    forecast_total: float
    holdout: list[float]
    scores: list[Score]
    baseline: Score | None


@router.get("/summary", response_model=Summary)
async def summary(uow: ReadUowDep, actor: ActorDep, tz: TzDep, start: StartQuery = None,
                  end: EndQuery = None, warehouse: WarehouseQuery = None) -> dict[str, Any]:
    """Orders, revenue, cancellation rate, on-time ship and delivery rates, lead time."""
    return await svc.summary(svc.Range(start, end, warehouse), uow, actor=actor, tz=tz)


@router.get("/trend", response_model=Trend)
async def trend(uow: ReadUowDep, actor: ActorDep, tz: TzDep, start: StartQuery = None,
                end: EndQuery = None, warehouse: WarehouseQuery = None,
                grain: Literal["day", "week", "month"] = "day") -> dict[str, Any]:
    """Orders, revenue, cancellations and shipments per day, week or month."""
    return await svc.trend(svc.Range(start, end, warehouse), uow, actor=actor, tz=tz,
                           grain=grain)


@router.get("/breakdown/{dimension}", response_model=Breakdown)
async def breakdown(dimension: Annotated[Literal["province", "warehouse", "carrier", "channel"],
                                         Path(description="what to group by")],
                    uow: ReadUowDep, actor: ActorDep, tz: TzDep, start: StartQuery = None,
                    end: EndQuery = None, warehouse: WarehouseQuery = None) -> dict[str, Any]:
    """The KPIs per province (GB/T 2260 code), warehouse, carrier or channel."""
    return await svc.breakdown(svc.Range(start, end, warehouse), dimension, uow, actor=actor,
                               tz=tz)


@router.get("/stages", response_model=Stages)
async def stages(uow: ReadUowDep, actor: ActorDep, tz: TzDep, start: StartQuery = None,
                 end: EndQuery = None, warehouse: WarehouseQuery = None) -> dict[str, Any]:
    """Time orders spent in each status: count, mean, and the duration bucket of p50/p90."""
    return await svc.stages(svc.Range(start, end, warehouse), uow, actor=actor, tz=tz)


@router.get("/gantt", response_model=Gantt)
async def gantt(uow: ReadUowDep, actor: ActorDep, tz: TzDep, start: StartQuery = None,
                end: EndQuery = None, warehouse: WarehouseQuery = None,
                limit: Annotated[int, Query(ge=1, le=svc.MAX_GANTT)] = 100,
                open_only: bool = True) -> dict[str, Any]:
    """The latest orders placed in the range, each a row of bars, one per status."""
    return await svc.gantt(svc.Range(start, end, warehouse), uow, actor=actor, tz=tz,
                           limit=limit, open_only=open_only)


@router.get("/forecast/{sku}", response_model=Forecast, responses=problem_responses(404))
async def forecast(sku: Annotated[Sku, Path()], uow: ReadUowDep, actor: ActorDep, tz: TzDep,
                   warehouse: WarehouseQuery = None,
                   horizon: Annotated[int, Query(ge=1, le=svc.MAX_HORIZON)] = 7,
                   ) -> dict[str, Any]:
    """Daily demand over the next ``horizon`` days, with every method's holdout error and
    the naive baseline's; a SKU with no sales gets an empty forecast and a ``reason``."""
    return await svc.forecast(sku, uow, actor=actor, tz=tz, warehouse=warehouse,
                              horizon=horizon)
