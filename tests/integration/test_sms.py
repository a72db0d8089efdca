"""The SMS channel against a real local HTTP server that speaks each provider's format.

The Aliyun peer checks every request's signature with its own implementation of Aliyun's
documented recipe (URL-encode, then ``+``→``%20``, ``*``→``%2A``, ``%7E``→``~``), refuses a
reused nonce as Aliyun does, and answers in Aliyun's JSON.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote_plus

import pytest

from dingdan.adapters.notify.port import Message
from dingdan.adapters.notify.sms import AliyunSmsSender, HttpSmsSender, aliyun_signature
from peers import LocalHttpServer, Request, json_answer

KEY_ID, SECRET = "LTAI-test-key", "s3cr3t/+*~ key"

ILLEGAL_NUMBER = "8613900000001"
THROTTLED_NUMBER = "8613900000002"
BROKEN_NUMBER = "8613900000003"


def pop_encode(value: str) -> str:
    """Aliyun's documented encoding, done the way its Java sample does it."""
    return quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(params: dict[str, str], secret: str) -> str:
    query = "&".join(f"{pop_encode(k)}={pop_encode(params[k])}" for k in sorted(params))
    to_sign = "GET&" + pop_encode("/") + "&" + pop_encode(query)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class FakeAliyun:
    """Dysmsapi SendSms as documented: signed GET, JSON answer with Code/Message/BizId."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.nonces: set[str] = set()

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        pairs = parse_qsl(req.raw_query, keep_blank_values=True)
        params = dict(pairs)
        given = params.pop("Signature", "")
        rid = str(uuid.uuid4())

        def answer(status: int, code: str, message: str, **extra: str) -> tuple[
                int, dict[str, str], bytes]:
            body = {"RequestId": rid, "Code": code, "Message": message, **extra}
            return json_answer(status, json.dumps(body).encode())

        if req.method != "GET" or params.get("Action") != "SendSms":
            return answer(400, "InvalidAction", "unknown action")
        if params.get("AccessKeyId") != KEY_ID:
            return answer(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if not hmac.compare_digest(given, expected_signature(params, SECRET)):
            return answer(400, "SignatureDoesNotMatch", "Specified signature is not matched.")
        if (params["SignatureMethod"], params["SignatureVersion"], params["Version"]) != (
                "HMAC-SHA1", "1.0", "2017-05-25"):
            return answer(400, "InvalidParameter", "wrong signature method or version")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
            return answer(400, "InvalidTimeStamp.Expired", "timestamp expired")
        if params["SignatureNonce"] in self.nonces:
            return answer(400, "SignatureNonceUsed", "nonce used")
        self.nonces.add(params["SignatureNonce"])
        phone = params["PhoneNumbers"]
        if phone == ILLEGAL_NUMBER:
            return answer(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if phone == THROTTLED_NUMBER:
            return answer(200, "isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控")
        if phone == BROKEN_NUMBER:
            return 503, {}, b"Service Unavailable"
        self.sent.append(params)
        return answer(200, "OK", "OK", BizId=f"900619746936498440^{len(self.sent)}")


def aliyun(peer: LocalHttpServer, secret: str = SECRET) -> AliyunSmsSender:
    return AliyunSmsSender(access_key_id=KEY_ID, access_key_secret=secret, sign_name="丁单商城",
                           templates={"order.shipped": "SMS_460945123", "*": "SMS_460945000"},
                           endpoint=peer.url("/"), timeout=5)


def shipped(phone: str = "+8613800138000") -> Message:
    return Message(event_id=str(uuid.uuid4()), channel="sms", recipient=phone,
                   text="您的订单 DD2611110001 已发货",
                   headers={"Dingdan-Event-Type": "order.shipped"},
                   data={"order": "DD2611110001", "carrier": "顺丰 SF", "tracking": "SF100 200*~",
                         "items": 3, "lines": [{"sku": "A"}]})


def test_signature_matches_aliyuns_documented_example() -> None:
    # The worked example of Aliyun's "签名机制" page for SendSms.
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML",
              "OutId": "123", "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou",
              "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
              "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
              "Version": "2017-05-25"}
    assert aliyun_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert expected_signature(params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


async def test_aliyun_sms_is_signed_and_reaches_the_provider() -> None:
    fake = FakeAliyun()
    with LocalHttpServer(fake) as peer:
        sender = aliyun(peer)
        try:
            message = shipped()
            result = await sender.send(message)
            second = await sender.send(shipped())  # a fresh nonce each time
        finally:
            await sender.close()
    assert result.ok and not result.permanent, result
    assert result.response_code == 200 and result.detail.startswith("BizId=")
    assert second.ok, second
    got = fake.sent[0]
    assert got["PhoneNumbers"] == "8613800138000"
    assert got["SignName"] == "丁单商城"
    assert got["TemplateCode"] == "SMS_460945123"
    assert got["OutId"] == message.event_id
    assert json.loads(got["TemplateParam"]) == {"order": "DD2611110001", "carrier": "顺丰 SF",
                                                "tracking": "SF100 200*~", "items": "3"}
    assert got["Format"] == "JSON" and got["RegionId"] == "cn-hangzhou"


async def test_other_events_use_the_fallback_template() -> None:
    fake = FakeAliyun()
    with LocalHttpServer(fake) as peer:
        sender = aliyun(peer)
        try:
            msg = Message(event_id="e-1", channel="sms", recipient="13800138000",
                          data={"type": "order.delivered", "order": "DD1"})
            result = await sender.send(msg)
        finally:
            await sender.close()
    assert result.ok, result
    assert fake.sent[0]["TemplateCode"] == "SMS_460945000"
    assert json.loads(fake.sent[0]["TemplateParam"]) == {"order": "DD1"}  # no routing keys


@pytest.mark.parametrize(("phone", "permanent", "code"), [
    ("+" + ILLEGAL_NUMBER, True, "isv.MOBILE_NUMBER_ILLEGAL"),
    ("+" + THROTTLED_NUMBER, False, "isv.BUSINESS_LIMIT_CONTROL"),
    ("+" + BROKEN_NUMBER, False, "HTTP 503"),
])
async def test_provider_answers_say_whether_to_retry(phone: str, permanent: bool,
                                                     code: str) -> None:
    with LocalHttpServer(FakeAliyun()) as peer:
        sender = aliyun(peer)
        try:
            result = await sender.send(shipped(phone))
        finally:
            await sender.close()
    assert not result.ok
    assert result.permanent is permanent
    assert code in result.detail


async def test_a_wrong_secret_is_refused_and_not_retried() -> None:
    fake = FakeAliyun()
    with LocalHttpServer(fake) as peer:
        sender = aliyun(peer, secret="not-the-secret")
        try:
            result = await sender.send(shipped())
        finally:
            await sender.close()
    assert not result.ok and result.permanent
    assert "SignatureDoesNotMatch" in result.detail and result.response_code == 400
    assert fake.sent == []


async def test_an_event_without_a_template_gives_up_without_calling_aliyun() -> None:
    fake = FakeAliyun()
    with LocalHttpServer(fake) as peer:
        sender = AliyunSmsSender(access_key_id=KEY_ID, access_key_secret=SECRET,
                                 sign_name="丁单商城", templates={"order.shipped": "SMS_1"},
                                 endpoint=peer.url("/"))
        try:
            result = await sender.send(Message(event_id="e", channel="sms", recipient="138",
                                               data={"type": "order.paid"}))
        finally:
            await sender.close()
        assert peer.requests == []
    assert not result.ok and result.permanent and "order.paid" in result.detail


async def test_an_unreachable_provider_is_retried() -> None:
    with LocalHttpServer(FakeAliyun()) as peer:
        url = peer.url("/")
    # the server is shut and its port closed now
    sender = AliyunSmsSender(access_key_id=KEY_ID, access_key_secret=SECRET, sign_name="x",
                             templates={"*": "SMS_1"}, endpoint=url, timeout=2)
    try:
        result = await sender.send(shipped())
    finally:
        await sender.close()
    assert not result.ok and not result.permanent
    assert "ConnectError" in result.detail


class FakeGateway:
    """A generic SMS gateway: bearer key, JSON body, 202 with a message id."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.headers.get("authorization") != "Bearer gw-key":
            return json_answer(401, b'{"error":"unauthorized"}')
        body = json.loads(req.body)
        if body["to"] == "+8613900000009":
            return json_answer(429, b'{"error":"slow down"}')
        if body["to"] == "bogus":
            return json_answer(422, b'{"error":"invalid number"}')
        body["idempotency_key"] = req.headers.get("idempotency-key")
        self.sent.append(body)
        return json_answer(202, json.dumps({"id": f"m{len(self.sent)}"}).encode())


