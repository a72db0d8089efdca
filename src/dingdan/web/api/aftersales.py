"""After-sales: cases (returns, exchanges, refund only, claims) and their actions, refunds of
an order's payment, and the return rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from dingdan.domain.aftersales import CaseAction
from dingdan.domain.events import Actor
from dingdan.services import aftersales as svc
from dingdan.services import refunds as money
from dingdan.web.aftersales_schemas import (
    CaseActionIn,
    CaseCreate,
    CasePage,
    CasePublic,
    CaseRefundIn,
    InspectIn,
    OrderRefundsOut,
    RefundIn,
    RefundOut,
    RefundPage,
    ReturnRuleIn,
    ReturnRuleOut,
    case_public,
    case_summary,
    order_refunds_out,
    refund_out,
)
from dingdan.web.deps import ActorDep, LangDep, ReadUowDep, UowDep, get_read_uow, uow_factory
from dingdan.web.errors import problem_responses
from dingdan.web.fields import IdPath, LineQuery
from dingdan.web.payments import GatewaysDep

router = APIRouter(tags=["after-sales"], responses=problem_responses(400, 401, 422))
WRITE_ERRORS = problem_responses(404, 409)
CaseNumber = Annotated[str, Path(max_length=32)]


async def _case(request: Request, number: str, lang: str, actor: Actor) -> dict[str, Any]:
    return case_public(await svc.get_case(number, get_read_uow(request), actor=actor), lang)


@router.get("/aftersales", response_model=CasePage, summary="The after-sales queue")
async def list_cases(
    uow: ReadUowDep, actor: ActorDep, lang: LangDep,
    status: Annotated[list[Annotated[str, Query(max_length=32)]] | None, Query()] = None,
    type: LineQuery = None, order_number: LineQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: LineQuery = None,
) -> dict[str, Any]:
    rows, next_cursor = await svc.list_cases(svc.CaseQuery(
        tuple(status or ()), type, order_number, limit, cursor), uow, actor=actor)
    return {"items": [case_summary(r, lang) for r in rows], "next_cursor": next_cursor}


@router.post("/aftersales", status_code=201, response_model=CasePublic, responses=WRITE_ERRORS,
             summary="Open a case for an order's delivered lines")
async def open_case(body: CaseCreate, uow: UowDep, request: Request, actor: ActorDep,
                    lang: LangDep) -> dict[str, Any]:
    number = await svc.open_case(svc.OpenCase(
        body.order_number, body.type, body.reason,
        tuple(svc.CaseLine(ln.line_no, ln.quantity) for ln in body.lines), body.description,
        body.include_shipping), uow, actor=actor)
    return await _case(request, number, lang, actor)


@router.get("/aftersales/{number}", response_model=CasePublic,
            responses=problem_responses(404), summary="One case, its timeline and refunds")
async def get_case(number: CaseNumber, uow: ReadUowDep, actor: ActorDep,
                   lang: LangDep) -> dict[str, Any]:
    return case_public(await svc.get_case(number, uow, actor=actor), lang)


def _case_action(action: CaseAction, summary: str) -> None:
    async def endpoint(number: CaseNumber, request: Request, uow: UowDep, actor: ActorDep,
                       lang: LangDep, body: CaseActionIn | None = None) -> dict[str, Any]:
        body = body or CaseActionIn()
        await svc.act_on_case(svc.ActOnCase(number, action, actor, body.reason,
                                            body.return_waybill,
                                            expected_version=body.expected_version), uow)
        return await _case(request, number, lang, actor)

    endpoint.__name__ = f"case_{action.value}"
    router.add_api_route(f"/aftersales/{{number}}/{action.value.replace('_', '-')}", endpoint,
                         methods=["POST"], response_model=CasePublic, responses=WRITE_ERRORS,
                         summary=summary)


for _action, _summary in (
    (CaseAction.APPROVE, "Approve the request"),
    (CaseAction.DECLINE, "Decline (reason required)"),
    (CaseAction.CANCEL, "Cancel the case (reason required)"),
    (CaseAction.SEND_BACK, "The goods were sent back (return waybill required)"),
    (CaseAction.RECEIVE, "The warehouse received the returned parcel"),
    (CaseAction.EXCHANGE, "Exchanged"),
    (CaseAction.REPAIR, "Repaired instead of exchanged"),
    (CaseAction.CLOSE, "Close"),
):
    _case_action(_action, _summary)


@router.post("/aftersales/{number}/inspect", response_model=CasePublic, responses=WRITE_ERRORS,
             summary="Inspect each returned line: good goods are restocked")
async def inspect(number: CaseNumber, body: InspectIn, request: Request, uow: UowDep,
                  actor: ActorDep, lang: LangDep) -> dict[str, Any]:
    conditions = {c.line_no: c.condition for c in body.conditions}
    await svc.act_on_case(svc.ActOnCase(number, CaseAction.INSPECT, actor, body.reason,
                                        conditions=conditions,
                                        expected_version=body.expected_version), uow)
    return await _case(request, number, lang, actor)


@router.post("/aftersales/{number}/refund", status_code=201, response_model=RefundOut,
             responses=WRITE_ERRORS,
             summary="Refund the case's amount (answers the refund: succeeded or failed)")
async def refund_case(number: CaseNumber, body: CaseRefundIn, request: Request,
                      actor: ActorDep, lang: LangDep, gateways: GatewaysDep) -> dict[str, Any]:
    case = await svc.get_case(number, get_read_uow(request), actor=actor)
    refund = await money.issue_refund(money.IssueRefund(
        case["order_number"], body.method, actor, None, body.reason, body.reference, number),
        uow_factory(request), gateways)
    return refund_out(refund, lang)


@router.get("/orders/{number}/refunds", response_model=OrderRefundsOut,
            responses=problem_responses(404), summary="An order's payment and its refunds")
async def order_refunds(number: CaseNumber, uow: ReadUowDep, actor: ActorDep,
                        lang: LangDep) -> dict[str, Any]:
    return order_refunds_out(await money.order_refunds(number, uow, actor=actor), lang)


@router.post("/orders/{number}/refunds", status_code=201, response_model=RefundOut,
             responses=WRITE_ERRORS,
             summary="Refund part or all of an order's payment (a cancelled order: all)")
async def refund_order(number: CaseNumber, body: RefundIn, request: Request, actor: ActorDep,
                       lang: LangDep, gateways: GatewaysDep) -> dict[str, Any]:
    refund = await money.issue_refund(money.IssueRefund(
        number, body.method, actor, body.amount, body.reason, body.reference),
        uow_factory(request), gateways)
    return refund_out(refund, lang)


@router.get("/refunds", response_model=RefundPage, summary="The refund queue")
async def list_refunds(
    uow: ReadUowDep, actor: ActorDep, lang: LangDep,
    status: Annotated[list[Annotated[str, Query(max_length=16)]] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: LineQuery = None,
) -> dict[str, Any]:
    rows, next_cursor = await money.list_refunds(uow, actor=actor, statuses=tuple(status or ()),
                                                 limit=limit, cursor=cursor)
    return {"items": [refund_out(r, lang) for r in rows], "next_cursor": next_cursor}


@router.post("/refunds/{refund_id}/retry", response_model=RefundOut, responses=WRITE_ERRORS,
             summary="Ask the gateway again for a failed refund (same request number)")
async def retry_refund(refund_id: IdPath, request: Request, actor: ActorDep, lang: LangDep,
                       gateways: GatewaysDep) -> dict[str, Any]:
    return refund_out(await money.retry_refund(money.RetryRefund(refund_id, actor),
                                               uow_factory(request), gateways), lang)


@router.get("/return-rules", response_model=list[ReturnRuleOut],
            summary="Return windows and non-returnable items, by SKU prefix")
async def list_return_rules(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.list_return_rules(uow, actor=actor)


@router.put("/return-rules/{sku_prefix}", response_model=ReturnRuleOut,
            responses=WRITE_ERRORS, summary="Set the rule for SKUs starting with this prefix")
async def put_return_rule(sku_prefix: Annotated[str, Path(max_length=64)], body: ReturnRuleIn,
                          uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.put_return_rule(svc.PutReturnRule(sku_prefix, body.window_days,
                                                       body.returnable, actor, body.note), uow)
