"""Order pages: the list (filters, sorting, saved views, bulk actions, export) and the order
page (every field, progress, timeline, the actions this person may take, notes, edits).

Everything changes through the service use cases; a refusal comes back as a message where
the person is (``ui.error_response``), with the same codes the API uses.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from dingdan.domain.errors import DomainError
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import EDITABLE_ADDRESS, TERMINAL, Action, Status
from dingdan.domain.orders import Address, Customer
from dingdan.domain.permissions import ACTION_PERMISSION, Permission, can
from dingdan.services import backoffice as bo
from dingdan.services import notifications, queries
from dingdan.services import orders as svc
from dingdan.services.export import export_rows
from dingdan.web.portal import status_page_url
from dingdan.web.ui import error_response, page_language, redirect, render
from dingdan.web.ui.analytics import order_gantt
from dingdan.web.ui.customers import review_panel
from dingdan.web.ui.deps import PageActor, read_uow, write_uow, write_uows
from dingdan.web.ui.export import csv_stream, xlsx_stream
from dingdan.web.ui.filters import SORT_COLUMNS, OrderFilters
from dingdan.web.ui.stages import action_fields, progress, reason_required

router = APIRouter()

Text = Annotated[str, Form(max_length=1000)]
OptText = Annotated[str | None, Form(max_length=1000)]


def _tz(request: Request) -> ZoneInfo:
    tz: ZoneInfo = request.app.state.templates.env.globals["tz"]
    return tz


async def _list_context(request: Request, actor: Actor) -> dict[str, Any]:
    filters = OrderFilters.from_params(request.query_params)
    setting = await bo.list_setting(filters.q, actor, read_uow(request))
    warehouses = setting.warehouses
    query = filters.to_query(_tz(request), {w["code"]: w["id"] for w in warehouses},
                             setting.search)
    rows, next_cursor = await queries.list_orders(query, read_uow(request), actor=actor)
    await queries.add_sla_standing(rows, read_uow(request), actor=actor)  # one query
    return {"filters": filters, "rows": rows, "next_cursor": next_cursor,
            "warehouses": warehouses, "warehouse_names": {w["id"]: w["code"] for w in warehouses},
            "statuses": list(Status), "sort_columns": SORT_COLUMNS, "views": setting.views,
            "live_after": setting.last_event_id,
            "bulk_actions": [a for a in bo.BULK_ACTIONS
                             if can(actor, ACTION_PERMISSION[a])]}


@router.get("/orders")
async def order_list(request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _list_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/orders.html", ctx, actor=actor)


@router.get("/orders/rows")
async def order_rows(request: Request, actor: PageActor) -> Response:
    """The list's rows alone: the live refresh and paging swap these in."""
    try:
        ctx = await _list_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_order_rows.html", ctx, actor=actor)


@router.get("/orders/export.{fmt}")
async def export(fmt: str, request: Request, actor: PageActor) -> Response:
    """The filtered list as an order-tracking sheet, streamed (CSV or Excel)."""
    filters = OrderFilters.from_params(request.query_params)
    try:
        setting = await bo.list_setting(filters.q, actor, read_uow(request))
        query = filters.to_query(_tz(request), {w["code"]: w["id"] for w in setting.warehouses},
                                 setting.search)
        await queries.list_orders(query, read_uow(request), actor=actor)  # bad filters: refused
    except DomainError as exc:
        return error_response(request, exc, actor)
    rows = export_rows(query, actor, lambda: read_uow(request))
    lang, tz = page_language(request), _tz(request)
    stamp = request.app.state.uow.clock().astimezone(tz).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        return StreamingResponse(csv_stream(rows, lang, tz), media_type="text/csv; charset=utf-8",
                                 headers=_attachment(f"orders-{stamp}.csv"))
    if fmt == "xlsx":
        return StreamingResponse(
            xlsx_stream(rows, lang, tz),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=_attachment(f"orders-{stamp}.xlsx"))
    return Response(status_code=404)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.post("/orders/bulk")
