"""The customer's own after-sales and complaints, for the customer portal (issue 8) and shop
front ends: open a return, exchange, claim or complaint, follow it, cancel it or give the
return waybill, write in the complaint's conversation.

No token: the customer proves the order is theirs with its number and the phone or email on
it (``services._cases.CustomerProof``), in the body, never in a URL. Attempts are limited per
caller address and per order (429 with ``Retry-After``), so contacts cannot be guessed. A
portal with its own sign-in calls the same use cases with the contact it verified.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from dingdan.domain import aftersales as rules
from dingdan.domain.aftersales import CaseAction, CaseStatus, CaseType, Reason
from dingdan.domain.complaints import Category, Channel
from dingdan.services import aftersales as cases
from dingdan.services import complaints
from dingdan.services._cases import CustomerProof
from dingdan.services.throttle import Throttle
from dingdan.web.aftersales_schemas import CaseLineIn
from dingdan.web.auth import client_address
from dingdan.web.deps import LangDep, UowDep, app_settings, get_read_uow, working_calendar
from dingdan.web.errors import problem_responses
from dingdan.web.fields import NON_EMPTY_LINE, Line, Text

router = APIRouter(prefix="/portal", tags=["customer portal"],
                   responses=problem_responses(400, 404, 422, 429))
Number = Annotated[str, Path(max_length=32)]


class ProofIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    order_number: Line = Field(max_length=32, json_schema_extra=NON_EMPTY_LINE)
    contact: Line = Field(max_length=254, json_schema_extra=NON_EMPTY_LINE,
                          description="the phone or email on the order")


class CustomerCaseIn(ProofIn):
    type: CaseType
    reason: Reason
    lines: list[CaseLineIn] = Field(min_length=1, max_length=200)
    description: Text | None = Field(None, max_length=2000)


class CustomerActionIn(ProofIn):
    reason: Text | None = Field(None, max_length=1000)
    return_waybill: Line | None = Field(None, max_length=64)


class CustomerComplaintIn(ProofIn):
    category: Category
    summary: Line = Field(max_length=400, json_schema_extra=NON_EMPTY_LINE)
    line_nos: list[Annotated[int, Field(ge=1, le=10_000, strict=True)]] = Field(
        default_factory=list, max_length=200)
    message: Text | None = Field(None, max_length=4000)


class CustomerMessageIn(ProofIn):
    body: Text = Field(min_length=1, max_length=4000)


class StepOut(BaseModel):
    type: str
    status: str | None
    status_label: str | None
    at: Any


class CustomerCaseOut(BaseModel):
    number: str
    order_number: str
    type: CaseType
    type_label: str
    status: CaseStatus
    status_label: str
    reason_label: str
    refund_amount: int
    currency: str
    return_waybill: str | None
    allowed_actions: list[str]
    steps: list[StepOut]


class CustomerMessageOut(BaseModel):
    direction: str
    body: str
    created_at: Any


class CustomerComplaintOut(BaseModel):
    number: str
    order_number: str
    category: Category
    status: str
    summary: str
    resolution: str | None
    messages: list[CustomerMessageOut]


def throttle_customer(request: Request, order_number: str) -> None:
    """Count one customer attempt per caller address and per order (429 past the limit)."""
    throttle: Throttle | None = getattr(request.app.state, "portal_throttle", None)
    if throttle is None:
        s = app_settings(request)
        throttle = request.app.state.portal_throttle = Throttle(
            {"ip": s.push_subscribe_limit_per_ip, "order": s.push_subscribe_limit_per_order})
    throttle.hit(ip=client_address(request) or "unknown", order=order_number)


def _proof(request: Request, body: ProofIn) -> CustomerProof:
    throttle_customer(request, body.order_number)
    return CustomerProof(body.order_number, body.contact, client_address(request),
                         request.headers.get("user-agent"))


def _case_out(c: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the customer sees of a case: its steps, not who at the shop took them."""
    steps = [{"type": e["type"], "status": e["to_status"],
              "status_label": rules.CASE.status_label(CaseStatus(e["to_status"]), lang)
              if e["kind"] == "aftersales" and e["to_status"] else None,
              "at": e["created_at"]} for e in c.get("timeline", [])]
    return {**c, "type_label": rules.label(rules.TYPE_LABELS, CaseType(c["type"]), lang),
            "status_label": rules.CASE.status_label(CaseStatus(c["status"]), lang),
            "reason_label": rules.label(rules.REASON_LABELS, Reason(c["reason"]), lang),
            "allowed_actions": c.get("allowed_actions", []), "steps": steps}


