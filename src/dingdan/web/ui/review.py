"""The review queue: orders waiting for a reviewer, why they are there, who took them;
assign to me, approve, hold (and release from the on-hold tab)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dingdan.domain.errors import DomainError
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.permissions import Permission, can
from dingdan.services import backoffice as bo
from dingdan.services import orders as svc
from dingdan.services import queries, review
from dingdan.web.ui import error_response, render
from dingdan.web.ui.deps import PageActor, read_uow, write_uow, write_uows

router = APIRouter()
QUEUE_ACTIONS = (Action.SUBMIT_REVIEW, Action.APPROVE, Action.HOLD, Action.RELEASE)


def _params(request: Request) -> tuple[Status, bool]:
    status = request.query_params.get("status", Status.PENDING_REVIEW.value)
    chosen = Status(status) if status in (s.value for s in bo.REVIEW_STATUSES) \
        else Status.PENDING_REVIEW
    return chosen, request.query_params.get("mine") == "1"


async def _queue_context(request: Request, actor: Actor, status: Status,
                         mine: bool) -> dict[str, Any]:
    rows = await bo.review_queue(read_uow(request), actor, status, mine)
    held = await review.queue_reasons([r["number"] for r in rows], read_uow(request),
                                      actor=actor)
    for r in rows:
        r["actions"] = [a for a in (Action(x) for x in queries.allowed_actions_for(actor, r))
                        if a in QUEUE_ACTIONS]
        run = held.get(r["number"])  # the rules' typed reasons, if they held it
        r["rule_reasons"] = [t for t in run["trace"] if t["held"]] if run else []
    return {"rows": rows, "status": status, "mine": mine, "me": bo.actor_key(actor),
            "may_review": can(actor, Permission.ORDER_REVIEW),
            "tabs": bo.REVIEW_STATUSES}


@router.get("/review")
async def queue_page(request: Request, actor: PageActor) -> Response:
    status, mine = _params(request)
    try:
        ctx = await _queue_context(request, actor, status, mine)
        ctx["live_after"] = await bo.last_event_id(read_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/review.html", ctx, actor=actor)


@router.get("/review/rows")
async def queue_rows(request: Request, actor: PageActor) -> Response:
    status, mine = _params(request)
    try:
        ctx = await _queue_context(request, actor, status, mine)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_review_rows.html", ctx, actor=actor)


@router.post("/review/bulk-approve")
async def bulk_approve(request: Request, actor: PageActor) -> Response:
    """Approve the ticked orders (each in its own unit of work); the refreshed queue."""
    status, mine = _params(request)
    form = await request.form()
    numbers = [str(n)[:32] for n in form.getlist("numbers")][:bo.MAX_BULK + 1]
    try:
        results = await bo.bulk_change_status(numbers, Action.APPROVE, actor, None,
                                              write_uows(request))
        ctx = await _queue_context(request, actor, status, mine)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.done" if all(r.ok for r in results) else None
    ctx["bulk_failed"] = [r for r in results if not r.ok]
    return render(request, "ui/_review_rows.html", ctx, actor=actor)


@router.post("/review/{number}/{verb}")
async def act(number: str, verb: str, request: Request, actor: PageActor,
              reason: Annotated[str | None, Form(max_length=1000)] = None,
              expected_version: Annotated[int | None, Form()] = None) -> Response:
    """assign, unassign, approve, hold or release; answers with the refreshed queue."""
    status, mine = _params(request)
    try:
        if verb in ("assign", "unassign"):
            await bo.assign_review(number, actor, write_uow(request), take=verb == "assign")
        elif verb == "run-rules":  # a paid order that waited: let the rules look at it
            await review.run_rules(review.RunRules(number, actor), write_uow(request))
        elif verb in (a.value for a in QUEUE_ACTIONS):
            await svc.change_status(svc.ChangeStatus(
                number, Action(verb), actor, (reason or "").strip() or None, expected_version),
                write_uow(request))
        else:
            return Response(status_code=404)
        ctx = await _queue_context(request, actor, status, mine)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.done"
    return render(request, "ui/_review_rows.html", ctx, actor=actor)
