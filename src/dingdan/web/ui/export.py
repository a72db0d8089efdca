"""The order-tracking sheet as CSV or Excel, streamed while the rows are read.

Formula-safe, as OWASP advises for "CSV injection": names and promo codes come from customers
and shops, so a CSV cell that a spreadsheet would evaluate (``=HYPERLINK(…)``, ``+…``, ``@…``,
their full-width forms…) gets a leading ``'``, and Excel cells holding text are string cells
with the quote prefix, never formulas. Numbers and dates keep their types.

CSV starts with a UTF-8 byte-order mark so that Excel opens Chinese text correctly. Excel is
written by openpyxl in write-only mode (rows go to a temporary file, memory stays flat) and
the finished file is streamed in chunks.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import Status
from dingdan.domain.money import MINOR_UNITS
from dingdan.services.export import ExportRow
from dingdan.web.ui import minor_to_major
from dingdan.web.ui.text import PAYMENT_METHODS, pick, text

COLUMNS = ("field.number", "field.customer", "field.phone", "field.email", "field.sku",
           "field.product", "field.quantity", "field.unit_price", "field.amount",
           "currency", "order_total", "field.placed_at", "field.ship_by", "field.deliver_by",
           "field.status", "field.payment_method", "field.promo_code")
_EXTRA = {"currency": ("币种", "Currency"), "order_total": ("订单总额", "Order total")}
CHUNK_ROWS = 200
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection"): = + - @, tab and
# carriage return; and their full-width forms, which Excel and WPS with a Chinese input method
# also take for a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_text(value: str) -> str:
    """Text as a spreadsheet must show it, not evaluate it: a leading ``'`` where it would
    start a formula (customers and shops write names and promo codes, not staff)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def header(lang: str) -> list[str]:
    return [pick(_EXTRA[c], lang) if c in _EXTRA else text(c, lang) for c in COLUMNS]


def _when(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return value.astimezone(tz).replace(tzinfo=None) if value else None


def _cells(row: ExportRow, lang: str, tz: ZoneInfo) -> list[object]:
    method = PAYMENT_METHODS.get(row.payment_method or "")
    return [row.number, row.customer, row.phone, row.email, row.sku, row.product,
            row.quantity, minor_to_major(row.unit_price, row.currency),
            minor_to_major(row.amount, row.currency), row.currency,
            minor_to_major(row.order_total, row.currency), _when(row.placed_at, tz),
            _when(row.ship_by, tz), _when(row.deliver_by, tz),
            lifecycle.label(Status(row.status), lang),
            pick(method, lang) if method else row.payment_method, row.promo_code]


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str):
        return spreadsheet_text(value)
    return value  # numbers stay numbers


async def csv_stream(rows: AsyncIterator[ExportRow], lang: str,
                     tz: ZoneInfo) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header(lang))
    yield "\ufeff".encode() + buf.getvalue().encode()
    buf.seek(0)
    buf.truncate()
    n = 0
    async for row in rows:
        writer.writerow([_csv_value(v) for v in _cells(row, lang, tz)])
        n += 1
        if n % CHUNK_ROWS == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


async def xlsx_stream(rows: AsyncIterator[ExportRow], lang: str,
                      tz: ZoneInfo) -> AsyncIterator[bytes]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(text("orders.title", lang))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    heads = []
    for title in header(lang):
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        heads.append(cell)
    ws.append(heads)
    money_cols = {7, 8, 10}
    date_cols = {11, 12, 13}
    async for row in rows:
        cells = []
        for i, value in enumerate(_cells(row, lang, tz)):
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                # Text is a string cell, whatever it starts with (openpyxl would store
                # "=…" as a formula); the quote prefix keeps it text if someone edits it.
                cell.data_type = "s"
                cell.quotePrefix = spreadsheet_text(value) != value
            elif i in money_cols:
                digits = MINOR_UNITS.get(row.currency, 2)
                cell.number_format = "#,##0." + "0" * digits if digits else "#,##0"
            elif i in date_cols:
                cell.number_format = "yyyy-mm-dd hh:mm"
            cells.append(cell)
        ws.append(cells)
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        await asyncio.to_thread(wb.save, path)
        with open(path, "rb") as f:  # noqa: ASYNC230 - a local temp file, read in chunks
            while chunk := f.read(64 * 1024):
                yield chunk
    finally:
        os.unlink(path)
