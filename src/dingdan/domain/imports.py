"""Order imports from spreadsheets: the batch's lifecycle and rows into order drafts. Pure.

A sheet has one row per order line; rows with the same order id (the channel's own id, the
``external_id`` of the order) make one order, so a re-import lands each order once. Headers
are found by name in English or Chinese (``订单号``, ``收货人``, ``数量`` …) or by a mapping the
importer gives (``{"order_id": "Bestellnummer"}``). Whatever is wrong is a :class:`RowError`
naming the sheet's row (1 is the header) and column, so the report reads like the sheet.

The batch's lifecycle (``IMPORT``, a ``domain.machine.Machine``)::

    checked ──import──▶ importing ──finish──▶ completed
       └──discard──▶ discarded

A batch is *checked* when uploaded (the dry run: every row parsed and validated, nothing
written); it is imported whole only if no row is bad, or partially on request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from dingdan.domain import machine
from dingdan.domain.errors import FieldError
from dingdan.domain.money import MINOR_UNITS
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft

MAX_ROWS = 20_000  # rows of one file (lines, not orders)
MAX_CELL = 1000  # characters of one cell


class BatchStatus(StrEnum):
    CHECKED = "checked"
    IMPORTING = "importing"
    COMPLETED = "completed"
    DISCARDED = "discarded"


class BatchAction(StrEnum):
    IMPORT = "import"
    FINISH = "finish"
    DISCARD = "discard"


@dataclass(frozen=True, slots=True)
class BatchFacts:
    status: BatchStatus
    bad_rows: int
    good_orders: int
    partial: bool  # the importer asked for the good orders alone


def _importable(f: BatchFacts) -> bool:
    return f.good_orders > 0 and (f.bad_rows == 0 or f.partial)


_IMPORT_REASON = ("a file with bad rows is imported only partially, on request, and only if "
                  "some order is good")
B, BA = BatchStatus, BatchAction
_CREATE = "order.create"  # importing is placing orders (``Permission.ORDER_CREATE``)

IMPORT: machine.Machine[BatchStatus, BatchAction, BatchFacts,
                        machine.Transition[BatchStatus, BatchAction, BatchFacts]] = \
    machine.Machine(
        name="import_batch", statuses=BatchStatus, actions=BatchAction,
        transitions=(
            machine.Transition(B.CHECKED, BA.IMPORT, B.IMPORTING, guard=_importable,
                               guard_reason=_IMPORT_REASON, stamps=("started_at",),
                               permission=_CREATE),
            machine.Transition(B.CHECKED, BA.DISCARD, B.DISCARDED, stamps=("closed_at",),
                               permission=_CREATE),
            machine.Transition(B.IMPORTING, BA.FINISH, B.COMPLETED, stamps=("closed_at",),
                               permission=_CREATE),
        ),
        status_labels={
            B.CHECKED: {"zh-CN": "已检查", "en": "Checked"},
            B.IMPORTING: {"zh-CN": "导入中", "en": "Importing"},
            B.COMPLETED: {"zh-CN": "已完成", "en": "Completed"},
            B.DISCARDED: {"zh-CN": "已放弃", "en": "Discarded"},
        },
        action_labels={
            BA.IMPORT: {"zh-CN": "导入", "en": "Import"},
            BA.FINISH: {"zh-CN": "完成", "en": "Finish"},
            BA.DISCARD: {"zh-CN": "放弃", "en": "Discard"},
        },
        terminal=frozenset({B.COMPLETED, B.DISCARDED}))


# --- the sheet --------------------------------------------------------------------------

class Column(StrEnum):
    ORDER_ID = "order_id"
    PLACED_AT = "placed_at"
    CUSTOMER_NAME = "customer_name"
    CUSTOMER_PHONE = "customer_phone"
    CUSTOMER_EMAIL = "customer_email"
    RECIPIENT = "recipient"
    PHONE = "phone"
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    POSTCODE = "postcode"
    SKU = "sku"
    QUANTITY = "quantity"
    UNIT_PRICE = "unit_price"
    SHIPPING_FEE = "shipping_fee"
    DISCOUNT = "discount"
    CURRENCY = "currency"
    PAYMENT_METHOD = "payment_method"
    NOTES = "notes"


C = Column
REQUIRED: tuple[Column, ...] = (C.ORDER_ID, C.RECIPIENT, C.PHONE, C.PROVINCE, C.CITY,
                                C.DISTRICT, C.STREET, C.SKU, C.QUANTITY)
# Headers merchants' sheets use, compared case-insensitively without spaces or underscores.
ALIASES: dict[Column, tuple[str, ...]] = {
    C.ORDER_ID: ("orderid", "externalid", "ordernumber", "订单号", "订单编号", "外部订单号",
                 "平台订单号"),
    C.PLACED_AT: ("placedat", "orderdate", "下单时间", "订单时间"),
    C.CUSTOMER_NAME: ("customername", "customer", "buyer", "买家", "客户", "客户姓名"),
    C.CUSTOMER_PHONE: ("customerphone", "buyerphone", "买家电话", "客户电话"),
    C.CUSTOMER_EMAIL: ("customeremail", "email", "邮箱", "电子邮箱"),
    C.RECIPIENT: ("recipient", "shipto", "收货人", "收件人"),
    C.PHONE: ("phone", "mobile", "收货人电话", "收件人电话", "手机", "手机号", "联系电话"),
    C.PROVINCE: ("province", "state", "省", "省份"),
    C.CITY: ("city", "市", "城市"),
    C.DISTRICT: ("district", "区", "区县"),
    C.STREET: ("street", "address", "详细地址", "地址", "街道地址"),
    C.POSTCODE: ("postcode", "zip", "邮编"),
    C.SKU: ("sku", "商品编码", "商家编码", "货号"),
    C.QUANTITY: ("quantity", "qty", "数量"),
    C.UNIT_PRICE: ("unitprice", "price", "单价"),
    C.SHIPPING_FEE: ("shippingfee", "shipping", "运费"),
    C.DISCOUNT: ("discount", "优惠", "优惠金额"),
    C.CURRENCY: ("currency", "币种"),
    C.PAYMENT_METHOD: ("paymentmethod", "支付方式"),
    C.NOTES: ("notes", "note", "备注", "买家留言"),
}
# Order-level columns: every row of one order must agree on them.
_ORDER_LEVEL = (C.RECIPIENT, C.PHONE, C.PROVINCE, C.CITY, C.DISTRICT, C.STREET, C.POSTCODE,
                C.CUSTOMER_NAME, C.CUSTOMER_PHONE, C.CUSTOMER_EMAIL, C.SHIPPING_FEE,
                C.DISCOUNT, C.CURRENCY, C.PAYMENT_METHOD)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of the sheet: its row (the header is row 1), column, a stable code."""

    row: int
    column: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SheetRow:
    row: int  # the sheet's row number
    values: Mapping[Column, str]

    def get(self, column: Column) -> str:
        return self.values.get(column, "")


