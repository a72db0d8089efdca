"""The auto-review: the rule set (read, publish a new version), an order's rule trace, and
bulk approval from the review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from dingdan.domain.lifecycle import Action
from dingdan.services import backoffice as bo
from dingdan.services import blocklist
from dingdan.services import review as svc
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep, get_read_uow
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Bool, IdPath, Line, Text, Version

router = APIRouter(tags=["review"], responses=problem_responses(400, 401, 403, 422))

Condition = Annotated[Line, Field(min_length=1, max_length=200,
                                  examples=["order.total > 100000"])]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[Line, Field(min_length=1, max_length=40, examples=["large_order"])]
    reason_type: Annotated[Line, Field(max_length=32, examples=["fraud_risk"])]
    when: Annotated[list[Condition], Field(min_length=1, max_length=10)]
    message: Annotated[Text, Field(max_length=200)] = ""
    enabled: Bool = True


class RuleOut(BaseModel):
    code: str
    reason_type: str
    when: list[str]
    message: str = ""
    enabled: bool = True


class RuleSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: Annotated[list[RuleIn], Field(max_length=50)]
    enabled: Bool = Field(description="run the rules when orders are paid (or placed, COD)")
    expected_version: Version = Field(description="the version the edit started from "
                                                  "(0: the shipped default)")


class RuleSetVersion(BaseModel):
    version: int
    enabled: bool
    created_by: str
    created_at: datetime


class RuleSetOut(BaseModel):
    version: int
    enabled: bool
    rules: list[RuleOut]
    created_by: str | None
    created_at: datetime | None
    versions: list[RuleSetVersion]


class TraceOut(BaseModel):
    rule: str
    held: bool
    reason_type: str
    detail: str
    error: bool


class ReviewRunOut(BaseModel):
    rule_set_version: int
    approved: bool
    summary: str
    trace: list[TraceOut]
    findings: list[str]
    facts: dict[str, Any]
    created_at: datetime


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: Annotated[list[RuleIn], Field(max_length=50)]
    days: Annotated[int, Field(strict=True, ge=1, le=366)] = 30


class DryRunChange(BaseModel):
    number: str
    was_approved: bool
    approved: bool
    summary: str


class DryRunOut(BaseModel):
    orders: int = Field(description="orders the rules looked at in the window")
    would_approve: int
    would_hold: int
    changed: int = Field(description="orders whose decision would differ")
    examples: list[DryRunChange] = Field(description="the first 100 that would differ")


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Annotated[Line, Field(max_length=8, examples=["phone", "email", "address"])]
    value: Annotated[Line, Field(min_length=1, max_length=600, examples=["13800138000"])]
    reason: Annotated[Line, Field(min_length=1, max_length=400)]


class BlockOut(BaseModel):
    id: int
    kind: str
    value: str
    reason: str
    created_by: str
    created_at: datetime


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    numbers: Annotated[list[Annotated[Line, Field(min_length=1, max_length=32)]],
                       Field(min_length=1, max_length=200)]
    reason: Annotated[Text | None, Field(max_length=1000)] = None


class BulkOut(BaseModel):
    number: str
    ok: bool
    code: str | None = None


@router.get("/review/rules", response_model=RuleSetOut,
            summary="The review rule set in force (or the shipped default)")
async def get_rules(uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.current_rules(uow, actor=actor)


@router.put("/review/rules", response_model=RuleSetOut, responses=problem_responses(409),
            summary="Publish a new version of the rule set (settings.write)")
async def put_rules(body: RuleSetIn, uow: UowDep, request: Request,
                    actor: ActorDep) -> dict[str, Any]:
    await svc.publish_rules(svc.PublishRules([r.model_dump() for r in body.rules],
                                             body.enabled, actor, body.expected_version), uow)
    return await svc.current_rules(get_read_uow(request), actor=actor)


@router.post("/review/dry-run", response_model=DryRunOut,
             summary="Replay a rule set over the last days' reviewed orders (changes nothing)")
async def dry_run(body: DryRunIn, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.dry_run(svc.DryRun([r.model_dump() for r in body.rules], body.days,
                                        actor), uow)


@router.get("/review/blocklist", response_model=list[BlockOut],
            summary="Phones, emails and addresses that hold an order (settings.write)")
async def get_blocklist(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await blocklist.list_entries(uow, actor=actor)


@router.post("/review/blocklist", status_code=201, response_model=BlockOut,
             responses=problem_responses(409), summary="Add a phone, email or address")
async def add_to_blocklist(body: BlockIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await blocklist.add_entry(blocklist.BlockEntry(body.kind, body.value, body.reason,
                                                          actor), uow)


@router.delete("/review/blocklist/{entry_id}", status_code=204,
               responses=problem_responses(404))
async def remove_from_blocklist(entry_id: IdPath, uow: UowDep, actor: ActorDep) -> Response:
    await blocklist.remove_entry(entry_id, uow, actor=actor)
    return Response(status_code=204)


@router.get("/orders/{number}/review", response_model=list[ReviewRunOut],
            responses=problem_responses(404), summary="The order's rule trace, newest first")
async def order_review(number: str, uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.order_review(number, uow, actor=actor)


class RunOut(BaseModel):
    number: str
    status: str


@router.post("/orders/{number}/run-rules", response_model=RunOut,
             responses=problem_responses(404, 409),
             summary="Run the rules in force over a paid order that waits")
async def run_rules(number: str, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    status = await svc.run_rules(svc.RunRules(number, actor), uow)
    return {"number": number, "status": status}


@router.post("/review/approve", response_model=list[BulkOut],
             summary="Approve many orders of the review queue (one result per order)")
async def bulk_approve(body: BulkIn, request: Request, actor: ActorDep) -> list[dict[str, Any]]:
    results = await bo.bulk_change_status(body.numbers, Action.APPROVE, actor, body.reason,
                                          request.app.state.uow)
    return [{"number": r.number, "ok": r.ok, "code": r.code} for r in results]
