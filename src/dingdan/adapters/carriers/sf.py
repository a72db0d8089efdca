"""SF Express open platform (顺丰开放平台 / 丰桥): the route push.

As the platform documents its messages: a request carries the form fields ``msgData`` (the
JSON message), ``timestamp`` (milliseconds) and ``msgDigest`` =
Base64(MD5(URLEncode(msgData + timestamp + checkWord))), where URLEncode is Java's
``URLEncoder.encode(…, "UTF-8")`` (space as ``+``, only ``A-Z a-z 0-9 . - * _`` kept) and
``checkWord`` the account's 校验码. The route push's ``msgData`` is ``{"WaybillRoute":
[{"mailno", "orderid", "acceptTime", "acceptAddress", "remark", "opCode", "id",
"reasonCode", "reasonName"}…]}``, one entry per scan, possibly of several waybills. We answer
``{"return_code": "0000", "return_msg": "成功"}``; ``1000`` (with a message) makes SF push
again later. ``acceptTime`` is China Standard Time, ``2026-11-11 09:30:00``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import quote_plus

from dingdan.adapters.carriers.kuaidi100 import parse_time
from dingdan.adapters.carriers.port import CarrierProtocolError, ParcelUpdate, Scan

OK_ANSWER = {"return_code": "0000", "return_msg": "成功"}


def java_url_encode(text: str) -> str:
    """``java.net.URLEncoder.encode(text, "UTF-8")``."""
    return quote_plus(text, safe="*").replace("~", "%7E")


def msg_digest(msg_data: str, timestamp: str, check_word: str) -> str:
    raw = java_url_encode(msg_data + timestamp + check_word).encode("utf-8")
    return base64.b64encode(hashlib.md5(raw, usedforsecurity=False).digest()).decode()


def verify_push(msg_data: str, timestamp: str, digest: str, check_word: str) -> bool:
    return hmac.compare_digest(msg_digest(msg_data, timestamp, check_word), digest.strip())


def parse_route_push(msg_data: str) -> list[ParcelUpdate]:
    """The parcels of a route push (already verified), each with its scans in push order."""
    try:
        body = json.loads(msg_data)
    except ValueError as exc:
        raise CarrierProtocolError("msgData is not JSON") from exc
    routes = body.get("WaybillRoute") if isinstance(body, dict) else None
    if isinstance(body, dict) and routes is None and isinstance(body.get("Body"), dict):
        routes = body["Body"].get("WaybillRoute")  # the older envelope: {"Body": {...}}
    if not isinstance(routes, list) or not routes:
        raise CarrierProtocolError("msgData has no WaybillRoute")
    by_number: dict[str, list[Scan]] = {}
    for route in routes:
        if not isinstance(route, dict):
            raise CarrierProtocolError("a route is not an object")
        number, op, when = route.get("mailno"), route.get("opCode"), route.get("acceptTime")
        if not isinstance(number, str) or not number.strip() or op is None \
                or not isinstance(when, str):
            raise CarrierProtocolError("a route needs mailno, opCode and acceptTime")
        by_number.setdefault(number.strip(), []).append(Scan(
            code=str(op), text=str(route.get("remark") or "")[:1000],
            place=str(route["acceptAddress"])[:200] if route.get("acceptAddress") else None,
            occurred_at=parse_time(when)))
    return [ParcelUpdate(number, "SF", tuple(scans)) for number, scans in by_number.items()]
