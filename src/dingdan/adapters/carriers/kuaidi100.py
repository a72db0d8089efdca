"""Kuaidi100 (快递100): subscribe a tracking number, receive its push callback, query it.

As the 快递100 API documents them:

- **Subscribe** (``POST https://poll.kuaidi100.com/poll``, form ``schema=json&param=…``):
  ``param`` is JSON ``{"company", "number", "key", "parameters": {"callbackurl", "salt",
  "resultv2", "phone"}}``; the answer ``{"result": true, "returnCode": "200", "message"}``
  (``501``: already subscribed — not an error for us; ``600``/``601``: the account; ``700``
  and up: the request).
- **Push** (Kuaidi100 → us, form ``param=…&sign=…``): ``sign`` is
  ``MD5(param + salt)`` in 32 upper-case hex digits, ``salt`` the one given when
  subscribing. ``param`` is JSON ``{"status": "polling"|"shutdown"|"abort"|"updateall",
  "message", "lastResult": {"nu", "com", "state", "ischeck", "data": [{"context", "time",
  "ftime", "status", "statusCode", "areaName"}…]}}``, newest trace first. We answer
  ``{"result": true, "returnCode": "200", "message": "成功"}``; anything else makes
  Kuaidi100 push again later.
- **Real-time query** (``POST https://poll.kuaidi100.com/poll/query.do``, form
  ``customer``, ``sign = MD5(param + key + customer)`` upper-case, ``param`` JSON
  ``{"com", "num", "resultv2"}``): the same ``lastResult`` object.

Times are China Standard Time (UTC+8) without a zone, ``2026-11-11 09:30:00``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from dingdan.adapters.carriers.port import CarrierProtocolError, ParcelUpdate, Scan

ENDPOINT = "https://poll.kuaidi100.com"
CST = timezone(timedelta(hours=8), "CST")
OK_ANSWER = {"result": True, "returnCode": "200", "message": "成功"}
ALREADY_SUBSCRIBED = "501"


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def push_sign(param: str, salt: str) -> str:
    """The ``sign`` of a push: MD5(param + salt), upper case."""
    return md5_upper(param + salt)


def verify_push(param: str, sign: str, salt: str) -> bool:
    """Whether the push was signed with our salt (compared in constant time)."""
    return hmac.compare_digest(push_sign(param, salt), sign.strip().upper())


def query_sign(param: str, key: str, customer: str) -> str:
    return md5_upper(param + key + customer)


def parse_time(text: str) -> datetime:
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise CarrierProtocolError(f"bad time {text!r}") from exc
    return local.replace(tzinfo=CST).astimezone(UTC)


def _last_result(result: Any, finished: bool) -> ParcelUpdate:
    if not isinstance(result, dict):
        raise CarrierProtocolError("lastResult is not an object")
    number, com, data = result.get("nu"), result.get("com"), result.get("data")
    if not isinstance(number, str) or not number.strip() or not isinstance(data, list):
        raise CarrierProtocolError("lastResult needs nu and data")
    scans: list[Scan] = []
    for trace in data:
        if not isinstance(trace, dict):
            raise CarrierProtocolError("a trace is not an object")
        # resultv2=4 gives each trace its detailed code; else only the text status, and the
        # result's ``state`` stands for the newest trace.
        code = trace.get("statusCode") or (result.get("state") if not scans else None)
        code = str(code) if code is not None else str(trace.get("status") or "")
        when = trace.get("ftime") or trace.get("time")
        if not isinstance(when, str):
            raise CarrierProtocolError("a trace has no time")
        scans.append(Scan(code=code, text=str(trace.get("context") or "")[:1000],
                          place=(str(trace["areaName"])[:200] if trace.get("areaName")
                                 else None),
                          occurred_at=parse_time(when)))
    return ParcelUpdate(number.strip(), str(com or ""), tuple(scans), finished)


def parse_push(param: str) -> ParcelUpdate:
    """The parcel update in a push's ``param`` (already verified)."""
    try:
        body = json.loads(param)
    except ValueError as exc:
        raise CarrierProtocolError("param is not JSON") from exc
    if not isinstance(body, dict):
        raise CarrierProtocolError("param is not an object")
    return _last_result(body.get("lastResult"), body.get("status") in ("shutdown", "abort"))


class Kuaidi100Error(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Kuaidi100Client:
    """Subscribe and query, over an httpx client the caller owns (through the outbound guard
    in production: ``adapters.netguard.GuardedTransport``)."""

    def __init__(self, http: httpx.AsyncClient, *, key: str, customer: str,
                 endpoint: str = ENDPOINT) -> None:
        self.http = http
        self.key = key
        self.customer = customer
        self.endpoint = endpoint.rstrip("/")

    async def subscribe(self, company: str, number: str, *, callback_url: str, salt: str,
                        phone: str | None = None) -> bool:
        """Ask Kuaidi100 to push this parcel's scans to ``callback_url``. True if newly
        subscribed, False if it already was (``501``)."""
        parameters = {"callbackurl": callback_url, "salt": salt, "resultv2": "4"}
        if phone:
            parameters["phone"] = phone
        param = json.dumps({"company": company, "number": number, "key": self.key,
                            "parameters": parameters}, ensure_ascii=False,
                           separators=(",", ":"))
        r = await self.http.post(f"{self.endpoint}/poll",
                                 data={"schema": "json", "param": param})
        body = _json(r)
        code = str(body.get("returnCode", ""))
        if body.get("result") is True and code == "200":
            return True
        if code == ALREADY_SUBSCRIBED:
            return False
        raise Kuaidi100Error(code or str(r.status_code), str(body.get("message", "")))

    async def query(self, company: str, number: str, phone: str | None = None,
                    ) -> ParcelUpdate:
        """The parcel's scans now (real-time query)."""
        fields = {"com": company, "num": number, "resultv2": "4"}
        if phone:
            fields["phone"] = phone
        param = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        r = await self.http.post(f"{self.endpoint}/poll/query.do", data={
            "customer": self.customer, "sign": query_sign(param, self.key, self.customer),
            "param": param})
        body = _json(r)
        if body.get("message") != "ok" or "data" not in body:
            raise Kuaidi100Error(str(body.get("returnCode", r.status_code)),
                                 str(body.get("message", "")))
        return _last_result(body, str(body.get("ischeck")) == "1")


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError as exc:
        raise Kuaidi100Error(str(r.status_code), "not JSON") from exc
    if not isinstance(body, dict):
        raise Kuaidi100Error(str(r.status_code), "not a JSON object")
    return body
