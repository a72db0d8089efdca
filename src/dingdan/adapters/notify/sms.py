"""SMS channel: Aliyun SMS (Dysmsapi ``SendSms``) and a generic HTTP provider.

Both implement the :class:`~dingdan.adapters.notify.port.Sender` port for channel ``"sms"``.
A message's ``recipient`` is a phone number (E.164, ``+8613800138000``); its ``data`` holds
the template parameters; the event type (``Dingdan-Event-Type`` header, or ``data["type"]``)
picks the Aliyun template code, since Aliyun sends only pre-approved templates, never free
text. The generic provider receives the rendered ``text`` as well.

Aliyun requests are signed as Aliyun documents for its RPC-style APIs (signature version
1.0): every parameter except ``Signature``, sorted by name, names and values percent-encoded
(RFC 3986 unreserved characters kept, space as ``%20``), joined with ``=`` and ``&``; the
string to sign is ``GET&%2F&`` + the percent-encoded query; the signature is
Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from dingdan.adapters.notify._common import by_status, event_type_of, json_bytes, transport_failure
from dingdan.adapters.notify.port import Message, SendResult

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"

# Aliyun answers (``Code``) where a later attempt can succeed: flow control, quotas and
# balance an operator can raise, a reused nonce, the platform's own failures. Other ``isv.*``
# codes are about this message or this account's set-up (bad number, template, signature,
# parameters, credentials): resending the same request cannot help.
ALIYUN_RETRYABLE = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (1/min, 5/h, 10/day by default)
    "isv.DAY_LIMIT_CONTROL",
    "isv.MONTH_LIMIT_CONTROL",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE",  # account stopped for lack of balance
    "SignatureNonceUsed",
    "ServiceUnavailable",
    "InternalError",
})


def percent_encode(value: str) -> str:
    """Aliyun's POP encoding: RFC 3986, only ``A-Z a-z 0-9 - _ . ~`` left as they are."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def aliyun_signature(params: Mapping[str, str], access_key_secret: str,
                     method: str = "GET") -> str:
    """Base64 HMAC-SHA1 signature of ``params`` (all of them except ``Signature``)."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign.encode(),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_url(endpoint: str, params: Mapping[str, str], access_key_secret: str) -> str:
    """The GET URL Aliyun expects: ``Signature`` first, then the canonical query."""
    signature = aliyun_signature(params, access_key_secret)
    base = endpoint if endpoint.endswith("/") else endpoint + "/"
    return f"{base}?Signature={percent_encode(signature)}&{canonical_query(params)}"


def aliyun_answer(status: int, text: str) -> SendResult:
    """Map Aliyun's JSON answer (``{"Code": "OK", "BizId": …}``) onto a send result."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("Code"):
        return by_status(status, text, gone=frozenset())
    code = str(body["Code"])
    if code == "OK":
        return SendResult.sent(f"BizId={body.get('BizId', '')}", status)
    detail = f"{code}: {body.get('Message', '')}"[:500]
    if code in ALIYUN_RETRYABLE or code.startswith(("Throttling", "isp.")) or status >= 500:
        return SendResult.retry(detail, status)
    return SendResult.give_up(detail, status)


# Keys the worker adds for routing, not for the text: never template variables.
ROUTING_KEYS = frozenset({"type", "event_id", "kind"})


def template_params(data: Mapping[str, Any]) -> dict[str, str]:
    """Aliyun template variables are strings; nested values cannot fill a template."""
    return {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            for k, v in data.items()
            if k not in ROUTING_KEYS and v is not None and not isinstance(v, dict | list)}


def _phone(recipient: str) -> str:
    # Aliyun takes 86… or a bare 11-digit number for the mainland, and country code + number
    # without "+" elsewhere, so the E.164 "+" is dropped.
    return recipient.strip().replace(" ", "").removeprefix("+")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _nonce() -> str:
    return str(uuid.uuid4())


class AliyunSmsSender:
    """Sends template SMS through Aliyun's ``SendSms`` (API version 2017-05-25)."""

    channel = "sms"

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str,
                 templates: Mapping[str, str], endpoint: str = ALIYUN_ENDPOINT,
                 region: str = "cn-hangzhou", timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None,
                 clock: Callable[[], datetime] = _utc_now,
                 nonce: Callable[[], str] = _nonce) -> None:
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.templates = dict(templates)
        self.endpoint = endpoint
        self.region = region
        self._clock = clock
        self._nonce = nonce
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)

    def template_for(self, event_type: str) -> str | None:
        return self.templates.get(event_type) or self.templates.get("*")

    def request_params(self, message: Message, template_code: str) -> dict[str, str]:
        return {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.event_id,  # comes back in delivery receipts
            "PhoneNumbers": _phone(message.recipient),
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self._nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "TemplateParam": json_bytes(template_params(message.data)).decode(),
            "Timestamp": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    async def send(self, message: Message) -> SendResult:
        event_type = event_type_of(message)
        template = self.template_for(event_type)
        if template is None:
            return SendResult.give_up(f"no Aliyun SMS template configured for {event_type!r}")
        url = signed_url(self.endpoint, self.request_params(message, template), self._secret)
        try:
            response = await self._client.get(url)
        except httpx.HTTPError as exc:
            return transport_failure(exc)
        return aliyun_answer(response.status_code, response.text)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


class HttpSmsSender:
    """A generic SMS gateway: ``POST url`` with a bearer key and a JSON body

        {"id": event id, "to": "+8613800138000", "text": "…", "template": "order.shipped",
         "params": {…}}

    The event id is also sent as ``Idempotency-Key`` so a gateway can drop a repeat.
    2xx is sent; 408, 429 and 5xx retry; other answers give up.
    """

    channel = "sms"

    def __init__(self, *, url: str, api_key: str, timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self._key = api_key
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)

    def body(self, message: Message) -> dict[str, Any]:
        return {"id": message.event_id, "to": message.recipient.strip(), "text": message.text,
                "template": event_type_of(message) or None, "params": dict(message.data)}

    async def send(self, message: Message) -> SendResult:
        try:
            response = await self._client.post(
                self.url, content=json_bytes(self.body(message)),
                headers={"Authorization": f"Bearer {self._key}",
                         "Content-Type": "application/json",
                         "Idempotency-Key": message.event_id})
        except httpx.HTTPError as exc:
            return transport_failure(exc)
        return by_status(response.status_code, response.text, gone=frozenset())

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()
