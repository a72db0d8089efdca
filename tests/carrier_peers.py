"""The carriers' side, written from their documents and independently of the adapters:
Kuaidi100 pushing a parcel's scans to us (and serving ``poll`` and ``poll/query.do``), and
SF Express pushing routes. The signatures are computed here with hashlib and urllib, not
with the adapters' functions."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote_plus

from peers import Answer, Request, json_answer

KUAIDI100_SALT = "k100-salt-for-tests"
KUAIDI100_KEY = "k100-key-for-tests"
KUAIDI100_CUSTOMER = "K100CUSTOMER0001"
SF_CHECK_WORD = "sf-check-word-for-tests"


def trace(code: str, text: str, when: str, place: str | None = "上海市") -> dict[str, Any]:
    """One trace of a Kuaidi100 ``lastResult`` (resultv2=4 gives ``statusCode``)."""
    out = {"context": text, "time": when, "ftime": when, "status": "在途", "statusCode": code}
    if place:
        out["areaName"] = place
    return out


def kuaidi100_push(number: str, traces: list[dict[str, Any]], *, status: str = "polling",
                   com: str = "shunfeng", salt: str = KUAIDI100_SALT) -> dict[str, str]:
    """The form Kuaidi100 posts: ``param`` (JSON, newest trace first) and ``sign`` =
    upper-case MD5(param + salt)."""
    state = traces[0]["statusCode"][:1] if traces else "0"
    param = json.dumps({"status": status, "billstatus": "got", "message": "", "autoCheck": "0",
                        "comOld": "", "comNew": "",
                        "lastResult": {"message": "ok", "state": state, "status": "200",
                                       "condition": "F00", "ischeck": "0", "com": com,
                                       "nu": number, "data": traces}}, ensure_ascii=False)
    sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
    return {"param": param, "sign": sign}


def sf_push(routes: list[dict[str, Any]], *, timestamp: str = "1794301200000",
            check_word: str = SF_CHECK_WORD) -> dict[str, str]:
    """The form SF posts: ``msgData``, ``timestamp``, ``msgDigest`` =
    Base64(MD5(URLEncoder.encode(msgData + timestamp + checkWord, "UTF-8")))."""
    msg = json.dumps({"WaybillRoute": routes}, ensure_ascii=False)
    # Java's URLEncoder keeps A-Z a-z 0-9 . - * _ and writes space as +.
    encoded = quote_plus(msg + timestamp + check_word, safe="*").replace("~", "%7E")
    digest = base64.b64encode(hashlib.md5(encoded.encode()).digest()).decode()
    return {"msgData": msg, "timestamp": timestamp, "msgDigest": digest}


def route(number: str, op: str, when: str, remark: str, place: str = "深圳市") -> dict[str, Any]:
    return {"mailno": number, "orderid": f"DD-{number}", "acceptTime": when,
            "acceptAddress": place, "remark": remark, "opCode": op, "id": f"{number}-{op}",
            "reasonCode": "", "reasonName": ""}


@dataclass
class Kuaidi100Service:
    """``POST /poll`` (subscribe) and ``POST /poll/query.do`` (real-time query), as Kuaidi100
    documents them: a wrong key is ``600``, subscribing a number twice ``501``, a bad query
    signature ``400``."""

    key: str = KUAIDI100_KEY
    customer: str = KUAIDI100_CUSTOMER
    subscribed: dict[str, dict[str, Any]] = field(default_factory=dict)
    parcels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __call__(self, req: Request) -> Answer:
        form = dict(parse_qsl(req.body.decode(), keep_blank_values=True))
        if req.path == "/poll":
            return self._subscribe(form)
        if req.path == "/poll/query.do":
            return self._query(form)
        return 404, {}, b"not found"

    def _subscribe(self, form: dict[str, str]) -> Answer:
        if form.get("schema") != "json":
            return _k100(False, "700", "schema must be json")
        try:
            param = json.loads(form["param"])
        except (KeyError, ValueError):
            return _k100(False, "700", "bad param")
        if param.get("key") != self.key:
            return _k100(False, "600", "您不是合法的订阅者")
        number = param.get("number")
        if not number or not param.get("company") or \
                not param.get("parameters", {}).get("callbackurl"):
            return _k100(False, "700", "缺少参数")
        if number in self.subscribed:
            return _k100(False, "501", "重复订阅")
        self.subscribed[number] = param
        return _k100(True, "200", "提交成功")

    def _query(self, form: dict[str, str]) -> Answer:
        param = form.get("param", "")
        expected = hashlib.md5((param + self.key + self.customer).encode()).hexdigest().upper()
        if form.get("customer") != self.customer or form.get("sign") != expected:
            return json_answer(200, json.dumps({"result": False, "returnCode": "400",
                                                "message": "签名错误"}).encode())
        num = json.loads(param)["num"]
        if num not in self.parcels:
            return json_answer(200, json.dumps({"result": False, "returnCode": "500",
                                                "message": "查询无结果，请隔段时间再查"},
                                               ensure_ascii=False).encode())
        return json_answer(200, json.dumps({
            "message": "ok", "nu": num, "ischeck": "0", "com": json.loads(param)["com"],
            "status": "200", "state": "0", "data": self.parcels[num]},
            ensure_ascii=False).encode())


def _k100(result: bool, code: str, message: str) -> Answer:
    return json_answer(200, json.dumps({"result": result, "returnCode": code,
                                        "message": message}, ensure_ascii=False).encode())