@dataclass(frozen=True, slots=True)
class SheetOrder:
    """The rows of one order, and the draft they make (None: some row is bad)."""

    external_id: str
    rows: tuple[SheetRow, ...]
    draft: OrderDraft | None
    errors: tuple[RowError, ...]


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header).lower()


def find_columns(headers: Sequence[str], mapping: Mapping[str, str] | None = None,
                 ) -> tuple[dict[Column, int], list[RowError]]:
    """Which cell of a row holds each column: the importer's ``mapping`` (column -> header)
    first, then the aliases. Missing required columns are errors of row 1."""
    keys = [_key(h) for h in headers]
    found: dict[Column, int] = {}
    errors: list[RowError] = []
    for name, header in (mapping or {}).items():
        if name not in Column.__members__.values():
            errors.append(RowError(1, name, "unknown_column", f"{name} is not a column of an "
                                                               "order"))
        elif _key(header) not in keys:
            errors.append(RowError(1, name, "missing_column",
                                   f"the mapping names header {header!r}, not in the file"))
        else:
            found[Column(name)] = keys.index(_key(header))
    for column, aliases in ALIASES.items():
        if column in found:
            continue
        for i, k in enumerate(keys):
            if k in aliases and i not in found.values():
                found[column] = i
                break
    for column in REQUIRED:
        if column not in found and not any(e.column == column.value for e in errors):
            errors.append(RowError(1, column.value, "missing_column",
                                   f"no column for {column.value}"))
    return found, errors


