"""Prometheus metrics: ``GET /metrics`` (docs/operations.md#metrics).

- Requests by route template, method and status, and their latency (this process; with
  ``PROMETHEUS_MULTIPROC_DIR`` set before start, every process's, added up — the client
  library's multiprocess mode for several server processes).
- From the database at each scrape: orders placed in the last minute, the outbox backlog
  and its lag, pending and dead deliveries, open SLA alerts, and this process's pool use.

Off until ``DINGDAN_METRICS_TOKEN`` is set; the scraper sends it as a bearer token.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingdan.services.metrics import operational_figures
from dingdan.settings import Settings

REQUESTS = Counter("dingdan_http_requests", "HTTP requests answered, by route template.",
                   ("method", "route", "status"))
LATENCY = Histogram("dingdan_http_request_duration_seconds",
                    "Time to answer an HTTP request, by route template.", ("method", "route"),
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


class HttpMetricsMiddleware:
    """Counts and times every HTTP request under its route's template (``/api/v1/orders/
    {number}``), so the label set stays small; paths no route matched are ``unmatched``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if nothing is sent, the server answers 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = _template(scope)
            method = str(scope.get("method", ""))
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


def _template(scope: Scope) -> str:
    """The matched route's template with its router's prefix (``/api/v1`` + ``/orders/
    {number}``): a route of an included router knows only its own part, so the prefix is
    the request path's leading segments, as many as the template does not account for."""
    tail = getattr(scope.get("route"), "path", None)
    if not isinstance(tail, str) or not tail:
        return "unmatched"
    if ":path}" in tail:
        return tail
    segments = str(scope.get("path", "")).rstrip("/").split("/")
    keep = len(segments) - len(tail.rstrip("/").split("/"))
    prefix = "/".join(segments[:keep + 1]) if keep > 0 else ""
    return prefix + tail


class _Figures(Collector):
    """The database's figures, read once per scrape (the route reads them, this renders)."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self.metrics


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:
        raise HTTPException(404)
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), settings.metrics_token.get_secret_value().encode()):
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})

    uows = request.app.state.uow
    figures, lag = await operational_figures(uows)
    gauges: list[Metric] = []

    def gauge(name: str, doc: str, value: float, **labels: str) -> None:
        g = GaugeMetricFamily(name, doc, labels=list(labels))
        g.add_metric(list(labels.values()), value)
        gauges.append(g)

    gauge("dingdan_orders_placed_last_minute", "Orders placed in the last 60 seconds.",
          figures.orders_last_minute)
    gauge("dingdan_outbox_unpublished", "Events not yet handed to the worker's channels.",
          figures.outbox_unpublished)
    gauge("dingdan_outbox_lag_seconds", "Age of the oldest unpublished event (0: none).", lag)
    deliveries = GaugeMetricFamily("dingdan_deliveries", "Messages by delivery status.",
                                   labels=["status"])
    deliveries.add_metric(["pending"], figures.deliveries_pending)
    deliveries.add_metric(["dead"], figures.deliveries_dead)
    gauges.append(deliveries)
    alerts = GaugeMetricFamily("dingdan_sla_alerts_open", "Open SLA alerts by kind.",
                               labels=["kind"])
    for kind in ("at_risk", "breached"):
        alerts.add_metric([kind], figures.alerts_open.get(kind, 0))
    gauges.append(alerts)
    pool = uows.engine.pool
    if hasattr(pool, "checkedout") and hasattr(pool, "size"):
        conns = GaugeMetricFamily("dingdan_db_pool_connections",
                                  "This process's database pool: connections in use, size.",
                                  labels=["state"])
        conns.add_metric(["checked_out"], pool.checkedout())
        conns.add_metric(["size"], pool.size())
        gauges.append(conns)
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_Figures(gauges))
    body = generate_latest(_process_registry()) + generate_latest(scraped)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
