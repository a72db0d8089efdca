"""A generic JSON channel: any system's order JSON, read through a mapping its connection
keeps — the sheet columns (``order_id``, ``recipient``, ``phone``, …, ``sku``, ``quantity``,
``unit_price``) as dotted paths into the JSON, ``lines`` the path of the array of lines
(whose ``sku``, ``quantity`` and ``unit_price`` paths are then relative to each line), and
optionally ``paid``, ``cancelled`` (true when the value there is truthy) and ``version`` (an
ISO 8601 date-time). The rows it makes go through the same parsing as a sheet's.

Signed like the shops: ``X-Dingdan-Signature`` is the base64 HMAC-SHA256 of the raw body
under the connection's secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

import orjson

from dingdan.adapters.channels.shops import ShopOrder, bad, moment, signed
from dingdan.domain import imports as sheet
from dingdan.domain.errors import FieldError, ValidationFailed

SIGNATURE_HEADER = "x-dingdan-signature"
LINE_FIELDS = frozenset({"sku", "quantity", "unit_price"})
EXTRA = frozenset({"lines", "paid", "cancelled", "version"})


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    return signed(secret, body, headers.get(SIGNATURE_HEADER))


def _at(data: Any, path: str) -> Any:
    for key in path.split(".") if path else ():
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def parse(channel: str, body: bytes, mapping: Mapping[str, str], tz: tzinfo) -> ShopOrder:
    if "lines" not in mapping or "order_id" not in mapping:
        raise bad("mapping", "required", "the channel's mapping names no order_id or lines")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad("body", "json_invalid", "the body is not JSON") from None
    items = _at(data, mapping["lines"])
    if not isinstance(items, list) or not items:
        raise bad(mapping["lines"], "required", "an order needs at least one line")
    order_level = {sheet.Column(k): _text(_at(data, p)) for k, p in mapping.items()
                   if k not in EXTRA and k not in LINE_FIELDS
                   and k in sheet.Column.__members__.values()}
    rows = [sheet.SheetRow(i, {**order_level, **{
        sheet.Column(k): _text(_at(item, p)) for k, p in mapping.items() if k in LINE_FIELDS}})
        for i, item in enumerate(items)]
    orders = sheet.group_orders(channel, rows, tz)
    order = orders[0]
    if len(orders) != 1 or order.draft is None:
        raise ValidationFailed(details=[
            FieldError(f"lines.{e.row}.{e.column}" if e.column in LINE_FIELDS else e.column,
                       e.code, e.message) for o in orders for e in o.errors])
    return ShopOrder(order.draft,
                     moment(_at(data, mapping["version"]), "version")
                     if "version" in mapping else None,
                     paid=bool(_at(data, mapping.get("paid", ""))) if "paid" in mapping
                     else False,
                     cancelled=bool(_at(data, mapping.get("cancelled", "")))
                     if "cancelled" in mapping else False)
