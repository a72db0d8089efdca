"""Reading a carrier's zone rate table from a spreadsheet (.xlsx or .csv), row by row.

One header row, then one weight band per row. Columns (English or Chinese names):

| column | 列名 | example |
| --- | --- | --- |
| carrier | 承运商 | SF |
| service | 服务 | standard |
| origin | 始发省 | 广东 |
| destination | 目的省 | 上海 |
| min_kg | 起始重量 | 0 |
| max_kg | 截止重量 | 30 |
| first_kg | 首重 | 1 |
| first_price | 首重价格 | 12.00 (yuan) |
| step_kg | 续重单位 | 1 |
| step_price | 续重价格 | 2.00 (yuan) |
| transit_days | 时效 | 2 (optional) |
| currency | 币种 | CNY (optional) |

Weights become grams, prices minor units (fen); a value that cannot is a problem of that row.
Province names are compared without their suffix (广东省 = 广东).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from dingdan.domain.rating import RateRow, RowProblem

MAX_ROWS = 20_000
COLUMNS: dict[str, str] = {
    "carrier": "carrier", "承运商": "carrier", "快递公司": "carrier",
    "service": "service", "服务": "service", "产品": "service",
    "origin": "origin", "始发省": "origin", "始发地": "origin",
    "destination": "destination", "目的省": "destination", "目的地": "destination",
    "min_kg": "min_kg", "起始重量": "min_kg",
    "max_kg": "max_kg", "截止重量": "max_kg",
    "first_kg": "first_kg", "首重": "first_kg",
    "first_price": "first_price", "首重价格": "first_price",
    "step_kg": "step_kg", "续重单位": "step_kg",
    "step_price": "step_price", "续重价格": "step_price",
    "transit_days": "transit_days", "时效": "transit_days",
    "currency": "currency", "币种": "currency",
}
REQUIRED = ("carrier", "service", "origin", "destination", "min_kg", "max_kg", "first_kg",
            "first_price", "step_kg", "step_price")
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def province_key(name: str) -> str:
    """广西壮族自治区 → 广西, 上海市 → 上海: how rate tables and addresses meet."""
    name = name.strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class SheetUnreadable(ValueError):
    """Not a spreadsheet we can read, or no header with the required columns."""


def _cells(content: bytes, filename: str) -> Iterator[list[object]]:
    if content[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook  # only when an Excel file comes

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise SheetUnreadable("not a readable .xlsx file") from exc
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
        book.close()
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # what Excel in China saves CSV as
        except UnicodeDecodeError as exc:
            raise SheetUnreadable("CSV must be UTF-8 or GB18030") from exc
    for r in csv.reader(io.StringIO(text)):
        yield list[object](r)


def read_rate_sheet(content: bytes, filename: str) -> tuple[list[RateRow], list[RowProblem]]:
    """The rows of a rate table and the problems of each row (row numbers as the
    spreadsheet shows them: the header is row 1)."""
    cells = _cells(content, filename)
    header = next(cells, None)
    if header is None:
        raise SheetUnreadable("the file is empty")
    names = [COLUMNS.get(str(h or "").strip().lower(), COLUMNS.get(str(h or "").strip(), ""))
             for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise SheetUnreadable(f"missing columns: {', '.join(missing)}")
    rows: list[RateRow] = []
    problems: list[RowProblem] = []
    for row_no, values in enumerate(cells, start=2):
        if row_no - 1 > MAX_ROWS:
            problems.append(RowProblem(row_no, "row", "too_many_rows",
                                       f"at most {MAX_ROWS} rows"))
            break
        record = {n: v for n, v in zip(names, values, strict=False) if n}
        if all(v is None or str(v).strip() == "" for v in record.values()):
            continue  # blank lines at the end of a sheet
        row, bad = _row(row_no, record)
        problems.extend(bad)
        if row is not None:
            rows.append(row)
    return rows, problems


def _row(row_no: int, r: dict[str, object]) -> tuple[RateRow | None, list[RowProblem]]:
    bad: list[RowProblem] = []

    def text(field: str) -> str:
        value = str(r.get(field) if r.get(field) is not None else "").strip()
        if not value and field in REQUIRED:
            bad.append(RowProblem(row_no, field, "required", f"{field} is required"))
        if len(value) > 64:
            bad.append(RowProblem(row_no, field, "too_long", f"{field}: at most 64 characters"))
        return value[:64]

    def number(field: str, scale: int) -> int:
        raw = r.get(field)
        try:
            value = Decimal(str(raw).strip()) * scale
        except (InvalidOperation, ValueError):
            bad.append(RowProblem(row_no, field, "not_a_number", f"{field}: not a number"))
            return 0
        if not value.is_finite() or value != value.to_integral_value() or abs(value) > 10**12:
            bad.append(RowProblem(row_no, field, "not_a_number",
                                  f"{field}: at most {len(str(scale)) - 1} decimals"))
            return 0
        return int(value)

    carrier, service = text("carrier").upper(), text("service")
    origin, destination = province_key(text("origin")), province_key(text("destination"))
    min_g, max_g = number("min_kg", 1000), number("max_kg", 1000)
    first_g, first_price = number("first_kg", 1000), number("first_price", 100)
    step_g, step_price = number("step_kg", 1000), number("step_price", 100)
    days_raw = r.get("transit_days")
    days = number("transit_days", 1) if days_raw not in (None, "") else None
    currency = (text("currency") or "CNY").upper()
    if len(currency) != 3 or not currency.isalpha():
        bad.append(RowProblem(row_no, "currency", "invalid", "a 3-letter currency code"))
    if bad:
        return None, bad
    return RateRow(f"{carrier}/{service}", origin, destination, min_g, max_g, first_g,
                   first_price, step_g, step_price, currency, days, row_no), []
