"""The customer's "I need help" form: a minimal page (no script) that opens a return,
exchange, refund or claim for the order whose number and contact they give, then shows it.
The customer portal (issue 8) may replace it; both call the same use cases and the same
throttle as ``/api/v1/portal``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from dingdan.domain.aftersales import CaseType, Reason
from dingdan.domain.errors import DomainError
from dingdan.services import aftersales as cases
from dingdan.services._cases import CustomerProof
from dingdan.web.api.portal_aftersales import throttle_customer
from dingdan.web.auth import client_address
from dingdan.web.i18n import error_text, field_message
from dingdan.web.ui import page_language, render
from dingdan.web.ui.aftersales import _words
from dingdan.web.ui.deps import read_uow, write_uow

router = APIRouter()


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _page(request: Request, **ctx: Any) -> Response:
    base = {"lines": None, "cases": [], "case": None, "error": None, "fields": [],
            "order_number": None, "contact": None, "types": list(CaseType),
            "reasons": list(Reason)}
    return render(request, "ui/help.html", {**_words(request), **base, **ctx})


def _refused(request: Request, exc: DomainError, **ctx: Any) -> Response:
    lang = page_language(request)
    fields = [(d.loc, field_message(d.code, lang, d.message)) for d in exc.details]
    return _page(request, error=error_text(exc.code, lang, exc.params)[1], fields=fields, **ctx)


@router.get("/help")
async def help_page(request: Request) -> Response:
    return _page(request, order_number=request.query_params.get("order", "")[:32])


async def _proof(request: Request, form: FormData) -> CustomerProof:
    number, contact = _text(form, "order_number", 32), _text(form, "contact", 254)
    throttle_customer(request, number)
    return CustomerProof(number, contact, client_address(request),
                         request.headers.get("user-agent"))


@router.post("/help")
async def lookup(request: Request) -> Response:
    form = await request.form()
    try:
        proof = await _proof(request, form)
        lines = await cases.returnable_lines(read_uow(request), proof=proof)
        mine = await cases.customer_cases(read_uow(request), proof=proof)
    except DomainError as exc:
        return _refused(request, exc, order_number=_text(form, "order_number", 32))
    return _page(request, lines=[ln for ln in lines if ln["quantity"] > 0], cases=mine,
                 order_number=proof.order_number, contact=proof.contact)


@router.post("/help/request")
async def request_case(request: Request) -> Response:
    form = await request.form()
    try:
        proof = await _proof(request, form)
        wanted = []
        for key, value in form.multi_items():
            if key.startswith("qty-") and key[4:].isdigit() and isinstance(value, str) \
                    and value.strip().isdigit() and 0 < int(value) <= 1_000_000:
                wanted.append(cases.CaseLine(int(key[4:]), int(value)))
        kind, reason = _text(form, "type", 32), _text(form, "reason", 32)
        number = await cases.open_case_as_customer(cases.OpenCase(
            proof.order_number,
            CaseType(kind) if kind in CaseType.__members__.values() else CaseType.RETURN_REFUND,
            Reason(reason) if reason in Reason.__members__.values() else Reason.OTHER,
            tuple(wanted), _text(form, "description", 2000) or None), write_uow(request),
            proof=proof)
        case = await cases.get_case_as_customer(number, read_uow(request), proof=proof)
    except DomainError as exc:
        return _refused(request, exc, order_number=_text(form, "order_number", 32))
    return _page(request, case=case)