@router.post("/aftersales", status_code=201, response_model=CustomerCaseOut,
             summary="The customer asks for a return, exchange, refund or claim")
async def open_case(body: CustomerCaseIn, request: Request, uow: UowDep,
                    lang: LangDep) -> dict[str, Any]:
    proof = _proof(request, body)
    number = await cases.open_case_as_customer(cases.OpenCase(
        body.order_number, body.type, body.reason,
        tuple(cases.CaseLine(ln.line_no, ln.quantity) for ln in body.lines), body.description),
        uow, proof=proof)
    return _case_out(await cases.get_case_as_customer(number, get_read_uow(request),
                                                      proof=proof), lang)


@router.post("/aftersales/lookup", response_model=list[CustomerCaseOut],
             summary="The customer's cases for the order (proof in the body)")
async def my_cases(body: ProofIn, request: Request, lang: LangDep) -> list[dict[str, Any]]:
    proof = _proof(request, body)
    out = []
    for c in await cases.customer_cases(get_read_uow(request), proof=proof):
        out.append(_case_out(await cases.get_case_as_customer(
            c["number"], get_read_uow(request), proof=proof), lang))
    return out


def _customer_action(action: CaseAction, summary: str) -> None:
    async def endpoint(number: Number, body: CustomerActionIn, request: Request, uow: UowDep,
                       lang: LangDep) -> dict[str, Any]:
        proof = _proof(request, body)
        await cases.act_on_case_as_customer(number, action, uow, proof=proof,
                                            reason=body.reason,
                                            return_waybill=body.return_waybill)
        return _case_out(await cases.get_case_as_customer(number, get_read_uow(request),
                                                          proof=proof), lang)

    endpoint.__name__ = f"customer_case_{action.value}"
    router.add_api_route(f"/aftersales/{{number}}/{action.value.replace('_', '-')}", endpoint,
                         methods=["POST"], response_model=CustomerCaseOut,
                         responses=problem_responses(409), summary=summary)


_customer_action(CaseAction.CANCEL, "The customer withdraws their request (reason required)")
_customer_action(CaseAction.SEND_BACK, "The customer sent the goods back: the waybill")


@router.post("/complaints", status_code=201, response_model=CustomerComplaintOut,
             summary="The customer complains about the order")
async def open_complaint(body: CustomerComplaintIn, request: Request,
                         uow: UowDep) -> dict[str, Any]:
    proof = _proof(request, body)
    number = await complaints.open_complaint_as_customer(complaints.OpenComplaint(
        body.order_number, body.category, Channel.PORTAL, body.summary, tuple(body.line_nos),
        body.message), uow, proof=proof, calendar=working_calendar(request))
    return await complaints.get_complaint_as_customer(number, get_read_uow(request),
                                                      proof=proof)


@router.post("/complaints/{number}/lookup", response_model=CustomerComplaintOut,
             summary="The complaint and its conversation, as the customer sees them")
async def my_complaint(number: Number, body: ProofIn, request: Request) -> dict[str, Any]:
    return await complaints.get_complaint_as_customer(number, get_read_uow(request),
                                                      proof=_proof(request, body))


@router.post("/complaints/{number}/messages", status_code=201,
             response_model=CustomerComplaintOut,
             summary="The customer writes in the complaint's conversation")
async def write(number: Number, body: CustomerMessageIn, request: Request,
                uow: UowDep) -> dict[str, Any]:
    proof = _proof(request, body)
    await complaints.customer_message(number, body.body, uow, proof=proof)
    return await complaints.get_complaint_as_customer(number, get_read_uow(request),
                                                      proof=proof)
