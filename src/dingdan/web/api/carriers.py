"""Carriers and their services, rate tables (a spreadsheet upload), rate shopping."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Request, Response, UploadFile

from dingdan.domain.errors import FieldError, ValidationFailed
from dingdan.domain.labels import LabelSize
from dingdan.domain.rating import Needs
from dingdan.services import carriers as svc
from dingdan.services import labels
from dingdan.services.carriers import CarrierFields, ServiceFields, ShopRates
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep, app_settings, uow_factory
from dingdan.web.errors import problem_responses
from dingdan.web.fields import IdPath
from dingdan.web.schemas_carriers import (
    CarrierIn,
    CarrierOut,
    LabelIn,
    LabelOut,
    RateChoiceOut,
    RateImportOut,
    RateShopIn,
    RateShopOut,
    ShippedOut,
    VoidIn,
    WaybillNumbersIn,
    WaybillNumbersOut,
)

router = APIRouter(tags=["carriers"], responses=problem_responses(400, 401, 422))
MAX_SHEET_BYTES = 900_000  # under the body limit (1 MiB)
CodePath = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/carriers", response_model=list[CarrierOut])
async def list_carriers(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.list_carriers(uow, actor=actor)


@router.put("/carriers/{code}", response_model=CarrierOut)
async def put_carrier(code: CodePath, body: CarrierIn, uow: UowDep,
                      actor: ActorDep) -> dict[str, Any]:
    """Add or change a carrier and its services (services not named are kept)."""
    fields = CarrierFields(
        code, **body.model_dump(exclude={"services", "remote_surcharges"}),
        services=tuple(ServiceFields(**s.model_dump()) for s in body.services),
        remote_surcharges=None if body.remote_surcharges is None else tuple(
            (r.province, r.city, r.amount) for r in body.remote_surcharges))
    return await svc.put_carrier(fields, uow, actor=actor)


@router.post("/rate-tables", response_model=RateImportOut, status_code=201)
async def import_rate_table(file: Annotated[UploadFile, File(description=".xlsx or .csv")],
                            uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    """A zone rate table (首重/续重 per origin and destination province). Refused whole, with
    every bad row named, if a row is bad or a lane's weight bands leave gaps or overlap."""
    content = await file.read(MAX_SHEET_BYTES + 1)
    if len(content) > MAX_SHEET_BYTES:
        raise ValidationFailed(details=[FieldError("file", "too_large",
                                                   f"at most {MAX_SHEET_BYTES} bytes")])
    return await svc.import_rate_table(content, (file.filename or "rates")[:200], uow,
                                       actor=actor)


@router.post("/orders/{number}/rate-shop", response_model=RateShopOut,
             responses=problem_responses(404, 409))
async def shop_rates(number: str, body: RateShopIn, uow: UowDep,
                     actor: ActorDep) -> dict[str, Any]:
    """Every eligible service's price and promise for the order's parcel; the cheapest that
    keeps the deliver-by promise is chosen and recorded with the alternatives."""
    dims = None
    if body.length_mm and body.width_mm and body.height_mm:
        dims = (body.length_mm, body.width_mm, body.height_mm)
    return await svc.shop_rates(ShopRates(number, actor, body.weight_g, dims,
                                          Needs(body.cod, body.insured, body.cold_chain)), uow)


@router.get("/orders/{number}/rate-choices", response_model=list[RateChoiceOut],
            responses=problem_responses(404))
async def rate_choices(number: str, uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.rate_choices(number, uow, actor=actor)


@router.post("/carriers/{code}/waybill-numbers", response_model=WaybillNumbersOut,
             status_code=201, responses=problem_responses(404))
async def add_waybill_numbers(code: CodePath, body: WaybillNumbersIn, uow: UowDep,
                              actor: ActorDep) -> dict[str, Any]:
    """Add a range of waybill numbers the carrier issued (面单号段); check digits are the
    carrier's (its ``check_digit``)."""
    return await labels.add_waybill_numbers(labels.AddWaybillNumbers(
        code, body.first, body.count, actor, body.prefix, body.suffix, body.width), uow)


@router.post("/orders/{number}/labels", response_model=LabelOut, status_code=201,
             responses=problem_responses(404, 409), tags=["labels"])
async def issue_label(number: str, body: LabelIn, uow: UowDep,
                      actor: ActorDep) -> dict[str, Any]:
    """A label for the service rate shopping chose, numbered from its carrier's pool."""
    return await labels.issue_label(labels.IssueLabel(number, actor, LabelSize(body.size)),
                                    uow)


@router.get("/orders/{number}/labels", response_model=list[LabelOut],
            responses=problem_responses(404), tags=["labels"])
async def list_labels(number: str, uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await labels.list_labels(number, uow, actor=actor)


@router.get("/orders/{number}/labels/{label_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, **problem_responses(404)},
            tags=["labels"])
async def label_pdf(request: Request, number: str, label_id: IdPath, uow: ReadUowDep,
                    actor: ActorDep) -> Response:
    """The label as PDF, at its size, ready for a thermal printer."""
    pdf = await labels.label_pdf_of(number, label_id, uow, actor=actor,
                                    font_path=app_settings(request).label_font)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="label-{label_id}.pdf"'})


@router.post("/orders/{number}/labels/{label_id}/void", response_model=LabelOut,
             responses=problem_responses(404, 409), tags=["labels"])
async def void_label(number: str, label_id: IdPath, body: VoidIn, uow: UowDep,
                     actor: ActorDep) -> dict[str, Any]:
    return await labels.void_label(number, label_id, body.reason, uow, actor=actor)


@router.post("/orders/{number}/labels/{label_id}/ship", response_model=ShippedOut,
             responses=problem_responses(404, 409), tags=["labels"])
async def ship_with_label(request: Request, number: str, label_id: IdPath,
                          actor: ActorDep) -> dict[str, Any]:
    """Ship the order with this label's carrier and tracking number."""
    version = await labels.ship_with_label(number, label_id, uow_factory(request), actor=actor)
    return {"number": number, "version": version}
