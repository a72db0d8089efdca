"""A local Alipay open-API gateway for ``alipay.trade.refund``, written from Alipay's
documentation and sharing no code with the adapter (its own signing, its own parsing).

It checks the request the way Alipay does — form POST, common parameters, RSA2 signature
over the sorted ``k=v`` string under the merchant's public key — keeps the trades it knows
(``out_trade_no`` → amount paid) and the refunds made (``out_request_no`` once each), refuses
a refund past what was paid (``ACQ.REASON_TRADE_REFUND_FEE_ERR``) and answers signed with its
own private key. ``fail_next`` makes the next calls answer ``20000`` (service unavailable).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from peers import Answer, Request


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo
                                         ).decode()


@dataclass
class AlipayGateway:
    app_id: str
    merchant_public: rsa.RSAPublicKey
    alipay_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    trades: dict[str, Decimal] = field(default_factory=dict)  # out_trade_no -> paid
    refunded: dict[str, Decimal] = field(default_factory=dict)  # out_trade_no -> refunded
    requests_done: dict[str, Decimal] = field(default_factory=dict)  # out_request_no -> amount
    fail_next: int = 0
    bad_signatures: int = 0

    def handle(self, req: Request) -> Answer:
        params = dict(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        if req.method != "POST" or params.get("method") != "alipay.trade.refund":
            return self._answer({"code": "40002", "msg": "Invalid Arguments",
                                 "sub_code": "isv.invalid-method"})
        signed = "&".join(f"{k}={params[k]}" for k in sorted(params)
                          if k != "sign" and params[k])
        try:
            self.merchant_public.verify(base64.b64decode(params.get("sign", "")),
                                        signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            self.bad_signatures += 1
            return self._answer({"code": "40002", "msg": "Invalid Arguments",
                                 "sub_code": "isv.invalid-signature"})
        if params.get("app_id") != self.app_id or params.get("sign_type") != "RSA2":
            return self._answer({"code": "40002", "msg": "Invalid Arguments",
                                 "sub_code": "isv.invalid-app-id"})
        if self.fail_next > 0:
            self.fail_next -= 1
            return self._answer({"code": "20000", "msg": "Service Currently Unavailable",
                                 "sub_code": "isp.unknow-error", "sub_msg": "系统繁忙"})
        biz = json.loads(params["biz_content"])
        trade = biz.get("out_trade_no")
        amount = Decimal(biz["refund_amount"])
        if trade not in self.trades:
            return self._answer({"code": "40004", "msg": "Business Failed",
                                 "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"})
        request_no = biz.get("out_request_no") or trade
        base = {"trade_no": f"2026{abs(hash(trade)) % 10**20:020d}", "out_trade_no": trade,
                "buyer_logon_id": "159****5620"}
        if request_no in self.requests_done:  # the same request again: refunded once
            return self._answer({"code": "10000", "msg": "Success", **base,
                                 "fund_change": "N", "refund_fee": str(self.refunded[trade])})
        if self.refunded.get(trade, Decimal(0)) + amount > self.trades[trade]:
            return self._answer({"code": "40004", "msg": "Business Failed",
                                 "sub_code": "ACQ.REASON_TRADE_REFUND_FEE_ERR",
                                 "sub_msg": "退款金额无效", **base})
        self.requests_done[request_no] = amount
        self.refunded[trade] = self.refunded.get(trade, Decimal(0)) + amount
        return self._answer({"code": "10000", "msg": "Success", **base, "fund_change": "Y",
                             "refund_fee": str(self.refunded[trade]),
                             "gmt_refund_pay": "2026-12-02 10:00:00"})

    def _answer(self, response: dict[str, object]) -> Answer:
        inner = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
        sign = base64.b64encode(self.alipay_key.sign(inner.encode(), padding.PKCS1v15(),
                                                     hashes.SHA256())).decode()
        body = f'{{"alipay_trade_refund_response":{inner},"sign":"{sign}"}}'
        return 200, {"content-type": "text/html;charset=utf-8"}, body.encode()
