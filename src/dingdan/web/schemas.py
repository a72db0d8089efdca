"""The API's request and response shapes (one family per resource: …Create, …Update, …Public)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import Status


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(_In):
    name: str = Field(max_length=200, examples=["张伟"])
    company: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=32, examples=["13800138000"])
    email: EmailStr | None = None


class AddressIn(_In):
    recipient: str = Field(max_length=200)
    phone: str = Field(max_length=32)
    province: str = Field(max_length=64, examples=["上海市"])
    city: str = Field(max_length=64, examples=["上海市"])
    district: str = Field(max_length=64, examples=["浦东新区"])
    street: str = Field(max_length=400, examples=["世纪大道 100 号 8 楼"])
    postcode: str | None = Field(None, max_length=16, examples=["200120"])
    country: str = Field("CN", min_length=2, max_length=2)


class LineIn(_In):
    sku: str = Field(max_length=64)
    quantity: int
    unit_price: int | None = Field(None, description="minor units (fen); default: catalogue price")
    name: str | None = Field(None, max_length=200)
    model: str | None = Field(None, max_length=200, description="model or specification")


class OrderCreate(_In):
    channel: str = Field("api", max_length=32, pattern=r"^[a-z0-9_\-]+$")
    external_id: str | None = Field(None, max_length=128)
    customer: CustomerIn
    shipping_address: AddressIn
    lines: list[LineIn] = Field(min_length=1)
    currency: str = Field("CNY", min_length=3, max_length=3)
    shipping_fee: int = 0
    discount: int = 0
    tax: int = 0
    subtotal: int | None = None
    total: int | None = Field(None, description="if given, must equal the computed total")
    payment_method: str | None = None
    promo_code: str | None = Field(None, max_length=64)
    placed_at: AwareDatetime | None = None
    ship_by: AwareDatetime | None = None
    deliver_by: AwareDatetime | None = None
    notes: str | None = Field(None, max_length=2000)
    tags: list[str] = []
    custom_fields: dict[str, Any] = {}


class ActionIn(_In):
    reason: str | None = Field(None, max_length=1000)
    expected_version: int | None = None


class PayIn(ActionIn):
    payment_reference: str = Field(max_length=128)


class ShipIn(ActionIn):
    carrier: str = Field(max_length=64)
    tracking_number: str = Field(max_length=64)


class NoteIn(_In):
    note: str = Field(max_length=2000)


class ContactIn(_In):
    customer: CustomerIn
    reason: str | None = Field(None, max_length=1000)
    expected_version: int | None = None


class AddressChangeIn(_In):
    shipping_address: AddressIn
    reason: str | None = Field(None, max_length=1000)
    expected_version: int | None = None


class CustomerOut(BaseModel):
    name: str
    company: str | None
    phone: str | None
    email: str | None


class AddressOut(BaseModel):
    recipient: str
    phone: str
    country: str
    province: str
    city: str
    district: str
    street: str
    postcode: str | None


class LineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    model: str | None
    quantity: int
    unit_price: int
    line_total: int


class AmountsOut(BaseModel):
    currency: str
    subtotal: int
    shipping_fee: int
    discount: int
    tax: int
    total: int


class OrderSummary(BaseModel):
    number: str
    channel: str
    external_id: str | None
    status: Status
    status_label: str
    payment_status: str
    fulfillment_status: str
    customer: CustomerOut
    shipping_address: AddressOut
    amounts: AmountsOut
    placed_at: datetime
    ship_by: datetime | None
    deliver_by: datetime | None
    tags: list[str]
    version: int
    updated_at: datetime


class OrderPublic(OrderSummary):
    lines: list[LineOut]
    warehouse: str | None
    payment_method: str | None
    payment_reference: str | None
    promo_code: str | None
    carrier: str | None
    tracking_number: str | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    notes: str | None
    custom_fields: dict[str, Any]
    allowed_actions: list[str]
    created_at: datetime


class OrderPage(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None


class EventOut(BaseModel):
    event_id: str
    type: str
    from_status: str | None
    to_status: str | None
    actor: str
    source: str
    reason: str | None
    data: dict[str, Any]
    created_at: datetime


def order_summary(o: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        **{k: o[k] for k in ("number", "channel", "external_id", "status", "payment_status",
                             "fulfillment_status", "placed_at", "ship_by", "deliver_by",
                             "version", "updated_at")},
        "status_label": lifecycle.label(Status(o["status"]), lang),
        "customer": {"name": o["customer_name"], "company": o["customer_company"],
                     "phone": o["customer_phone"], "email": o["customer_email"]},
        "shipping_address": {k: o[f"ship_{k}"] for k in AddressOut.model_fields},
        "amounts": {k: o[k] for k in AmountsOut.model_fields},
        "tags": o["tags"],
    }


def order_public(o: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        **order_summary(o, lang),
        **{k: o[k] for k in ("payment_method", "payment_reference", "promo_code", "carrier",
                             "tracking_number", "paid_at", "shipped_at", "delivered_at",
                             "notes", "custom_fields", "allowed_actions", "created_at")},
        "warehouse": o.get("warehouse_code"),
        "lines": [{**{k: ln[k] for k in ("line_no", "sku", "name", "model", "quantity",
                                         "unit_price")},
                   "line_total": ln["quantity"] * ln["unit_price"]} for ln in o["lines"]],
    }


class ProductCreate(_In):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    price: int = Field(description="minor units")
    currency: str = Field("CNY", min_length=3, max_length=3)
    barcode: str | None = Field(None, max_length=64)
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    active: bool = True


class ProductUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    price: int | None = None
    currency: str | None = Field(None, min_length=3, max_length=3)
    barcode: str | None = Field(None, max_length=64)
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    active: bool | None = None
    expected_version: int | None = None


class ProductPublic(BaseModel):
    sku: str
    name: str
    price: int
    currency: str
    barcode: str | None
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    active: bool
    version: int


class WarehouseCreate(_In):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=200)
    region: str = Field(min_length=1, max_length=64)
    city: str | None = Field(None, max_length=64)
    address: str | None = Field(None, max_length=400)
    priority: int = 0
    active: bool = True


class WarehouseUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    region: str | None = Field(None, min_length=1, max_length=64)
    city: str | None = Field(None, max_length=64)
    address: str | None = Field(None, max_length=400)
    priority: int | None = None
    active: bool | None = None
    expected_version: int | None = None


class WarehousePublic(BaseModel):
    code: str
    name: str
    region: str
    city: str | None
    address: str | None
    priority: int
    active: bool
    version: int


class StockLevel(BaseModel):
    sku: str
    name: str
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime


class StockMoveIn(_In):
    sku: str = Field(max_length=64)
    warehouse: str = Field(max_length=32, description="warehouse code")
    quantity: int
    reason: str = Field(max_length=400)
    reference: str | None = Field(None, max_length=64)


class MovementOut(BaseModel):
    id: int
    sku: str
    warehouse_id: int
    kind: str
    quantity: int
    on_hand_after: int
    reason: str
    reference: str | None
    actor: str
    created_at: datetime
