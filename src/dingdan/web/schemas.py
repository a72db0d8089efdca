"""The API's request and response shapes (one family per resource: …Create, …Update, …Public)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import Status
from dingdan.domain.orders import MAX_CUSTOM_FIELDS_KEYS, MAX_LINES, MAX_TAGS
from dingdan.web.fields import (
    NON_EMPTY_LINE,
    Amount,
    Bool,
    Int32,
    Line,
    LineQuantity,
    Moment,
    Sku,
    StockQuantity,
    Text,
    Version,
    has_control_characters,
)

__all__ = ["Amount", "Int32"]  # re-exported: routers import the bounds from here too


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("not_null", "leave the field out to keep it; it cannot be null")
    return value


# In an update, an omitted field keeps its value; one that must always have a value cannot be
# set to null (only the fields a record may lack can be cleared).
NotNull = BeforeValidator(_refuse_null)


def _clean_json(value: Any) -> Any:
    """Free-form JSON (custom fields): no control characters in any key or string."""
    if isinstance(value, str) and has_control_characters(value):
        raise PydanticCustomError("control_character",
                                  "control characters (NUL, …) are not allowed here")
    if isinstance(value, dict):
        for k, v in value.items():
            _clean_json(k)
            _clean_json(v)
    elif isinstance(value, list):
        for v in value:
            _clean_json(v)
    return value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(_In):
    name: Line = Field(max_length=200, examples=["张伟"], json_schema_extra=NON_EMPTY_LINE)
    company: Line | None = Field(None, max_length=200)
    phone: Line | None = Field(None, max_length=32, examples=["13800138000"])
    email: EmailStr | None = Field(None, max_length=254)


class AddressIn(_In):
    recipient: Line = Field(max_length=200, json_schema_extra=NON_EMPTY_LINE)
    phone: Line = Field(max_length=32, json_schema_extra=NON_EMPTY_LINE)
    province: Line = Field(max_length=64, json_schema_extra=NON_EMPTY_LINE, examples=["上海市"])
    city: Line = Field(max_length=64, json_schema_extra=NON_EMPTY_LINE, examples=["上海市"])
    district: Line = Field(max_length=64, json_schema_extra=NON_EMPTY_LINE, examples=["浦东新区"])
    street: Line = Field(max_length=400, json_schema_extra=NON_EMPTY_LINE,
                         examples=["世纪大道 100 号 8 楼"])
    postcode: Line | None = Field(None, max_length=16, examples=["200120"])
    # ISO 3166 alpha-2, upper-cased: the phone and postcode rules look the region up by it.
    country: Annotated[str, StringConstraints(to_upper=True)] = Field(
        "CN", pattern=r"^[A-Za-z]{2}$")


class LineIn(_In):
    sku: Sku
    quantity: LineQuantity
    unit_price: Amount | None = Field(None,
                                      description="minor units (fen); default: catalogue price")
    name: Line | None = Field(None, max_length=200)
    model: Line | None = Field(None, max_length=200, description="model or specification")


Tag = Annotated[Line, Field(max_length=40, json_schema_extra={  # the rules check the pattern
    "minLength": 1, "pattern": r"^[\w\-:.\u4e00-\u9fff]+$"})]


class OrderCreate(_In):
    channel: str = Field("api", min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")
    external_id: Line | None = Field(None, min_length=1, max_length=128)
    customer: CustomerIn
    shipping_address: AddressIn
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    currency: str = Field("CNY", pattern=r"^[A-Za-z]{3}$")
    shipping_fee: Amount = 0
    discount: Amount = 0
    tax: Amount = 0
    subtotal: Amount | None = None
    total: Amount | None = Field(None, description="if given, must equal the computed total")
    payment_method: Line | None = Field(None, max_length=32, examples=["alipay"])
    promo_code: Line | None = Field(None, max_length=64)
    placed_at: Moment | None = None
    ship_by: Moment | None = None
    deliver_by: Moment | None = None
    notes: Text | None = Field(None, max_length=2000)
    tags: list[Tag] = Field([], max_length=MAX_TAGS)
    custom_fields: Annotated[dict[str, Any], BeforeValidator(_clean_json)] = Field(
        {}, description=f"at most {MAX_CUSTOM_FIELDS_KEYS} keys and 4 KB as JSON; "
                        "no control characters")


class ActionIn(_In):
    reason: Text | None = Field(None, max_length=1000)
    expected_version: Version | None = None


class PayIn(ActionIn):
    payment_reference: Line = Field(min_length=1, max_length=128)


class ShipIn(ActionIn):
    carrier: Line = Field(min_length=1, max_length=64)
    tracking_number: Line = Field(min_length=1, max_length=64)


class NoteIn(_In):
    note: Text = Field(min_length=1, max_length=2000)


class ContactIn(_In):
    customer: CustomerIn
    reason: Text | None = Field(None, max_length=1000)
    expected_version: Version | None = None


class AddressChangeIn(_In):
    shipping_address: AddressIn
    reason: Text | None = Field(None, max_length=1000)
    expected_version: Version | None = None


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
    overdue: bool = Field(False, description="an open breached SLA alert, or the ship-by "
                          "promise passed and not shipped")
    sla_stage: str | None = Field(None, description="the overdue stage (e.g. ship)")
    sla_due_at: datetime | None = Field(None, description="when that stage was due")
    status_page_url: str | None = Field(
        None, description="the customer's own page of this order, with a signed token that "
        "opens it (hand it to the customer: it shows their order, masked)")


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
        **{k: o.get(k) for k in ("sla_stage", "sla_due_at")},
        "overdue": bool(o.get("overdue")),
        "warehouse": o.get("warehouse_code"),
        "lines": [{**{k: ln[k] for k in ("line_no", "sku", "name", "model", "quantity",
                                         "unit_price")},
                   "line_total": ln["quantity"] * ln["unit_price"]} for ln in o["lines"]],
    }


class ProductCreate(_In):
    sku: Sku
    name: Line = Field(min_length=1, max_length=200)
    price: Amount = Field(description="minor units")
    currency: str = Field("CNY", pattern=r"^[A-Za-z]{3}$")
    barcode: Line | None = Field(None, max_length=64)
    weight_g: Int32 | None = None
    length_mm: Int32 | None = None
    width_mm: Int32 | None = None
    height_mm: Int32 | None = None
    active: Bool = True


class ProductUpdate(_In):
    name: Annotated[Line | None, NotNull] = Field(None, min_length=1, max_length=200)
    price: Annotated[Amount | None, NotNull] = None
    currency: Annotated[str | None, NotNull] = Field(None, pattern=r"^[A-Za-z]{3}$")
    barcode: Line | None = Field(None, max_length=64)
    weight_g: Int32 | None = None
    length_mm: Int32 | None = None
    width_mm: Int32 | None = None
    height_mm: Int32 | None = None
    active: Annotated[Bool | None, NotNull] = None
    expected_version: Version | None = None


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
    name: Line = Field(min_length=1, max_length=200)
    region: Line = Field(min_length=1, max_length=64)
    city: Line | None = Field(None, max_length=64)
    address: Line | None = Field(None, max_length=400)
    priority: Int32 = 0
    active: Bool = True


class WarehouseUpdate(_In):
    name: Annotated[Line | None, NotNull] = Field(None, min_length=1, max_length=200)
    region: Annotated[Line | None, NotNull] = Field(None, min_length=1, max_length=64)
    city: Line | None = Field(None, max_length=64)
    address: Line | None = Field(None, max_length=400)
    priority: Annotated[Int32 | None, NotNull] = None
    active: Annotated[Bool | None, NotNull] = None
    expected_version: Version | None = None


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
    sku: Sku
    warehouse: Line = Field(min_length=1, max_length=32, description="warehouse code")
    quantity: StockQuantity
    reason: Text = Field(min_length=1, max_length=400)
    reference: Line | None = Field(None, max_length=64)


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
