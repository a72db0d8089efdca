"""The API's input types, written once: what a request may carry, so the OpenAPI document says
what the rules accept and nothing reaches the database that it cannot store.

- Numbers and booleans are strict: ``"12"``, ``true`` and ``12.0`` are not the number 12.
- Every integer is bounded by the column it lands in (INTEGER is 32-bit, ids are BIGINT).
- Text carries no control characters (PostgreSQL refuses NUL in text; the others only hide
  things); multi-line fields (notes, reasons, templates) may hold tab and new line.
- Datetimes are ISO 8601 strings with an offset, never a number of seconds.
- Ids in paths and queries are bounded the same way, through the ``…Path``/``…Query`` aliases.

Requests models use these in ``schemas.py`` and the routers; ``web/text_guard.py`` refuses
NUL and control characters in paths, query strings and HTML forms before any route runs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

from dingdan.domain.money import MAX_AMOUNT
from dingdan.domain.orders import MAX_QTY

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# C0 controls and DEL (and unpaired surrogates, which no database can store). A single line
# allows none; multi-line text allows \t \n \r.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_LINE_BAD = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_TEXT_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _clean(bad: re.Pattern[str]) -> Any:
    def check(value: str) -> str:
        if bad.search(value):
            raise PydanticCustomError("control_character",
                                      "control characters (NUL, …) are not allowed here")
        return value
    return AfterValidator(check)


def has_control_characters(value: str, multiline: bool = True) -> bool:
    """True if ``value`` holds a character no text field accepts (for non-pydantic input)."""
    return bool((_TEXT_BAD if multiline else _LINE_BAD).search(value))


# One line of text (names, codes, references). Lengths are given where used: Field(max_length=…).
Line = Annotated[str, _clean(_LINE_BAD), Field(json_schema_extra={"pattern": LINE_PATTERN})]
# Text that may span lines (notes, reasons, template bodies).
Text = Annotated[str, _clean(_TEXT_BAD), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# A product code as warehouses print it on labels: letters, digits and . _ - / (no spaces or
# quotes, which break labels, CSV files and URLs).
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$"
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=SKU_PATTERN,
                           examples=["3C-001"])]

Bool = Annotated[bool, Strict()]
Int32 = Annotated[int, Strict(), Field(ge=-(2**31), le=INT32_MAX)]
Int64 = Annotated[int, Strict(), Field(ge=-(2**63), le=INT64_MAX)]
Amount = Annotated[int, Strict(), Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
Id = Annotated[int, Strict(), Field(ge=1, le=INT64_MAX)]
# A record's version (an INTEGER column), for optimistic concurrency.
Version = Annotated[int, Strict(), Field(ge=0, le=INT32_MAX)]
# An order line's quantity. The document shows the order rules' range (domain/orders.py); the
# rules refuse 0 themselves, so that one answer names every bad field of the order. The type
# keeps what reaches them storable.
LineQuantity = Annotated[int, Strict(), Field(ge=-(2**31), le=INT32_MAX, json_schema_extra={
    "minimum": 1, "maximum": MAX_QTY})]
# Text the rules require (they name every empty field at once): documented as non-empty.
NON_EMPTY_LINE: dict[str, Any] = {"minLength": 1, "pattern": LINE_PATTERN}
# A change of stock on hand (INTEGER columns: on_hand, the ledger's quantity).
StockQuantity = Int32


def _iso_only(value: Any) -> Any:
    # pydantic would read 7 (or "7") as seconds after 1970: a promise dated 1970-01-01.
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise PydanticCustomError("datetime_type",
                                  "an ISO 8601 date and time with an offset, e.g. "
                                  "2026-11-11T18:00:00+08:00")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_only)]

# Path and query parameters (always strings on the wire, so not strict; bounded instead).
IdPath = Annotated[int, Path(ge=1, le=INT64_MAX)]
IdQuery = Annotated[int | None, Query(ge=1, le=INT64_MAX)]
LineQuery = Annotated[Line | None, Query(max_length=200)]
