"""Products, warehouses and stock: lists, new products and warehouses, the low-stock filter,
receipts and adjustments (each with a reason, recorded in the stock ledger by
``services.inventory.move_stock``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dingdan.domain.errors import DomainError, FieldError, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.inventory import MovementKind
from dingdan.domain.money import MINOR_UNITS
from dingdan.domain.permissions import Permission, can, may_touch_warehouse
from dingdan.services import catalogue, inventory
from dingdan.services.catalogue import ProductFields, ProductQuery, WarehouseFields
from dingdan.web.ui import error_response, render
from dingdan.web.ui.deps import PageActor, read_uow, write_uow

router = APIRouter()


async def _products_context(request: Request, actor: Actor, q: str,
                            after: str | None) -> dict[str, Any]:
    rows = await catalogue.list_products(ProductQuery(q or None, None, 100, after),
                                         read_uow(request), actor=actor)
    return {"rows": rows, "q": q, "next_after": rows[-1]["sku"] if len(rows) == 100 else None,
            "may_edit": can(actor, Permission.CATALOGUE_WRITE)}


@router.get("/products")
async def products_page(request: Request, actor: PageActor) -> Response:
    q = (request.query_params.get("q") or "").strip()[:100]
    after = request.query_params.get("after") or None
    return render(request, "ui/products.html", await _products_context(request, actor, q, after),
                  actor=actor)


def _minor_units(price: str, currency: str) -> int:
    """``"12.50"`` CNY -> 1250; refuses what is not an amount of that currency."""
    digits = MINOR_UNITS.get(currency, 2)
    try:
        value = Decimal(price.strip().replace(",", "")).scaleb(digits)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value != value.to_integral_value():
        raise ValidationFailed(details=[FieldError("price", "value_error", "not an amount")])
    return int(value)


@router.post("/products")
async def create_product(request: Request, actor: PageActor,
                         sku: Annotated[str, Form(max_length=64)],
                         name: Annotated[str, Form(max_length=200)],
                         price: Annotated[str, Form(max_length=20)],
                         currency: Annotated[str, Form(max_length=3)] = "CNY",
                         barcode: Annotated[str | None, Form(max_length=64)] = None) -> Response:
    try:
        cur = currency.strip().upper()
        await catalogue.create_product(ProductFields(
            sku.strip(), name.strip(), _minor_units(price, cur), cur, barcode or None),
            write_uow(request), actor=actor)
        ctx = await _products_context(request, actor, sku.strip(), None)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.saved"
    return render(request, "ui/products.html", ctx, actor=actor)


async def _warehouses_context(request: Request, actor: Actor) -> dict[str, Any]:
    return {"rows": await catalogue.list_warehouses(read_uow(request), actor=actor),
            "may_edit": can(actor, Permission.CATALOGUE_WRITE)}


@router.get("/warehouses")
async def warehouses_page(request: Request, actor: PageActor) -> Response:
    return render(request, "ui/warehouses.html", await _warehouses_context(request, actor),
                  actor=actor)


@router.post("/warehouses")
async def create_warehouse(request: Request, actor: PageActor,
                           code: Annotated[str, Form(max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")],
                           name: Annotated[str, Form(max_length=200)],
                           region: Annotated[str, Form(max_length=64)],
                           city: Annotated[str | None, Form(max_length=64)] = None,
                           priority: Annotated[int, Form()] = 0) -> Response:
    try:
        await catalogue.create_warehouse(WarehouseFields(
            code.strip(), name.strip(), region.strip(), city or None, None, priority),
            write_uow(request), actor=actor)
        ctx = await _warehouses_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.saved"
    return render(request, "ui/warehouses.html", ctx, actor=actor)


def _threshold(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 10), 1_000_000))
    except ValueError:
        return 10


async def _stock_context(request: Request, actor: Actor, sku: str, warehouse: str, low: bool,
                         threshold: int) -> dict[str, Any]:
    # The filter offers the warehouses this person may see (docs/security.md).
    warehouses = [w for w in await catalogue.list_warehouses(read_uow(request), actor=actor)
                  if may_touch_warehouse(actor, w["id"])]
    rows = await inventory.stock_levels(inventory.StockLevels(
        sku or None, warehouse or None, low, threshold), read_uow(request), actor=actor)
    wid = next((w["id"] for w in warehouses if w["code"] == warehouse), None)
    movements = await inventory.stock_movements(inventory.StockMovements(
        sku or None, wid, 20), read_uow(request), actor=actor)
    return {"rows": rows, "warehouses": warehouses, "sku": sku, "warehouse": warehouse,
            "low": low, "threshold": threshold, "movements": movements,
            "warehouse_codes": {w["id"]: w["code"] for w in warehouses},
            "may_move": can(actor, Permission.STOCK_WRITE), "kinds": list(MovementKind)[:2]}


@router.get("/stock")
async def stock_page(request: Request, actor: PageActor) -> Response:
    p = request.query_params
    try:
        ctx = await _stock_context(request, actor, (p.get("sku") or "").strip()[:64],
                                   (p.get("warehouse") or "").strip()[:32], p.get("low") == "1",
                                   _threshold(p.get("threshold")))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/stock.html", ctx, actor=actor)


@router.post("/stock/move")
async def move(request: Request, actor: PageActor, sku: Annotated[str, Form(max_length=64)],
               warehouse: Annotated[str, Form(max_length=32)], kind: Annotated[str, Form()],
               quantity: Annotated[int, Form()], reason: Annotated[str, Form(max_length=400)],
               reference: Annotated[str | None, Form(max_length=64)] = None) -> Response:
    """A receipt or an adjustment; answers with the stock page for that SKU."""
    try:
        move_kind = MovementKind(kind) if kind in ("receipt", "adjustment") \
            else MovementKind.SHIPMENT  # refused by the use case, with its message
        await inventory.move_stock(inventory.MoveStock(
            sku.strip(), warehouse.strip(), quantity, move_kind, reason, actor,
            reference or None), write_uow(request))
        ctx = await _stock_context(request, actor, sku.strip(), "", False, 10)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.saved"
    return render(request, "ui/stock.html", ctx, actor=actor,
                  headers={"HX-Push-Url": f"/stock?sku={sku.strip()}"})
