"""Customer pages: the list with search, one customer (who they are, contacts, history,
orders), the edit form (tier, credit limit, blocklist, notes) and merging a duplicate."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dingdan.domain.customers import KINDS, TIERS
from dingdan.domain.errors import DomainError, FieldError, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.order_checks import finding_message
from dingdan.domain.permissions import Permission, can
from dingdan.services import customers as svc
from dingdan.services import review
from dingdan.web.fields import IdPath
from dingdan.web.ui import error_response, page_language, redirect, render
from dingdan.web.ui.deps import PageActor, read_uow, write_uow

router = APIRouter()


async def review_panel(request: Request, actor: Actor, number: str) -> dict[str, Any]:
    """What the order page's rule-trace panel shows (``ui/_order_review.html``)."""
    lang = page_language(request)
    return {"review_runs": await review.order_review(number, read_uow(request), actor=actor),
            "finding": lambda code: finding_message(code, lang)}


@router.get("/customers")
async def list_page(request: Request, actor: PageActor) -> Response:
    q = (request.query_params.get("q") or "").strip()[:200] or None
    try:
        rows = await svc.list_customers(q, 100, read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/customers.html", {"rows": rows, "q": q or ""}, actor=actor)


@router.get("/customers/{customer_id}")
async def customer_page(customer_id: IdPath, request: Request, actor: PageActor) -> Response:
    try:
        customer = await svc.get_customer(customer_id, read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/customer.html", {
        "c": customer, "tiers": TIERS, "kinds": KINDS,
        "may_edit": can(actor, Permission.CUSTOMER_WRITE)}, actor=actor)


def _yuan_to_fen(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal(-1)
    if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 10**13:
        raise ValidationFailed(details=[FieldError("credit_limit", "out_of_range",
                                                   "a credit limit is an amount ≥ 0")])
    return int(amount * 100)


@router.post("/customers/{customer_id}")
async def edit(customer_id: IdPath, request: Request, actor: PageActor,
               tier: Annotated[str, Form(max_length=16)],
               kind: Annotated[str, Form(max_length=16)],
               expected_version: Annotated[int, Form(ge=0, le=2**31 - 1)],
               credit_limit: Annotated[str, Form(max_length=20)] = "",
               blocked: Annotated[str | None, Form(max_length=8)] = None,
               blocked_reason: Annotated[str, Form(max_length=400)] = "",
               notes: Annotated[str, Form(max_length=4000)] = "") -> Response:
    try:
        changes: dict[str, Any] = {
            "tier": tier, "kind": kind, "credit_limit": _yuan_to_fen(credit_limit),
            "blocked": blocked == "1", "blocked_reason": blocked_reason.strip() or None,
            "notes": notes.strip() or None}
        await svc.update_customer(svc.UpdateCustomer(customer_id, changes, actor,
                                                     expected_version), write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/customers/{customer_id}")


@router.post("/customers/{customer_id}/merge")
async def merge(customer_id: IdPath, request: Request, actor: PageActor,
                from_customer: Annotated[int, Form(ge=1, le=2**63 - 1)]) -> Response:
    try:
        await svc.merge_customers(svc.MergeCustomers(customer_id, from_customer, actor),
                                  write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/customers/{customer_id}")
