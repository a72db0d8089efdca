"""Back-office pages of carriers (issue 12): the carriers and their rate tables, the parcels
in trouble, and an order's shipping page — rate shopping, labels and the tracking history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from dingdan.domain import tracking
from dingdan.domain.errors import DomainError, FieldError, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.labels import LABEL, LabelSize, LabelStatus
from dingdan.domain.permissions import Permission, can
from dingdan.domain.tracking import TrackingStatus
from dingdan.services import carriers, labels, queries
from dingdan.services import tracking as tracking_svc
from dingdan.web.ui import error_response, page_language, redirect, render
from dingdan.web.ui.carriers_text import carrier_text
from dingdan.web.ui.deps import PageActor, read_uow, uows, write_uow

router = APIRouter()
MAX_SHEET_BYTES = 900_000


def _words(request: Request) -> dict[str, Any]:
    lang = page_language(request)

    def tracking_label(status: str) -> str:
        return tracking.label(TrackingStatus(status), lang) \
            if status in TrackingStatus.__members__.values() else status

    def label_status(status: str) -> str:
        return LABEL.status_label(LabelStatus(status), lang) \
            if status in LabelStatus.__members__.values() else status

    return {"tc": lambda key: carrier_text(key, lang), "tracking_label": tracking_label,
            "label_status": label_status}


@router.get("/carriers")
async def carriers_page(request: Request, actor: PageActor) -> Response:
    try:
        rows = await carriers.list_carriers(read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/carriers.html", {
        **_words(request), "rows": rows, "may_edit": can(actor, Permission.SETTINGS_WRITE)},
        actor=actor)


@router.post("/carriers/rate-table")
async def import_rate_table(request: Request, actor: PageActor,
                            file: Annotated[UploadFile, File()]) -> Response:
    try:
        content = await file.read(MAX_SHEET_BYTES + 1)
        if len(content) > MAX_SHEET_BYTES:
            raise ValidationFailed(details=[FieldError("file", "too_large", "file too large")])
        done = await carriers.import_rate_table(content, (file.filename or "rates")[:200],
                                                write_uow(request), actor=actor)
        rows = await carriers.list_carriers(read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    words = _words(request)
    flash = words["tc"]("carriers.imported").format(rows=done["rows"],
                                                    services=", ".join(done["services"]))
    return render(request, "ui/carriers.html", {
        **words, "rows": rows, "may_edit": True, "imported": flash}, actor=actor)


@router.get("/tracking/exceptions")
async def trouble_page(request: Request, actor: PageActor) -> Response:
    try:
        rows = await tracking_svc.tracking_exceptions(read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/parcels_in_trouble.html", {**_words(request), "rows": rows},
                  actor=actor)


async def _shipping_context(request: Request, actor: Actor, number: str) -> dict[str, Any]:
    order = await queries.get_order(number, read_uow(request), actor=actor)
    history = await tracking_svc.parcel_history(number, read_uow(request), actor=actor)
    return {**_words(request), "order": order, "history": history,
            "choices": await carriers.rate_choices(number, read_uow(request), actor=actor),
            "labels": await labels.list_labels(number, read_uow(request), actor=actor),
            "sizes": [s.value for s in LabelSize],
            "may_fulfil": can(actor, Permission.ORDER_FULFIL)}


@router.get("/orders/{number}/shipping")
async def shipping_page(number: str, request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _shipping_context(request, actor, number)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/shipping.html", ctx, actor=actor)


@router.post("/orders/{number}/shipping/rate-shop")
async def shop_rates(number: str, request: Request, actor: PageActor) -> Response:
    try:
        await carriers.shop_rates(carriers.ShopRates(number, actor), write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/orders/{number}/shipping")


@router.post("/orders/{number}/shipping/labels")
async def issue_label(number: str, request: Request, actor: PageActor,
                      size: Annotated[str, Form(max_length=16)] = LabelSize.LARGE.value,
                      ) -> Response:
    try:
        chosen = LabelSize(size) if size in LabelSize.__members__.values() \
            else LabelSize.LARGE
        await labels.issue_label(labels.IssueLabel(number, actor, chosen), write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/orders/{number}/shipping")


@router.post("/orders/{number}/shipping/labels/{label_id}/void")
async def void_label(number: str, label_id: int, request: Request, actor: PageActor,
                     reason: Annotated[str, Form(max_length=400)] = "") -> Response:
    try:
        await labels.void_label(number, label_id, reason, write_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/orders/{number}/shipping")


@router.post("/orders/{number}/shipping/labels/{label_id}/ship")
async def ship_with_label(number: str, label_id: int, request: Request,
                          actor: PageActor) -> Response:
    try:
        await labels.ship_with_label(number, label_id, uows(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/orders/{number}/shipping")