async def test_generic_http_provider_gets_json_with_bearer_key() -> None:
    gateway = FakeGateway()
    with LocalHttpServer(gateway) as peer:
        sender = HttpSmsSender(url=peer.url("/v1/messages"), api_key="gw-key")
        wrong_key = HttpSmsSender(url=peer.url("/v1/messages"), api_key="nope")
        try:
            message = shipped()
            ok = await sender.send(message)
            throttled = await sender.send(shipped("+8613900000009"))
            bogus = await sender.send(shipped("bogus"))
            refused = await wrong_key.send(shipped())
        finally:
            await sender.close()
            await wrong_key.close()
    assert ok.ok and ok.response_code == 202
    assert not throttled.ok and not throttled.permanent and throttled.response_code == 429
    assert not bogus.ok and bogus.permanent and bogus.response_code == 422
    assert not refused.ok and refused.permanent and refused.response_code == 401
    [got] = gateway.sent
    assert got["id"] == message.event_id == got["idempotency_key"]
    assert got["to"] == "+8613800138000" and got["text"] == message.text
    assert got["template"] == "order.shipped"
    assert got["params"] == {"order": "DD2611110001", "carrier": "顺丰 SF",
                             "tracking": "SF100 200*~", "items": 3, "lines": [{"sku": "A"}]}
