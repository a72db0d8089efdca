"""Order intake in the back office: sheet imports (upload = check, the row-by-row report as a
page and a CSV download, import with a progress bar, discard) and the fast entry form for
orders taken on the phone."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import Response

from dingdan.domain.entry import parse_contact_line
from dingdan.domain.errors import DomainError, Forbidden
from dingdan.domain.events import Actor
from dingdan.domain.imports import IMPORT, BatchFacts, BatchStatus
from dingdan.domain.orders import (
    PAYMENT_METHODS,
    Address,
    Customer,
    LineDraft,
    OrderDraft,
    normalize_phone,
)
from dingdan.domain.permissions import Permission, can
from dingdan.services import catalogue, queries
from dingdan.services import imports as svc
from dingdan.services.catalogue import ProductQuery
from dingdan.services.orders import PlaceOrder, place_order
from dingdan.services.queries import ListQuery
from dingdan.web.api.intake import parse_mapping
from dingdan.web.deps import app_settings
from dingdan.web.fields import IdPath
from dingdan.web.i18n import field_message
from dingdan.web.ui import error_response, page_language, redirect, render
from dingdan.web.ui.deps import PageActor, read_uow, uows, write_uow
from dingdan.web.ui.export import spreadsheet_text
from dingdan.web.ui.text import text

router = APIRouter()
REPORT_ROWS = 500  # shown on the page; the download has them all


def _tz(request: Request) -> ZoneInfo:
    return ZoneInfo(app_settings(request).timezone)


@router.get("/imports")
async def imports_page(request: Request, actor: PageActor) -> Response:
    try:
        rows = await svc.list_imports(read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/imports.html", {"rows": rows}, actor=actor)


@router.post("/imports")
async def upload(request: Request, actor: PageActor,
                 file: Annotated[UploadFile, File()],
                 channel: Annotated[str, Form(max_length=32)] = "csv",
                 partial: Annotated[str | None, Form(max_length=8)] = None,
                 mapping: Annotated[str | None, Form(max_length=4000)] = None) -> Response:
    content = await file.read(app_settings(request).max_upload_bytes + 1)
    try:
        batch = await svc.check_import(svc.CheckImport(
            channel.strip() or "csv", (file.filename or "upload")[:200], content, actor,
            _tz(request), parse_mapping(mapping), partial=partial is not None),
            write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/imports/{batch['id']}")


async def _context(request: Request, actor: Actor, batch_id: int) -> dict[str, Any]:
    batch = await svc.get_import(batch_id, read_uow(request), actor=actor)
    report = await svc.import_report(batch_id, read_uow(request), actor=actor)
    lang = page_language(request)
    for r in report[:REPORT_ROWS]:
        r["text"] = field_message(r["code"], lang, r["message"]) if r["code"] else ""
    good = len({r["order_id"] for r in report if r["outcome"] != "bad"})
    status = BatchStatus(batch["status"])
    actions = {a.value for a in IMPORT.allowed_actions(
        status, BatchFacts(status, batch["bad_rows"], good, True))}
    whole = batch["bad_rows"] == 0 and "import" in actions
    return {"batch": batch, "report": report[:REPORT_ROWS], "more": len(report) > REPORT_ROWS,
            "can_import": whole, "can_partial": "import" in actions and not whole,
            "can_discard": "discard" in actions,
            "percent": 100 * batch["done"] // max(batch["order_count"], 1)}


@router.get("/imports/{batch_id}")
async def import_page(batch_id: IdPath, request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _context(request, actor, batch_id)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/import.html", ctx, actor=actor)


@router.get("/imports/{batch_id}/progress")
async def progress(batch_id: IdPath, request: Request, actor: PageActor) -> Response:
    """The progress bar's fragment, polled while the batch is importing; once done it
    tells HTMX to load the whole page (its report) again."""
    try:
        ctx = await _context(request, actor, batch_id)
    except DomainError as exc:
        return error_response(request, exc, actor)
    if ctx["batch"]["status"] != BatchStatus.IMPORTING.value:
        return redirect(request, f"/imports/{batch_id}")
    return render(request, "ui/_import_progress.html", ctx, actor=actor)


@router.post("/imports/{batch_id}/run")
async def run(batch_id: IdPath, request: Request, actor: PageActor, tasks: BackgroundTasks,
              partial: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    try:
        await svc.start_import(batch_id, write_uow(request), actor=actor,
                               partial=True if partial else None)
    except DomainError as exc:
        return error_response(request, exc, actor)
    tasks.add_task(svc.continue_import, batch_id, uows(request), actor=actor,
                   tz=_tz(request))
    return redirect(request, f"/imports/{batch_id}")


@router.post("/imports/{batch_id}/discard")
async def discard(batch_id: IdPath, request: Request, actor: PageActor) -> Response:
    try:
        await svc.discard_import(batch_id, write_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/imports/{batch_id}")


REPORT_COLUMNS = ("import.row", "import.column", "import.code", "import.message",
                  "import.order_id", "import.outcome", "field.number")


@router.get("/imports/{batch_id}/report.csv")
async def report_csv(batch_id: IdPath, request: Request, actor: PageActor) -> Response:
    """The whole report, for Excel (UTF-8 with BOM) and safe in it: no cell is a formula."""
    try:
        rows = await svc.import_report(batch_id, read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    lang = page_language(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([text(c, lang) for c in REPORT_COLUMNS])
    for r in rows:
        writer.writerow([r["row"], *(spreadsheet_text(str(r[k] or "")) for k in (
            "column", "code", "message", "order_id", "outcome", "order_number"))])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="import-{batch_id}-report.csv"'})


# --- orders taken on the phone ------------------------------------------------------------

ENTRY_LINES = 5  # line rows the form shows


def _blank_contact() -> dict[str, str]:
    return {k: "" for k in ("name", "phone", "email", "province", "city", "district",
                            "street", "postcode")}


@router.get("/orders/new")
async def entry_page(request: Request, actor: PageActor) -> Response:
    if not can(actor, Permission.ORDER_CREATE):
        return error_response(request, Forbidden({"permission": "order.create"}), actor)
    return render(request, "ui/order_new.html", {
        "key": uuid.uuid4().hex, "c": _blank_contact(), "lines": range(ENTRY_LINES),
        "methods": sorted(PAYMENT_METHODS)}, actor=actor)


@router.post("/orders/new/parse")
async def parse_line(request: Request, actor: PageActor,
                     line: Annotated[str, Form(max_length=500)] = "") -> Response:
    """The contact fields filled from one pasted line (``张三 13800138000 广东省…``)."""
    parsed = parse_contact_line(line)
    c = {**_blank_contact(), **{k: getattr(parsed, k) for k in (
        "name", "phone", "province", "city", "district", "street")}}
    return render(request, "ui/_entry_contact.html", {"c": c}, actor=actor)


@router.get("/orders/new/customer")
async def find_customer(request: Request, actor: PageActor) -> Response:
    """The contact of the customer's latest order, looked up by their phone."""
    raw = (request.query_params.get("phone") or "").strip()[:32]
    c = {**_blank_contact(), "phone": raw}
    phone = normalize_phone(raw) if raw else None
    if phone:
        try:
            rows, _ = await queries.list_orders(ListQuery(phone=phone, limit=1),
                                                read_uow(request), actor=actor)
        except DomainError as exc:
            return error_response(request, exc, actor)
        if rows:
            o = rows[0]
            c.update(name=o.get("customer_name") or "", email=o.get("customer_email") or "",
                     province=o.get("ship_province") or "", city=o.get("ship_city") or "",
                     district=o.get("ship_district") or "", street=o.get("ship_street") or "",
                     postcode=o.get("ship_postcode") or "")
    return render(request, "ui/_entry_contact.html", {"c": c, "found": bool(c["name"])},
                  actor=actor)


