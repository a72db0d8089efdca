"""Catalogue use cases: products and warehouses (``catalogue.write``; each change audited),
and their reads (``order.read``, which every role holds: the catalogue is no secret to staff,
but a read is checked like a write)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dingdan.domain.errors import ErrorCollector, NotFound, VersionConflict
from dingdan.domain.events import Actor
from dingdan.domain.money import is_known_currency
from dingdan.domain.permissions import Permission
from dingdan.services._access import require
from dingdan.store.tables import products, warehouses
from dingdan.store.uow import UnitOfWork


@dataclass(frozen=True)
class ProductFields:
    sku: str
    name: str
    price: int
    currency: str = "CNY"
    barcode: str | None = None
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    active: bool = True


def _check_product(p: ProductFields) -> None:
    errors = ErrorCollector()
    if not p.sku.strip():
        errors.add("sku", "required", "SKU is required")
    if not p.name.strip():
        errors.add("name", "required", "name is required")
    if p.price < 0:
        errors.add("price", "negative", "price cannot be negative")
    if not is_known_currency(p.currency):
        errors.add("currency", "unknown_currency", f"unknown currency {p.currency}")
    for dim in ("weight_g", "length_mm", "width_mm", "height_mm"):
        v = getattr(p, dim)
        if v is not None and v <= 0:
            errors.add(dim, "out_of_range", f"{dim} must be positive")
    errors.raise_if_any()


async def create_product(p: ProductFields, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.CATALOGUE_WRITE, "product", p.sku)
    _check_product(p)
    async with uow:
        now = uow.now()
        await uow.catalogue.add(products, {**p.__dict__, "version": 1, "created_at": now,
                                           "updated_at": now}, "sku")
        row = await uow.catalogue.get(products, "sku", p.sku)
        await uow.audit.record(actor, "product.create", "product", p.sku, None, dict(p.__dict__))
        await uow.commit()
    assert row is not None
    return row


async def update_product(sku: str, changes: dict[str, Any], expected_version: int | None,
                         uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.CATALOGUE_WRITE, "product", sku)
    async with uow:
        current = await uow.catalogue.get(products, "sku", sku)
        if current is None:
            raise NotFound({"kind": "product", "key": sku})
        merged = {k: current[k] for k in ProductFields.__dataclass_fields__} | changes
        merged["sku"] = sku  # the SKU is the product's identity; it does not change
        _check_product(ProductFields(**merged))
        if not await uow.catalogue.update(products, "sku", sku, expected_version or
                                          current["version"], {**changes,
                                                               "updated_at": uow.now()}):
            raise VersionConflict({"kind": "product", "key": sku})
        row = await uow.catalogue.get(products, "sku", sku)
        await _audit_update(uow, actor, "product", sku, current, row)
        await uow.commit()
    assert row is not None
    return row


@dataclass(frozen=True)
class WarehouseFields:
    code: str
    name: str
    region: str
    city: str | None = None
    address: str | None = None
    priority: int = 0
    active: bool = True


def _check_warehouse(w: WarehouseFields) -> None:
    errors = ErrorCollector()
    for name in ("code", "name", "region"):
        if not getattr(w, name).strip():
            errors.add(name, "required", f"{name} is required")
    errors.raise_if_any()


async def create_warehouse(w: WarehouseFields, uow: UnitOfWork, *,
                           actor: Actor) -> dict[str, Any]:
    require(actor, Permission.CATALOGUE_WRITE, "warehouse", w.code)
    _check_warehouse(w)
    async with uow:
        now = uow.now()
        await uow.catalogue.add(warehouses, {**w.__dict__, "version": 1, "created_at": now,
                                             "updated_at": now}, "code")
        row = await uow.catalogue.get(warehouses, "code", w.code)
        await uow.audit.record(actor, "warehouse.create", "warehouse", w.code, None,
                               dict(w.__dict__))
        await uow.commit()
    assert row is not None
    return row


async def update_warehouse(code: str, changes: dict[str, Any], expected_version: int | None,
                           uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.CATALOGUE_WRITE, "warehouse", code)
    async with uow:
        current = await uow.catalogue.get(warehouses, "code", code)
        if current is None:
            raise NotFound({"kind": "warehouse", "key": code})
        merged = {k: current[k] for k in WarehouseFields.__dataclass_fields__} | changes
        merged["code"] = code
        _check_warehouse(WarehouseFields(**merged))
        if not await uow.catalogue.update(warehouses, "code", code, expected_version or
                                          current["version"], {**changes,
                                                               "updated_at": uow.now()}):
            raise VersionConflict({"kind": "warehouse", "key": code})
        row = await uow.catalogue.get(warehouses, "code", code)
        await _audit_update(uow, actor, "warehouse", code, current, row)
        await uow.commit()
    assert row is not None
    return row


_BOOKKEEPING = frozenset({"id", "version", "created_at", "updated_at"})


async def _audit_update(uow: UnitOfWork, actor: Actor, kind: str, key: str,
                        before: dict[str, Any], after: dict[str, Any] | None) -> None:
    assert after is not None
    changed = [k for k in after if k not in _BOOKKEEPING and before.get(k) != after[k]]
    await uow.audit.record(actor, f"{kind}.update", kind, key, {k: before.get(k) for k in changed},
                           {k: after[k] for k in changed})


# -- reads -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProductQuery:
    q: str | None = None  # part of a SKU or name, or a whole barcode
    active: bool | None = None
    limit: int = 100
    after: str | None = None  # the last SKU of the previous page


async def list_products(q: ProductQuery, uow: UnitOfWork, *,
                        actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "product", None)
    async with uow:
        return await uow.catalogue.list_products(q.q, q.active, q.limit, q.after)


async def get_product(sku: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.ORDER_READ, "product", sku)
    async with uow:
        row = await uow.catalogue.get(products, "sku", sku)
    if row is None:
        raise NotFound({"kind": "product", "key": sku})
    return row


async def list_warehouses(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "warehouse", None)
    async with uow:
        return await uow.catalogue.list_warehouses()


async def get_warehouse(code: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.ORDER_READ, "warehouse", code)
    async with uow:
        row = await uow.catalogue.get(warehouses, "code", code)
    if row is None:
        raise NotFound({"kind": "warehouse", "key": code})
    return row