def sheet_rows(rows: Iterable[Sequence[str]], columns: Mapping[Column, int],
               first_row: int = 2) -> list[SheetRow]:
    """The data rows as values by column; wholly blank rows are skipped."""
    out = []
    for n, cells in enumerate(rows, start=first_row):
        values = {c: (cells[i].strip() if i < len(cells) else "") for c, i in columns.items()}
        if any(values.values()):
            out.append(SheetRow(n, values))
    return out


def looks_like_formula(value: str) -> bool:
    """A cell a spreadsheet would run as a formula (CSV injection): ``=``, ``@``, or ``+``/
    ``-`` not followed by a number or phone (``+86 138…`` and ``-5`` are data)."""
    if not value:
        return False
    if value[0] in "=@\t\r＝＠":  # full-width forms too: Excel and WPS take them as well
        return True
    return value[0] in "+-＋－" and not re.fullmatch(r"[+-][\d\s().]+", value)


def parse_amount(text: str, currency: str) -> int | None:
    """``"12.50"`` (or ``¥1,234.5``) in ``currency`` as minor units; None if not an amount."""
    cleaned = re.sub(r"[,\s¥￥$€£]", "", text)
    try:
        value = Decimal(cleaned).scaleb(MINOR_UNITS.get(currency, 2))
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or value < 0:
        return None
    return int(value)


def parse_moment(text: str, tz: tzinfo) -> datetime | None:
    """An ISO 8601 date-time (``2026-11-11 09:30``, ``2026-11-11T09:30:00+08:00``); one
    without an offset is in the merchant's time zone ``tz``."""
    try:
        value = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def group_orders(channel: str, rows: Sequence[SheetRow], tz: tzinfo) -> list[SheetOrder]:
    """The sheet's orders, in the order their first row appears."""
    groups: dict[str, list[SheetRow]] = {}
    loose: list[SheetOrder] = []
    for row in rows:
        oid = row.get(C.ORDER_ID)
        if not oid:
            loose.append(SheetOrder("", (row,), None, (RowError(
                row.row, C.ORDER_ID.value, "required", "every row needs the order id"),)))
            continue
        groups.setdefault(oid, []).append(row)
    orders = [_order(channel, oid, tuple(g), tz) for oid, g in groups.items()]
    return sorted([*orders, *loose], key=lambda o: o.rows[0].row)


