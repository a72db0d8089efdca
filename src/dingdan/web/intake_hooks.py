"""The shops' order webhooks: ``POST /intake/shopify/{code}``,
``POST /intake/woocommerce/{code}`` and the generic ``POST /intake/json/{code}``, where
``code`` is the shop connected through
``/api/v1/channel-sources``. No token: the shop's HMAC signature of the raw body is the
credential (``services.shops``). Outside the ``/api/v1`` document, as they speak the shops'
formats, not Dingdan's; ``docs/intake.md`` describes them.

The answer is 200 with what became of the order (``created``, ``updated``, ``unchanged``,
``stale``, ``unknown_cancelled``, or ``ignored`` for a delivery with no order in it); a bad
signature is 401 ``SIGNATURE_INVALID``; a change the order's stage refuses is 409
``CHANNEL_ORDER_LOCKED``; an order Dingdan cannot take is 422 naming the fields. Nothing is
written unless the answer is 200.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from dingdan.services import shops
from dingdan.web.auth import client_address
from dingdan.web.deps import app_settings, uow_factory

router = APIRouter(prefix="/intake", include_in_schema=False)


async def _receive(kind: str, code: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    received = await shops.receive_shop_message(
        code, kind, body, {k.lower(): v for k, v in request.headers.items()},
        uow_factory(request), client_address(request),
        ZoneInfo(app_settings(request).timezone))
    if received is None:
        return {"outcome": "ignored"}
    return {"outcome": received.arrival.value, "order": received.number,
            "changed": list(received.changed)}


@router.post("/shopify/{code}")
async def shopify_order(code: str, request: Request) -> dict[str, Any]:
    return await _receive("shopify", code, request)


@router.post("/woocommerce/{code}")
async def woocommerce_order(code: str, request: Request) -> dict[str, Any]:
    return await _receive("woocommerce", code, request)


@router.post("/json/{code}")
async def json_order(code: str, request: Request) -> dict[str, Any]:
    """Any system's order JSON, read through the connection's mapping (docs/intake.md)."""
    return await _receive("json", code, request)
