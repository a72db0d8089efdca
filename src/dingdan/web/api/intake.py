"""Order intake through the API: sheet imports (upload = check, then run or discard, and the
row-by-row report) and the shops connected by webhook. The shops' own webhook receivers are
``web/intake_hooks.py`` (signed by the shop, not called with a token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from dingdan.domain.errors import FieldError, ValidationFailed
from dingdan.services import edi, shops
from dingdan.services import imports as svc
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep, app_settings, uow_factory
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Bool, IdPath, Line, Version

router = APIRouter(tags=["intake"], responses=problem_responses(400, 401, 403, 422))
ONE = problem_responses(404)
CHANGE = problem_responses(404, 409)


class ImportOut(BaseModel):
    id: int
    channel: str
    filename: str
    status: str = Field(description="checked, importing, completed or discarded")
    partial: bool
    row_count: int
    order_count: int
    bad_rows: int = Field(description="rows the check found something wrong in")
    done: int = Field(description="orders the import has gone through so far")
    created: int
    failed: int
    version: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    closed_at: datetime | None


class ReportRow(BaseModel):
    row: int = Field(description="the sheet's row (1 is the header)")
    column: str
    code: str
    message: str
    order_id: str
    outcome: str = Field(description="bad, pending, created, unchanged, updated or failed")
    order_number: str | None


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partial: Bool | None = Field(None, description="import the good orders even if some "
                                                   "rows are bad")
    expected_version: Version | None = None


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: Version | None = None


class ShopIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: Annotated[Line, Field(min_length=2, max_length=32, examples=["shopify-main"])]
    kind: Annotated[Line, Field(max_length=16, examples=["shopify", "woocommerce", "json"])]
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    secret: Annotated[Line, Field(min_length=16, max_length=256,
                                  description="the key the shop signs with; never shown "
                                              "again")]
    mapping: Annotated[dict[Annotated[str, Field(max_length=32)],
                            Annotated[Line, Field(max_length=200)]] | None,
                       Field(max_length=40, description="kind json: column -> dotted path "
                                                        "into the order JSON")] = None


class ShopOut(BaseModel):
    id: int
    code: str
    kind: str
    name: str
    active: bool


def parse_mapping(raw: str | None) -> dict[str, str]:
    """The mapping form field: a JSON object of column -> header (empty: none given)."""
    if not raw:
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise ValidationFailed(details=[FieldError(
            "mapping", "value_error", 'a JSON object of column -> header, e.g. '
                                      '{"order_id": "Order No."}')])
    return value


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(app_settings(request).timezone)


async def read_upload(file: UploadFile, limit: int) -> bytes:
    return await file.read(limit + 1)


@router.post("/imports", status_code=201, response_model=ImportOut,
             summary="Upload a sheet of orders: checked row by row, nothing imported yet")
async def upload(request: Request, uow: UowDep, actor: ActorDep,
                 file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or "
                                                              ".xlsx; one row per line")],
                 channel: Annotated[str, Form(max_length=32)] = "csv",
                 partial: Annotated[bool, Form()] = False,
                 mapping: Annotated[str | None, Form(max_length=4000)] = None,
                 ) -> dict[str, Any]:
    content = await read_upload(file, app_settings(request).max_upload_bytes)
    return await svc.check_import(svc.CheckImport(
        channel.strip(), (file.filename or "upload")[:200], content, actor, _tz(request),
        parse_mapping(mapping), partial), uow)


@router.get("/imports", response_model=list[ImportOut], summary="Recent imports")
async def list_imports(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.list_imports(uow, actor=actor)


@router.get("/imports/{batch_id}", response_model=ImportOut, responses=ONE,
            summary="One import and its progress")
async def get_import(batch_id: IdPath, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.get_import(batch_id, uow, actor=actor)


@router.get("/imports/{batch_id}/report", response_model=list[ReportRow], responses=ONE,
            summary="Row by row: what the check found and what the import made of each order")
async def report(batch_id: IdPath, uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.import_report(batch_id, uow, actor=actor)


@router.post("/imports/{batch_id}/run", status_code=202, response_model=ImportOut,
             responses=CHANGE, summary="Import a checked batch (in the background; poll it)")
async def run(batch_id: IdPath, request: Request, uow: UowDep, actor: ActorDep,
              tasks: BackgroundTasks, body: RunIn | None = None) -> dict[str, Any]:
    body = body or RunIn()
    batch = await svc.start_import(batch_id, uow, actor=actor, partial=body.partial,
                                   expected_version=body.expected_version)
    tasks.add_task(svc.continue_import, batch_id, uow_factory(request), actor=actor,
                   tz=_tz(request))
    return batch


@router.post("/imports/{batch_id}/discard", response_model=ImportOut, responses=CHANGE,
             summary="Discard a checked batch")
async def discard(batch_id: IdPath, uow: UowDep, actor: ActorDep,
                  body: VersionIn | None = None) -> dict[str, Any]:
    return await svc.discard_import(batch_id, uow, actor=actor,
                                    expected_version=(body or VersionIn()).expected_version)


@router.post("/channel-sources", status_code=201, response_model=ShopOut,
             responses=problem_responses(409),
             summary="Connect a shop that sends its orders by webhook")
async def connect_shop(body: ShopIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await shops.connect_shop(shops.ConnectShop(body.code, body.kind, body.name,
                                                      body.secret, actor, body.mapping), uow)


@router.get("/channel-sources", response_model=list[ShopOut], summary="Connected shops")
async def list_shops(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await shops.list_shops(uow, actor=actor)


class EdiOrderOut(BaseModel):
    external_id: str = Field(description="the partner's order number (BGM, BEG)")
    outcome: str = Field(description="created, updated, unchanged, stale or refused")
    number: str | None
    reason: str


class EdiOut(BaseModel):
    format: str = Field(description="edifact or x12")
    acknowledgements: list[str] = Field(description="per order: the ORDRSP (EDIFACT) or 855 "
                                                    "(X12) to send back")
    orders: list[EdiOrderOut]


@router.post("/edi/interchanges", response_model=EdiOut,
             summary="An EDI interchange of purchase orders (EDIFACT ORDERS D.96A or X12 850)",
             # The body is the interchange as it is; application/edifact and
             # application/edi-x12 are taken alike (the syntax is told by its first segment).
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/plain": {"schema": {"type": "string", "maxLength": 1048576}}}}})
async def edi_interchange(request: Request, actor: ActorDep) -> dict[str, Any]:
    """Each order lands once (channel ``edi-<sender id>``, the partner's order number); the
    answer carries the acknowledgements. An interchange that does not parse is a 422
    ``EDI_REJECTED`` whose ``params.acknowledgement`` is the CONTRL or 997."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # X12 and EDIFACT level A/B are ASCII; UNOC is Latin-1
    answer = await edi.receive_edi(text, actor, uow_factory(request))
    return {"format": answer.format, "acknowledgements": answer.acknowledgements,
            "orders": [vars(o) for o in answer.orders]}


class ShipNoticeOut(BaseModel):
    format: str = Field(description="edifact (DESADV) or x12 (856)")
    message: str


@router.get("/orders/{number}/ship-notice", response_model=ShipNoticeOut,
            responses=problem_responses(404, 409),
            summary="The advance ship notice (DESADV / 856) of a shipped EDI order")
async def ship_notice(number: str, uow: ReadUowDep, actor: ActorDep) -> dict[str, str]:
    return await edi.ship_notice(number, uow, actor=actor)
