"""Reading an uploaded sheet: CSV (UTF-8 with or without BOM, or GB18030) or ``.xlsx``.

Every cell comes back as text, the first row as the header. What cannot be read as a
sheet is refused as a whole with :class:`ImportFileInvalid` and a reason: a binary file,
an encoding that is neither, more than ``max_rows`` rows, or an ``.xlsx`` whose parts would
unpack past :data:`MAX_UNPACKED` bytes or at a ratio no spreadsheet has (a zip bomb) — that
check reads the zip's directory only, before anything is inflated. openpyxl parses the XML
through defusedxml (entity expansion and external entities refused).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from dingdan.domain.errors import ImportFileInvalid

MAX_UNPACKED = 50 * 1024 * 1024  # bytes of all the parts of an .xlsx, unpacked
MAX_RATIO = 200  # unpacked / packed of one part; real sheets stay far below (about 10)
MAX_PARTS = 500
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class Sheet:
    header: list[str]
    rows: list[list[str]]  # the data rows, without the header


def read_sheet(filename: str, content: bytes, max_rows: int) -> Sheet:
    """The sheet in ``content``; an ``.xlsx`` is told by its bytes, not by its name."""
    if content.startswith(_XLSX_MAGIC):
        rows = _xlsx_rows(content, max_rows)
    elif filename.lower().endswith((".xlsx", ".xlsm")):
        raise ImportFileInvalid({"reason": "the file is named .xlsx but is not one"})
    else:
        rows = _csv_rows(content, max_rows)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ImportFileInvalid({"reason": "the file is empty: no header row"})
    return Sheet([cell.strip() for cell in rows[0]], rows[1:])


def _refuse(reason: str) -> ImportFileInvalid:
    return ImportFileInvalid({"reason": reason})


def decode_text(content: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 (Excel's and WPS's "CSV" on Chinese Windows)."""
    if b"\x00" in content[:8192]:
        raise _refuse("this is not a text file (CSV) or an .xlsx workbook")
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse("the text is neither UTF-8 nor GB18030") from None


def _csv_rows(content: bytes, max_rows: int) -> list[list[str]]:
    text = decode_text(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > max_rows + 1:
                raise _refuse(f"more than {max_rows} rows; split the file")
    except csv.Error as exc:
        raise _refuse(f"not a well-formed CSV file ({exc})") from None
    return rows


def _check_zip(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            parts = z.infolist()
    except zipfile.BadZipFile:
        raise _refuse("a damaged .xlsx workbook") from None
    if len(parts) > MAX_PARTS:
        raise _refuse("the workbook has too many parts")
    if sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise _refuse(f"the workbook unpacks to more than {MAX_UNPACKED // 2**20} MB")
    for p in parts:
        if p.file_size > 1024 * 1024 and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise _refuse("the workbook is compressed beyond any real sheet (a zip bomb)")


def _xlsx_rows(content: bytes, max_rows: int) -> list[list[str]]:
    _check_zip(content)
    from openpyxl import load_workbook  # loaded when a workbook comes: it is slow to import

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise _refuse(f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise _refuse("the workbook has no sheet")
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > max_rows + 1:
                raise _refuse(f"more than {max_rows} rows; split the file")
        while rows and not any(rows[-1]):
            rows.pop()
        return rows
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
