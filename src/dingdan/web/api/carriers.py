"""Carriers and their services, rate tables (a spreadsheet upload), rate shopping."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, UploadFile

from dingdan.domain.errors import FieldError, ValidationFailed
from dingdan.domain.rating import Needs
from dingdan.services import carriers as svc
from dingdan.services.carriers import CarrierFields, ServiceFields, ShopRates
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep
from dingdan.web.errors import problem_responses
from dingdan.web.schemas_carriers import (
    CarrierIn,
    CarrierOut,
    RateChoiceOut,
    RateImportOut,
    RateShopIn,
    RateShopOut,
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
             responses=problem_responses(404))
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