@router.get("/orders/new/products")
async def find_products(request: Request, actor: PageActor) -> Response:
    """Products by SKU, name or barcode, as the options of the lines' list."""
    q = (request.query_params.get("q") or "").strip()[:100]
    try:
        rows = await catalogue.list_products(ProductQuery(q or None, True, 20, None),
                                             read_uow(request), actor=actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_entry_products.html", {"rows": rows}, actor=actor)


@router.post("/orders/new")
async def place_phone_order(request: Request, actor: PageActor) -> Response:
    form = await request.form()

    def field(name: str, limit: int = 200) -> str:
        value = form.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    lines = []
    for i in range(ENTRY_LINES):
        sku, qty = field(f"sku_{i}", 64), field(f"qty_{i}", 9)
        if sku:
            lines.append(LineDraft(sku, int(qty) if qty.isdigit() else 0))
    phone = field("phone", 32)
    draft = OrderDraft(
        channel="phone", customer=Customer(field("name"), phone or None,
                                           field("email", 254) or None),
        shipping_address=Address(field("name"), phone, field("province", 64),
                                 field("city", 64), field("district", 64),
                                 field("street", 400), field("postcode", 16) or None),
        lines=tuple(lines), payment_method=field("payment_method", 32) or None,
        notes=field("notes", 2000) or None)
    try:
        placed = await place_order(PlaceOrder(draft, actor, field("key", 64) or None),
                                   write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/orders/{placed.number}")
