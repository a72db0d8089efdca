"""Complaints: the queue, opening one, the conversation, lifecycle actions, and why
customers complain."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from dingdan.domain.complaints import ComplaintAction
from dingdan.domain.events import Actor
from dingdan.services import complaints as svc
from dingdan.web.aftersales_schemas import (
    CauseOut,
    ComplaintActionIn,
    ComplaintCreate,
    ComplaintPage,
    ComplaintPublic,
    ReplyIn,
    causes_out,
    complaint_summary,
)
from dingdan.web.deps import ActorDep, LangDep, ReadUowDep, UowDep, get_read_uow, working_calendar
from dingdan.web.errors import problem_responses
from dingdan.web.fields import LineQuery

router = APIRouter(prefix="/complaints", tags=["complaints"],
                   responses=problem_responses(400, 401, 422))
WRITE_ERRORS = problem_responses(404, 409)
Number = Annotated[str, Path(max_length=32)]


async def _public(request: Request, number: str, lang: str, actor: Actor) -> dict[str, Any]:
    return complaint_summary(await svc.get_complaint(number, get_read_uow(request),
                                                     actor=actor), lang)


@router.get("", response_model=ComplaintPage, summary="The complaint queue")
async def list_complaints(
    uow: ReadUowDep, actor: ActorDep, lang: LangDep,
    status: Annotated[list[Annotated[str, Query(max_length=16)]] | None, Query()] = None,
    category: LineQuery = None,
    owner_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    escalated: bool | None = None, order_number: LineQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: LineQuery = None,
) -> dict[str, Any]:
    rows, next_cursor = await svc.list_complaints(svc.ComplaintQuery(
        tuple(status or ()), category, owner_id, escalated, order_number, limit, cursor), uow,
        actor=actor)
    return {"items": [complaint_summary(r, lang) for r in rows], "next_cursor": next_cursor}


@router.get("/causes", response_model=list[CauseOut],
            summary="Why customers complain: complaints per category over the last days")
async def causes(uow: ReadUowDep, actor: ActorDep, lang: LangDep,
                 days: Annotated[int, Query(ge=1, le=366)] = 30) -> list[dict[str, Any]]:
    return causes_out(await svc.complaint_causes(uow, actor=actor, now=uow.now(), days=days),
                      lang)


@router.post("", status_code=201, response_model=ComplaintPublic, responses=WRITE_ERRORS,
             summary="Record a complaint (owner and deadlines are set at once)")
async def open_complaint(body: ComplaintCreate, uow: UowDep, request: Request,
                         actor: ActorDep, lang: LangDep) -> dict[str, Any]:
    number = await svc.open_complaint(svc.OpenComplaint(
        body.order_number, body.category, body.channel, body.summary, tuple(body.line_nos),
        body.message), uow, actor=actor, calendar=working_calendar(request))
    return await _public(request, number, lang, actor)


@router.get("/{number}", response_model=ComplaintPublic, responses=problem_responses(404),
            summary="One complaint, its conversation and timeline")
async def get_complaint(number: Number, uow: ReadUowDep, actor: ActorDep,
                        lang: LangDep) -> dict[str, Any]:
    return complaint_summary(await svc.get_complaint(number, uow, actor=actor), lang)


@router.post("/{number}/replies", status_code=201, response_model=ComplaintPublic,
             responses=WRITE_ERRORS,
             summary="Reply to the customer (sent on their channel) or note for colleagues")
async def reply(number: Number, body: ReplyIn, uow: UowDep, request: Request, actor: ActorDep,
                lang: LangDep) -> dict[str, Any]:
    await svc.reply(svc.Reply(number, body.body, actor, body.internal), uow)
    return await _public(request, number, lang, actor)


def _action(action: ComplaintAction, summary: str) -> None:
    async def endpoint(number: Number, request: Request, uow: UowDep, actor: ActorDep,
                       lang: LangDep, body: ComplaintActionIn | None = None) -> dict[str, Any]:
        body = body or ComplaintActionIn()
        await svc.act_on_complaint(svc.ActOnComplaint(
            number, action, actor, body.reason, body.resolution, body.expected_version), uow)
        return await _public(request, number, lang, actor)

    endpoint.__name__ = f"complaint_{action.value}"
    router.add_api_route(f"/{{number}}/{action.value}", endpoint, methods=["POST"],
                         response_model=ComplaintPublic, responses=WRITE_ERRORS,
                         summary=summary)


for _a, _s in ((ComplaintAction.RESOLVE, "Resolved (say what was done)"),
               (ComplaintAction.REOPEN, "Reopen (reason required)"),
               (ComplaintAction.CLOSE, "Close a resolved complaint"),
               (ComplaintAction.WITHDRAW, "The customer withdrew it (reason required)")):
    _action(_a, _s)
