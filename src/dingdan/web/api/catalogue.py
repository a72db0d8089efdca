"""Products, warehouses, stock levels, receipts and adjustments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dingdan.domain.inventory import MovementKind
from dingdan.services import catalogue as svc
from dingdan.services import inventory
from dingdan.services.catalogue import ProductFields, ProductQuery, WarehouseFields
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep
from dingdan.web.errors import problem_responses
from dingdan.web.fields import IdQuery, Line, LineQuery
from dingdan.web.schemas import (
    MovementOut,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
    StockLevel,
    StockMoveIn,
    WarehouseCreate,
    WarehousePublic,
    WarehouseUpdate,
)

router = APIRouter(responses=problem_responses(400, 401, 422))


@router.get("/products", response_model=list[ProductPublic], tags=["catalogue"])
async def list_products(uow: ReadUowDep, actor: ActorDep,
                        q: Annotated[Line | None, Query(
                            max_length=200, description="SKU, name or barcode")] = None,
                        active: bool | None = None,
                        after: Annotated[Line | None, Query(
                            max_length=200, description="last SKU seen")] = None,
                        limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        ) -> list[dict[str, Any]]:
    return await svc.list_products(ProductQuery(q, active, limit, after), uow, actor=actor)


@router.post("/products", status_code=201, response_model=ProductPublic, tags=["catalogue"],
             responses=problem_responses(409))
async def create_product(body: ProductCreate, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.create_product(ProductFields(**body.model_dump()), uow, actor=actor)


@router.get("/products/{sku}", response_model=ProductPublic, tags=["catalogue"],
            responses=problem_responses(404))
async def get_product(sku: str, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.get_product(sku, uow, actor=actor)


@router.patch("/products/{sku}", response_model=ProductPublic, tags=["catalogue"],
              responses=problem_responses(404, 409))
async def update_product(sku: str, body: ProductUpdate, uow: UowDep,
                         actor: ActorDep) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    return await svc.update_product(sku, changes, body.expected_version, uow, actor=actor)


@router.get("/warehouses", response_model=list[WarehousePublic], tags=["catalogue"])
async def list_warehouses(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.list_warehouses(uow, actor=actor)


@router.post("/warehouses", status_code=201, response_model=WarehousePublic, tags=["catalogue"],
             responses=problem_responses(409))
async def create_warehouse(body: WarehouseCreate, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.create_warehouse(WarehouseFields(**body.model_dump()), uow, actor=actor)


@router.get("/warehouses/{code}", response_model=WarehousePublic, tags=["catalogue"],
            responses=problem_responses(404))
async def get_warehouse(code: str, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.get_warehouse(code, uow, actor=actor)


@router.patch("/warehouses/{code}", response_model=WarehousePublic, tags=["catalogue"],
              responses=problem_responses(404, 409))
async def update_warehouse(code: str, body: WarehouseUpdate, uow: UowDep,
                           actor: ActorDep) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    return await svc.update_warehouse(code, changes, body.expected_version, uow, actor=actor)


@router.get("/stock", response_model=list[StockLevel], tags=["stock"],
            responses=problem_responses(404))
async def stock_levels(uow: ReadUowDep, actor: ActorDep, sku: LineQuery = None,
                       warehouse: LineQuery = None,
                       low: Annotated[bool, Query(description="only rows at or below "
                                                              "threshold available")] = False,
                       threshold: Annotated[int, Query(ge=0, le=2**31 - 1)] = 10,
                       ) -> list[dict[str, Any]]:
    return await inventory.stock_levels(inventory.StockLevels(sku, warehouse, low, threshold),
                                        uow, actor=actor)


@router.post("/stock/receipts", status_code=201, response_model=StockLevel, tags=["stock"],
             responses=problem_responses(404))
async def receive_stock(body: StockMoveIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    """Goods received into a warehouse (quantity > 0)."""
    return await inventory.move_stock(inventory.MoveStock(
        body.sku, body.warehouse, body.quantity, MovementKind.RECEIPT, body.reason, actor,
        body.reference), uow)


@router.post("/stock/adjustments", status_code=201, response_model=StockLevel, tags=["stock"],
             responses=problem_responses(404))
async def adjust_stock(body: StockMoveIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    """A signed correction of on hand (count, damage, loss), never below what is reserved."""
    return await inventory.move_stock(inventory.MoveStock(
        body.sku, body.warehouse, body.quantity, MovementKind.ADJUSTMENT, body.reason, actor,
        body.reference), uow)


@router.get("/stock/movements", response_model=list[MovementOut], tags=["stock"])
async def stock_movements(uow: ReadUowDep, actor: ActorDep, sku: LineQuery = None,
                          warehouse_id: IdQuery = None,
                          limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                          ) -> list[dict[str, Any]]:
    return await inventory.stock_movements(inventory.StockMovements(sku, warehouse_id, limit),
                                           uow, actor=actor)
