"""The review rule editor: the rule set in force, add or remove a rule, switch the
auto-review on or off. Each change publishes a new version (``services.review``); two
people editing from one version: the second is told and nothing changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dingdan.domain.blocklist import KINDS
from dingdan.domain.errors import DomainError
from dingdan.domain.permissions import Permission, can
from dingdan.domain.review import FIELDS, ReasonType
from dingdan.services import blocklist
from dingdan.services import review as svc
from dingdan.web.fields import IdPath
from dingdan.web.ui import error_response, redirect, render
from dingdan.web.ui.deps import PageActor, read_uow, write_uow

router = APIRouter()


@router.get("/review/rules")
async def rules_page(request: Request, actor: PageActor) -> Response:
    may_edit = can(actor, Permission.SETTINGS_WRITE)
    try:
        current = await svc.current_rules(read_uow(request), actor=actor)
        blocked = await blocklist.list_entries(read_uow(request), actor=actor) \
            if may_edit else []
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/review_rules.html", {
        "rs": current, "fields": FIELDS, "reasons": list(ReasonType), "may_edit": may_edit,
        "blocklist": blocked, "block_kinds": KINDS}, actor=actor)


@router.post("/review/blocklist")
async def block(request: Request, actor: PageActor,
                kind: Annotated[str, Form(max_length=8)],
                value: Annotated[str, Form(max_length=600)],
                reason: Annotated[str, Form(max_length=400)]) -> Response:
    try:
        await blocklist.add_entry(blocklist.BlockEntry(kind, value, reason, actor),
                                  write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/review/rules#blocklist")


@router.post("/review/blocklist/{entry_id}/remove")
async def unblock(entry_id: IdPath, request: Request, actor: PageActor) -> Response:
    try:
        await blocklist.remove_entry(entry_id, write_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/review/rules#blocklist")


async def _publish(request: Request, actor: Any, rules: list[dict[str, Any]], enabled: bool,
                   expected_version: int) -> Response:
    try:
        await svc.publish_rules(svc.PublishRules(rules, enabled, actor, expected_version),
                                write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/review/rules")


async def _current(request: Request, actor: Any) -> dict[str, Any]:
    return await svc.current_rules(read_uow(request), actor=actor)


@router.post("/review/rules/add")
async def add_rule(request: Request, actor: PageActor,
                   expected_version: Annotated[int, Form(ge=0, le=2**31 - 1)],
                   code: Annotated[str, Form(max_length=40)],
                   reason_type: Annotated[str, Form(max_length=32)],
                   when: Annotated[str, Form(max_length=2000)],
                   message: Annotated[str, Form(max_length=200)] = "") -> Response:
    current = await _current(request, actor)
    rule = {"code": code.strip(), "reason_type": reason_type,
            "when": [line.strip() for line in when.splitlines() if line.strip()],
            "message": message.strip()}
    return await _publish(request, actor, [*current["rules"], rule], current["enabled"],
                          expected_version)


@router.post("/review/rules/remove")
async def remove_rule(request: Request, actor: PageActor,
                      expected_version: Annotated[int, Form(ge=0, le=2**31 - 1)],
                      code: Annotated[str, Form(max_length=40)]) -> Response:
    current = await _current(request, actor)
    rules = [r for r in current["rules"] if r["code"] != code]
    return await _publish(request, actor, rules, current["enabled"], expected_version)


@router.post("/review/rules/switch")
async def switch(request: Request, actor: PageActor,
                 expected_version: Annotated[int, Form(ge=0, le=2**31 - 1)],
                 enabled: Annotated[str, Form(max_length=1)]) -> Response:
    current = await _current(request, actor)
    return await _publish(request, actor, current["rules"], enabled == "1", expected_version)
