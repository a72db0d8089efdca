"""Home: today's counts (new, awaiting payment, in review, to ship, overdue) and alerts:
the open SLA alerts the worker raised (``services.sla``; acknowledge them here) and the
overdue orders — past their promised ship-by time and not shipped.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from dingdan.domain.errors import DomainError
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission, can
from dingdan.services import backoffice as bo
from dingdan.services import sla
from dingdan.web.i18n import LANGUAGES
from dingdan.web.ui import LANG_COOKIE, error_response, render
from dingdan.web.ui.deps import PageActor, read_uow, write_uow

router = APIRouter()


async def _home_context(request: Request, actor: Actor) -> dict[str, Any]:
    tz: ZoneInfo = request.app.state.templates.env.globals["tz"]
    counts = await bo.dashboard(read_uow(request), actor, tz)
    overdue = await bo.overdue_orders(read_uow(request), actor, 20)
    alerts = await sla.list_alerts(read_uow(request), actor, open_only=True, limit=20)
    now = request.app.state.uow.clock()
    for o in overdue:
        o["late_by"] = bo.overdue_since(o, now)
    return {"counts": counts, "overdue": overdue, "alerts": alerts,
            "may_acknowledge": can(actor, Permission.ORDER_NOTE)}


@router.get("/")
async def home(request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _home_context(request, actor)
        ctx["live_after"] = await bo.last_event_id(read_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/home.html", ctx, actor=actor)


@router.get("/home/panel")
async def home_panel(request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _home_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_home_panel.html", ctx, actor=actor)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(alert_id: int, request: Request, actor: PageActor) -> Response:
    """Someone is on it: the alert stays until the order moves on, marked as seen."""
    try:
        await sla.acknowledge_alert(alert_id, write_uow(request), actor)
        ctx = await _home_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_home_panel.html", ctx, actor=actor)


@router.get("/lang/{code}")
async def switch_language(code: str, request: Request) -> Response:
    """The language switcher: remember the choice for a year, go back where the person was."""
    target = request.query_params.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax",
                            httponly=True)
    return response
