"""The payment gateways the app refunds through, made from its settings on first use.

Alipay is on when ``DINGDAN_ALIPAY_APP_ID`` and both keys are set; its HTTP client goes
through the outbound guard like every other outbound request, and is closed with the app.
Tests put their own gateways in ``app.state.refund_gateways``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request

from dingdan.adapters.netguard import guarded_client
from dingdan.adapters.payments.alipay import AlipayRefunds
from dingdan.adapters.payments.port import RefundGateway
from dingdan.web.deps import app_settings, outbound_guard


def refund_gateways(request: Request) -> Mapping[str, RefundGateway]:
    gateways: Mapping[str, RefundGateway] | None = getattr(request.app.state,
                                                           "refund_gateways", None)
    if gateways is None:
        s = app_settings(request)
        made: dict[str, RefundGateway] = {}
        if s.alipay_app_id and s.alipay_private_key and s.alipay_public_key:
            client = guarded_client(outbound_guard(request), timeout=s.alipay_timeout_seconds)
            request.app.state.payment_client = client
            made["alipay"] = AlipayRefunds(
                app_id=s.alipay_app_id, private_key_pem=s.alipay_private_key.get_secret_value(),
                alipay_public_key_pem=s.alipay_public_key, client=client,
                gateway=s.alipay_gateway_url)
        gateways = request.app.state.refund_gateways = made
    return gateways


async def close(app: FastAPI) -> None:
    client: httpx.AsyncClient | None = getattr(app.state, "payment_client", None)
    if client is not None:
        await client.aclose()


async def _gateways(request: Request) -> Mapping[str, RefundGateway]:
    return refund_gateways(request)


GatewaysDep = Annotated[Mapping[str, RefundGateway], Depends(_gateways)]
