"""The audit log, read-only (``audit.read``): who changed what, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from dingdan.services.audit import AuditQuery, list_audit
from dingdan.web.deps import ActorDep, ReadUowDep
from dingdan.web.errors import problem_responses
from dingdan.web.fields import INT64_MAX, Line, LineQuery, Moment

router = APIRouter(tags=["audit"], responses=problem_responses(400, 401, 403, 422))


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_kind: str
    actor_id: str
    user_id: int | None
    roles: list[str]
    source: str
    ip: str | None
    client: str | None
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first")
async def audit_log(
    uow: ReadUowDep, actor: ActorDep,
    user_id: Annotated[int | None, Query(
        ge=1, le=INT64_MAX,
        description="the person (signed in or through their token)")] = None,
    by: Annotated[Line | None, Query(
        max_length=200, description="an actor label, e.g. token:shop")] = None,
    object_type: Annotated[Line | None, Query(
        max_length=200, description="order, product, warehouse, stock, user, token")] = None,
    object_id: LineQuery = None,
    action: Annotated[Line | None, Query(
        max_length=200,
        description="e.g. order.approve, or a prefix ending in '.': order.")] = None,
    at_from: Moment | None = None,
    at_to: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: LineQuery = None,
) -> dict[str, Any]:
    rows, next_cursor = await list_audit(AuditQuery(
        user_id=user_id, actor=by, object_type=object_type, object_id=object_id, action=action,
        at_from=at_from, at_to=at_to, limit=limit), uow, actor=actor, cursor=cursor)
    return {"items": rows, "next_cursor": next_cursor}
