"""The Kuaidi100 client against a local server that implements Kuaidi100's ``poll`` and
``poll/query.do`` as documented (keys, signatures and error codes included)."""

from __future__ import annotations

import pytest

from carrier_peers import KUAIDI100_CUSTOMER, KUAIDI100_KEY, Kuaidi100Service, trace
from dingdan.adapters.carriers.kuaidi100 import Kuaidi100Client, Kuaidi100Error
from dingdan.adapters.netguard import guarded_client
from peers import LocalHttpServer, loopback_guard


async def test_subscribe_then_query_a_parcel() -> None:
    service = Kuaidi100Service()
    service.parcels["SF100"] = [trace("103", "已揽收", "2026-11-11 18:00:00")]
    with LocalHttpServer(service) as peer:
        async with guarded_client(loopback_guard()) as http:
            client = Kuaidi100Client(http, key=KUAIDI100_KEY, customer=KUAIDI100_CUSTOMER,
                                     endpoint=peer.url())
            assert await client.subscribe("shunfeng", "SF100", callback_url="https://x/cb",
                                          salt="s", phone="13800138000") is True
            assert await client.subscribe("shunfeng", "SF100", callback_url="https://x/cb",
                                          salt="s") is False  # 501: already
            update = await client.query("shunfeng", "SF100")
    assert service.subscribed["SF100"]["parameters"]["phone"] == "13800138000"
    assert [(s.code, s.text) for s in update.scans] == [("103", "已揽收")]
    assert peer.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"


async def test_a_wrong_key_is_kuaidi100s_600_and_a_bad_sign_its_400() -> None:
    with LocalHttpServer(Kuaidi100Service()) as peer:
        async with guarded_client(loopback_guard()) as http:
            client = Kuaidi100Client(http, key="wrong", customer=KUAIDI100_CUSTOMER,
                                     endpoint=peer.url())
            with pytest.raises(Kuaidi100Error) as refused:
                await client.subscribe("shunfeng", "SF1", callback_url="https://x/cb", salt="s")
            assert refused.value.code == "600"
            with pytest.raises(Kuaidi100Error) as bad_sign:
                await client.query("shunfeng", "SF1")
            assert bad_sign.value.code == "400"
