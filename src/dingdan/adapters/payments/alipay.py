"""Alipay refunds: ``alipay.trade.refund`` (统一收单交易退款接口) over Alipay's open API.

The request is a form POST to the gateway (``https://openapi.alipay.com/gateway.do``) with the
common parameters (``app_id``, ``method``, ``format=JSON``, ``charset=utf-8``,
``sign_type=RSA2``, ``timestamp`` as ``yyyy-MM-dd HH:mm:ss`` Beijing time, ``version=1.0``)
and ``biz_content``, a JSON object: ``out_trade_no`` (the order number the payment was made
under) and/or ``trade_no`` (Alipay's), ``refund_amount`` in yuan with two decimals,
``out_request_no`` and ``refund_reason``.

Signing (RSA2): every parameter but ``sign`` with a non-empty value, sorted by name, joined as
``name=value`` with ``&``, signed SHA256withRSA with the merchant's private key, Base64. The
answer is ``{"alipay_trade_refund_response": {...}, "sign": "..."}``; the signature covers
the response object's JSON text exactly as sent, under Alipay's public key.

``code`` ``10000`` is success (``fund_change`` ``N`` when this request number was refunded
before: still success). ``20000`` (service unavailable) and ``ACQ.SYSTEM_ERROR`` may succeed
when asked again with the same ``out_request_no``; other ``40004`` refusals will not.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dingdan.adapters.payments.port import RefundAnswer, RefundRequest
from dingdan.domain.refunds import yuan

GATEWAY = "https://openapi.alipay.com/gateway.do"
METHOD = "alipay.trade.refund"
RESPONSE_KEY = "alipay_trade_refund_response"
BEIJING = timezone(timedelta(hours=8))
RETRYABLE_SUB_CODES = frozenset({"ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.ACQ.SYSTEM_ERROR"})


def content_to_sign(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if v and k != "sign")


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("an Alipay key is an RSA key")
    return key


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("an Alipay key is an RSA key")
    return key


def rsa2_sign(text: str, key: rsa.RSAPrivateKey) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


def rsa2_verify(text: str, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(),
                   hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def response_text(body: str, key: str) -> str | None:
    """The raw JSON text of ``key``'s value in ``body``, as the signature covers it."""
    at = body.find(f'"{key}"')
    if at < 0:
        return None
    colon = body.find(":", at + len(key) + 2)
    start = colon + 1
    while start < len(body) and body[start] in " \t\r\n":
        start += 1
    try:
        _, end = json.JSONDecoder().raw_decode(body, start)
    except ValueError:
        return None
    return body[start:end]


class AlipayRefunds:
    """The :class:`~dingdan.adapters.payments.port.RefundGateway` for ``alipay``."""

    method = "alipay"

    def __init__(self, *, app_id: str, private_key_pem: str, alipay_public_key_pem: str,
                 client: httpx.AsyncClient, gateway: str = GATEWAY,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.app_id = app_id
        self._key = load_private_key(private_key_pem)
        self._alipay_key = load_public_key(alipay_public_key_pem)
        self._client = client
        self.gateway = gateway
        self._clock = clock

    def params(self, r: RefundRequest) -> dict[str, str]:
        """The signed form parameters of one refund request."""
        biz: dict[str, Any] = {"out_trade_no": r.order_number,
                               "refund_amount": yuan(r.amount),
                               "out_request_no": r.request_no}
        if r.payment_reference:
            biz["trade_no"] = r.payment_reference
        if r.reason:
            biz["refund_reason"] = r.reason[:256]
        params = {"app_id": self.app_id, "method": METHOD, "format": "JSON",
                  "charset": "utf-8", "sign_type": "RSA2",
                  "timestamp": self._clock().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                  "version": "1.0",
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        params["sign"] = rsa2_sign(content_to_sign(params), self._key)
        return params

    async def refund(self, request: RefundRequest) -> RefundAnswer:
        if request.currency != "CNY":
            return RefundAnswer(False, error=f"Alipay refunds CNY, not {request.currency}")
        try:
            response = await self._client.post(self.gateway, data=self.params(request))
        except httpx.HTTPError as e:
            return RefundAnswer(False, error=f"no answer: {type(e).__name__}", retryable=True)
        if response.status_code >= 500:
            return RefundAnswer(False, error=f"HTTP {response.status_code}", retryable=True)
        return self.answer(response.text)

    def answer(self, body: str) -> RefundAnswer:
        raw = response_text(body, RESPONSE_KEY)
        try:
            signature = json.loads(body).get("sign")
        except (ValueError, AttributeError):
            signature = None
        if raw is None:
            return RefundAnswer(False, error="not an alipay.trade.refund answer", retryable=True)
        result = json.loads(raw)
        code = str(result.get("code", ""))
        if code == "10000":
            # Money moved: only an answer Alipay signed may say so.
            if not signature or not rsa2_verify(raw, str(signature), self._alipay_key):
                return RefundAnswer(False, error="the answer's signature does not verify",
                                    retryable=True)
            return RefundAnswer(True, reference=result.get("trade_no"))
        sub_code = str(result.get("sub_code") or "")
        error = f"{code} {sub_code} {result.get('sub_msg') or result.get('msg') or ''}".strip()
        return RefundAnswer(False, error=error[:400],
                            retryable=code == "20000" or sub_code in RETRYABLE_SUB_CODES)
