"""The after-sales and complaint pages: the two queues (filters, SLA countdowns), a case's
page (its lines, the actions the table and the person's roles allow, inspection, refunds and
their retry, the timeline) and a complaint's page (the conversation, reply, actions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from dingdan.domain import aftersales as case_rules
from dingdan.domain import complaints as complaint_rules
from dingdan.domain.aftersales import CaseAction, CaseStatus, CaseType, Condition, Reason
from dingdan.domain.complaints import Category, ComplaintAction, ComplaintStatus
from dingdan.domain.errors import DomainError, FieldError, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission, can
from dingdan.domain.refunds import REFUND, Method, RefundStatus
from dingdan.services import aftersales as cases
from dingdan.services import complaints
from dingdan.services import refunds as money
from dingdan.web.payments import refund_gateways
from dingdan.web.ui import error_response, page_language, redirect, render
from dingdan.web.ui.aftersales_text import as_text
from dingdan.web.ui.deps import PageActor, read_uow, uows, write_uow

router = APIRouter()
OPEN_CASES = (CaseStatus.REQUESTED, CaseStatus.APPROVED, CaseStatus.AWAITING_RETURN,
              CaseStatus.RECEIVED, CaseStatus.INSPECTED)
MAX_FIELD = 1000


def _words(request: Request) -> dict[str, Any]:
    lang = page_language(request)

    def label(labels: Mapping[Any, Mapping[str, str]], key: Any) -> str:
        return case_rules.label(labels, key, lang)

    return {"ta": lambda key: as_text(key, lang), "lang": lang,
            "case_status": lambda s: case_rules.CASE.status_label(CaseStatus(s), lang),
            "case_action": lambda a: case_rules.CASE.action_label(CaseAction(a), lang),
            "case_type": lambda s: label(case_rules.TYPE_LABELS, CaseType(s)),
            "case_reason": lambda s: label(case_rules.REASON_LABELS, Reason(s)),
            "refund_status": lambda s: REFUND.status_label(RefundStatus(s), lang),
            "cp_status": lambda s: complaint_rules.COMPLAINT.status_label(ComplaintStatus(s),
                                                                          lang),
            "cp_action": lambda a: complaint_rules.COMPLAINT.action_label(ComplaintAction(a),
                                                                          lang),
            "cp_category": lambda s: label(complaint_rules.CATEGORY_LABELS, Category(s))}


def _form_text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    if len(value) > MAX_FIELD:
        raise ValidationFailed(details=[FieldError(name, "too_long", "too long")])
    return value.strip()


# --- after-sales ----------------------------------------------------------------------------

@router.get("/aftersales")
async def case_queue(request: Request, actor: PageActor) -> Response:
    status = request.query_params.get("status", "open")
    chosen = [s.value for s in OPEN_CASES] if status == "open" else (
        [status] if status in CaseStatus.__members__.values() else [])
    try:
        rows, next_cursor = await cases.list_cases(cases.CaseQuery(
            tuple(chosen), cursor=request.query_params.get("cursor")), read_uow(request),
            actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/aftersales.html", {
        **_words(request), "rows": rows, "status": status, "next_cursor": next_cursor,
        "tabs": ["open", *(s.value for s in CaseStatus), "all"]}, actor=actor)


async def _case_page(request: Request, number: str, actor: Actor,
                     flash: str | None = None) -> Response:
    case = await cases.get_case(number, read_uow(request), actor=actor)
    return render(request, "ui/aftersales_case.html", {
        **_words(request), "case": case, "flash": flash, "methods": list(Method),
        "may_refund": can(actor, Permission.ORDER_REFUND),
        "conditions": list(Condition)}, actor=actor)


@router.get("/aftersales/{number}")
async def case_page(number: str, request: Request, actor: PageActor) -> Response:
    try:
        return await _case_page(request, number, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)


@router.post("/aftersales/{number}/act/{verb}")
async def case_act(number: str, verb: str, request: Request, actor: PageActor) -> Response:
    """One case action from the case page (inspection with a condition per line; the refund
    with its method); then the page again."""
    form = await request.form()
    try:
        if verb == CaseAction.REFUND.value:
            method = str(form.get("method") or "")
            if method not in Method.__members__.values():
                raise ValidationFailed(details=[FieldError("method", "required",
                                                           "choose a method")])
            case = await cases.get_case(number, read_uow(request), actor=actor)
            await money.issue_refund(money.IssueRefund(
                case["order_number"], Method(method), actor, None,
                _form_text(form, "reason"), _form_text(form, "reference"), number),
                uows(request), refund_gateways(request))
        elif verb in CaseAction.__members__.values():
            conditions = {}
            for key, value in form.multi_items():
                if key.startswith("condition-") and key[10:].isdigit() and \
                        value in Condition.__members__.values():
                    conditions[int(key[10:])] = Condition(str(value))
            version = form.get("expected_version")
            await cases.act_on_case(cases.ActOnCase(
                number, CaseAction(verb), actor, _form_text(form, "reason"),
                _form_text(form, "return_waybill"), conditions,
                int(version) if isinstance(version, str) and version.isdigit() else None),
                write_uow(request))
        else:
            return Response(status_code=404)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/aftersales/{number}")


@router.post("/refunds/{refund_id}/retry")
async def refund_retry(refund_id: int, request: Request, actor: PageActor) -> Response:
    form = await request.form()
    back = str(form.get("back") or "/aftersales")
    try:
        await money.retry_refund(money.RetryRefund(refund_id, actor), uows(request),
                                 refund_gateways(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, back if back.startswith("/aftersales/") else "/aftersales")


# --- complaints -----------------------------------------------------------------------------

@router.get("/complaints")
async def complaint_queue(request: Request, actor: PageActor) -> Response:
    status = request.query_params.get("status", "open")
    escalated = True if status == "escalated" else None
    chosen = list(complaints.OPEN_STATUSES) if status in ("open", "escalated") else (
        [status] if status in ComplaintStatus.__members__.values() else [])
    try:
        rows, next_cursor = await complaints.list_complaints(complaints.ComplaintQuery(
            tuple(chosen), escalated=escalated, cursor=request.query_params.get("cursor")),
            read_uow(request), actor=actor)
        now = uows(request).clock()
        causes = await complaints.complaint_causes(read_uow(request), actor=actor, now=now)
    except DomainError as exc:
        return error_response(request, exc, actor)
    for r in rows:
        r["due"] = _next_due(r, now)
    return render(request, "ui/complaints.html", {
        **_words(request), "rows": rows, "status": status, "next_cursor": next_cursor,
        "now": now, "causes": sorted(causes.items(), key=lambda kv: -kv[1]),
        "tabs": ["open", "escalated", *(s.value for s in ComplaintStatus), "all"]},
        actor=actor)


def _next_due(c: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The deadline whose clock runs now, with the minutes left (negative: overdue)."""
    status = ComplaintStatus(c["status"])
    for stage, column in (("first_response", "first_response_due"),
                          ("resolution", "resolution_due")):
        if status in complaint_rules.COMPLAINT.statuses_in_stage(stage):
            at: datetime = c[column]
            return {"stage": stage, "at": at, "minutes": int((at - now).total_seconds() // 60)}
    return None


async def _complaint_page(request: Request, number: str, actor: Actor) -> Response:
    c = await complaints.get_complaint(number, read_uow(request), actor=actor)
    return render(request, "ui/complaint.html", {
        **_words(request), "c": c, "due": _next_due(c, uows(request).clock()),
        "may_handle": can(actor, Permission.COMPLAINT_HANDLE)}, actor=actor)


@router.get("/complaints/{number}")
async def complaint_page(number: str, request: Request, actor: PageActor) -> Response:
    try:
        return await _complaint_page(request, number, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)


@router.post("/complaints/{number}/reply")
async def complaint_reply(number: str, request: Request, actor: PageActor) -> Response:
    form = await request.form()
    body = form.get("body")
    try:
        text = body.strip() if isinstance(body, str) else ""
        await complaints.reply(complaints.Reply(number, text, actor,
                                                internal=form.get("internal") == "1"),
                               write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/complaints/{number}")


@router.post("/complaints/{number}/act/{verb}")
async def complaint_act(number: str, verb: str, request: Request, actor: PageActor) -> Response:
    if verb not in ComplaintAction.__members__.values():
        return Response(status_code=404)
    form = await request.form()
    try:
        await complaints.act_on_complaint(complaints.ActOnComplaint(
            number, ComplaintAction(verb), actor, _form_text(form, "reason"),
            _form_text(form, "resolution")), write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/complaints/{number}")