async def bulk(request: Request, actor: PageActor, action: Annotated[str, Form()],
               numbers: Annotated[list[str] | None, Form()] = None,
               reason: OptText = None) -> Response:
    try:
        act = Action(action) if action in Action.__members__.values() else Action.TIMEOUT
        results = await bo.bulk_change_status(numbers or [], act, actor, reason or None,
                                              write_uows(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_bulk_results.html", {"results": results, "action": action},
                  actor=actor, headers={"HX-Trigger": "orders-refresh"})


@router.post("/orders/views")
async def save_view(request: Request, actor: PageActor, name: Annotated[str, Form()],
                    query: Annotated[str, Form()] = "") -> Response:
    try:
        await bo.save_view(name, query, actor, write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/orders?{query}" if query else "/orders")


@router.post("/orders/views/{view_id}/delete")
async def delete_view(view_id: int, request: Request, actor: PageActor) -> Response:
    try:
        await bo.delete_view(view_id, actor, write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/orders")


# -- the order page ---------------------------------------------------------------------

async def _order_context(request: Request, actor: Actor, number: str) -> dict[str, Any]:
    # Both come masked for people without pii.read; allowed_actions are this person's.
    order = await queries.get_order(number, read_uow(request), actor=actor)
    timeline = await queries.order_timeline(number, read_uow(request), actor=actor)
    masked = not can(actor, Permission.PII_READ)
    actions = [Action(a) for a in order["allowed_actions"]]
    return {
        "order": order, "timeline": list(reversed(timeline)),
        "live_after": max((e["id"] for e in timeline), default=0),
        "stages": progress(order, timeline),
        "actions": [{"action": a, "fields": action_fields(a),
                     "reason_required": reason_required(a)} for a in actions],
        "can_edit": (not masked and can(actor, Permission.ORDER_EDIT)
                     and Status(order["status"]) in EDITABLE_ADDRESS),
        "edit_closed": Status(order["status"]) not in EDITABLE_ADDRESS | TERMINAL,
        "can_note": can(actor, Permission.ORDER_NOTE),
        "masked": masked,
        "overdue": bo.overdue_since(order, request.app.state.uow.clock()),
        "gantt": order_gantt(order, timeline, request.app.state.uow.clock(),
                             page_language(request)),
    }


@router.get("/orders/{number}/messages")
async def order_messages(number: str, request: Request, actor: PageActor) -> Response:
    """Every message sent (or tried) about the order: channel, masked recipient, status."""
    try:
        messages = await notifications.order_messages(number, read_uow(request), actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_order_messages.html", {"messages": messages}, actor=actor)


@router.get("/orders/{number}")
async def order_page(number: str, request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _order_context(request, actor, number)
        ctx["messages"] = await notifications.order_messages(number, read_uow(request), actor)
        ctx.update(await review_panel(request, actor, number))
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["status_page_url"] = status_page_url(request, number)  # for customer service to send
    return render(request, "ui/order.html", ctx, actor=actor)


@router.get("/orders/{number}/live")
async def order_live(number: str, request: Request, actor: PageActor) -> Response:
    """The changing part of the order page; the page swaps it in on every change."""
    try:
        ctx = await _order_context(request, actor, number)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_order_live.html", ctx, actor=actor)


async def _after_change(request: Request, actor: Actor, number: str,
                        message: str) -> Response:
    ctx = await _order_context(request, actor, number)
    ctx["flash"] = message
    return render(request, "ui/_order_live.html", ctx, actor=actor)


@router.post("/orders/{number}/actions/{action}")
async def take_action(number: str, action: str, request: Request, actor: PageActor,
                      reason: OptText = None, payment_reference: OptText = None,
                      carrier: OptText = None, tracking_number: OptText = None,
                      expected_version: Annotated[int | None, Form()] = None) -> Response:
    try:
        act = Action(action) if action in Action.__members__.values() else None
        if act is None or act is Action.TIMEOUT:
            return Response(status_code=404)
        await svc.change_status(svc.ChangeStatus(
            number, act, actor, (reason or "").strip() or None, expected_version,
            payment_reference=payment_reference, carrier=carrier,
            tracking_number=tracking_number), write_uow(request))
        return await _after_change(request, actor, number, "common.done")
    except DomainError as exc:
        return error_response(request, exc, actor)


@router.post("/orders/{number}/notes")
async def add_note(number: str, request: Request, actor: PageActor,
                   note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        await svc.add_note(svc.AddNote(number, note, actor), write_uow(request))
        return await _after_change(request, actor, number, "common.saved")
    except DomainError as exc:
        return error_response(request, exc, actor)


@router.post("/orders/{number}/contact")
async def change_contact(number: str, request: Request, actor: PageActor,
                         name: Text, phone: OptText = None, email: OptText = None,
                         company: OptText = None, reason: OptText = None,
                         expected_version: Annotated[int | None, Form()] = None) -> Response:
    try:
        await svc.change_contact(svc.ChangeContact(
            number, Customer(name, phone or None, email or None, company or None), actor,
            reason or None, expected_version), write_uow(request))
        return await _after_change(request, actor, number, "common.saved")
    except DomainError as exc:
        return error_response(request, exc, actor)


@router.post("/orders/{number}/address")
async def change_address(number: str, request: Request, actor: PageActor,
                         recipient: Text, phone: Text, province: Text, city: Text,
                         district: Text, street: Text, postcode: OptText = None,
                         reason: OptText = None,
                         expected_version: Annotated[int | None, Form()] = None) -> Response:
    try:
        await svc.change_address(svc.ChangeAddress(
            number, Address(recipient, phone, province, city, district, street,
                            postcode or None), actor, reason or None, expected_version),
            write_uow(request))
        return await _after_change(request, actor, number, "common.saved")
    except DomainError as exc:
        return error_response(request, exc, actor)