def _order(channel: str, external_id: str, rows: tuple[SheetRow, ...],
           tz: tzinfo) -> SheetOrder:
    errors: list[RowError] = []
    first = rows[0]
    for row in rows:
        for column, value in row.values.items():
            if looks_like_formula(value):
                errors.append(RowError(row.row, column.value, "formula",
                                       "a cell may not start with = @ + or - (a formula)"))
            elif len(value) > MAX_CELL:
                errors.append(RowError(row.row, column.value, "too_long",
                                       f"at most {MAX_CELL} characters"))
        for column in _ORDER_LEVEL:
            if row is not first and row.get(column) and row.get(column) != first.get(column):
                errors.append(RowError(row.row, column.value, "differs_within_order",
                                       f"rows of order {external_id} give different "
                                       f"{column.value}"))
    for column in REQUIRED:
        for row in rows if column in (C.SKU, C.QUANTITY) else (first,):
            if not row.get(column):
                errors.append(RowError(row.row, column.value, "required",
                                       f"{column.value} is required"))
    currency = (first.get(C.CURRENCY) or "CNY").upper()
    lines = []
    for row in rows:
        qty_text = row.get(C.QUANTITY)
        qty = int(qty_text) if re.fullmatch(r"\d{1,9}", qty_text) else None
        if qty_text and qty is None:
            errors.append(RowError(row.row, C.QUANTITY.value, "not_a_number",
                                   "quantity is a whole number"))
        price = _amount(row, C.UNIT_PRICE, currency, errors)
        lines.append(LineDraft(row.get(C.SKU), qty or 0, price))
    fee = _amount(first, C.SHIPPING_FEE, currency, errors) or 0
    discount = _amount(first, C.DISCOUNT, currency, errors) or 0
    placed_at = None
    if first.get(C.PLACED_AT):
        placed_at = parse_moment(first.get(C.PLACED_AT), tz)
        if placed_at is None:
            errors.append(RowError(first.row, C.PLACED_AT.value, "not_a_date",
                                   "a date and time like 2026-11-11 09:30"))
    if errors:
        return SheetOrder(external_id, rows, None, tuple(errors))
    g = first.get
    draft = OrderDraft(
        channel=channel, external_id=external_id,
        customer=Customer(g(C.CUSTOMER_NAME) or g(C.RECIPIENT),
                          g(C.CUSTOMER_PHONE) or g(C.PHONE), g(C.CUSTOMER_EMAIL) or None),
        shipping_address=Address(g(C.RECIPIENT), g(C.PHONE), g(C.PROVINCE), g(C.CITY),
                                 g(C.DISTRICT), g(C.STREET), g(C.POSTCODE) or None),
        lines=tuple(lines), currency=currency, shipping_fee=fee, discount=discount,
        payment_method=g(C.PAYMENT_METHOD) or None, placed_at=placed_at,
        notes=g(C.NOTES) or None)
    return SheetOrder(external_id, rows, draft, ())


def _amount(row: SheetRow, column: Column, currency: str,
            errors: list[RowError]) -> int | None:
    text = row.get(column)
    if not text:
        return None
    value = parse_amount(text, currency)
    if value is None:
        errors.append(RowError(row.row, column.value, "not_an_amount",
                               f"{text!r} is not an amount of {currency}"))
    return value


# Where the order rules' field locations sit in the sheet.
_LOCATIONS = {"shipping_address.recipient": C.RECIPIENT, "shipping_address.phone": C.PHONE,
              "shipping_address.province": C.PROVINCE, "shipping_address.city": C.CITY,
              "shipping_address.district": C.DISTRICT, "shipping_address.street": C.STREET,
              "shipping_address.postcode": C.POSTCODE, "customer.name": C.CUSTOMER_NAME,
              "customer.phone": C.CUSTOMER_PHONE, "customer.email": C.CUSTOMER_EMAIL,
              "shipping_fee": C.SHIPPING_FEE, "discount": C.DISCOUNT, "currency": C.CURRENCY,
              "payment_method": C.PAYMENT_METHOD, "placed_at": C.PLACED_AT, "total": C.DISCOUNT}


def locate(order: SheetOrder, errors: Iterable[FieldError]) -> list[RowError]:
    """The order rules' errors (``lines.1.sku``, ``shipping_address.phone``) as cells."""
    out = []
    for e in errors:
        parts = e.loc.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit() \
                and int(parts[1]) < len(order.rows):
            row, column = order.rows[int(parts[1])].row, parts[2]
        else:
            row = order.rows[0].row
            mapped = _LOCATIONS.get(e.loc)
            column = mapped.value if mapped else e.loc
        out.append(RowError(row, column, e.code, e.message))
    return out
