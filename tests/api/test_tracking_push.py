"""Carrier pushes move the order by themselves: Kuaidi100's subscription push and SF
Express's route push, sent as the providers send them (``carrier_peers``), verified,
recorded once, normalised, and driving the order through its transition table — out of
order and twice; unknown statuses kept and alerted; bad signatures refused with nothing
written; a parcel silent for 48 hours alerted, with a controlled clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from api_support import PATH_TO, db_state, order_in, refused
from pydantic import SecretStr

from carrier_peers import (
    KUAIDI100_CUSTOMER,
    KUAIDI100_KEY,
    KUAIDI100_SALT,
    SF_CHECK_WORD,
    Kuaidi100Service,
    kuaidi100_push,
    route,
    sf_push,
    trace,
)
from conftest import Clock, ref
from dingdan.adapters.carriers.kuaidi100 import Kuaidi100Client
from dingdan.adapters.netguard import guarded_client
from dingdan.services.tracking import scan_silent_parcels, subscribe_pending
from dingdan.settings import Settings
from peers import LocalHttpServer, loopback_guard

K100 = "/api/v1/carrier-callbacks/kuaidi100"
SF = "/api/v1/carrier-callbacks/sf-express"


@pytest.fixture
def kuaidi100_service() -> Kuaidi100Service:
    return Kuaidi100Service()


@pytest.fixture
def kuaidi100_peer(kuaidi100_service: Kuaidi100Service):  # type: ignore[no-untyped-def]
    with LocalHttpServer(kuaidi100_service) as peer:
        yield peer


@pytest.fixture
def settings(settings: Settings, kuaidi100_peer: LocalHttpServer) -> Settings:
    return settings.model_copy(update={
        "kuaidi100_salt": SecretStr(KUAIDI100_SALT), "kuaidi100_key": SecretStr(KUAIDI100_KEY),
        "kuaidi100_customer": KUAIDI100_CUSTOMER, "kuaidi100_endpoint": kuaidi100_peer.url(),
        "sf_check_word": SecretStr(SF_CHECK_WORD)})


async def shipped(client: httpx.AsyncClient, carrier: str = "SF") -> tuple[str, str]:
    """A fresh order shipped with a tracking number of its own: (order number, number)."""
    order, _ = await order_in(client, "packed")
    number = f"SF{ref('')[2:]}"
    r = await client.post(f"/api/v1/orders/{order['number']}/ship",
                          json={"carrier": carrier, "tracking_number": number})
    assert r.status_code == 200, r.text
    return order["number"], number


async def status_of(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orders/{number}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def history(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orders/{number}/tracking")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def push(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await client.post(K100, data=form, headers={"Authorization": ""})


async def test_kuaidi100_pushes_walk_the_order_to_the_door(app_client: httpx.AsyncClient,
                                                           ) -> None:
    order, tn = await shipped(app_client)
    r = await push(app_client, kuaidi100_push(tn, [
        trace("103", "顺丰速运 已收取快件", "2026-11-11 18:00:00")]))
    assert r.status_code == 200, r.text
    assert r.json() == {"result": True, "returnCode": "200", "message": "成功"}
    assert (await status_of(app_client, order))["status"] == "in_transit"

    # Kuaidi100 sends the whole history each time, newest first.
    r = await push(app_client, kuaidi100_push(tn, [
        trace("5", "快件交给张三，正在派送途中", "2026-11-12 08:10:00"),
        trace("1001", "快件到达 【上海浦东集散中心】", "2026-11-12 03:00:00"),
        trace("103", "顺丰速运 已收取快件", "2026-11-11 18:00:00")]))
    assert r.status_code == 200, r.text
    assert (await status_of(app_client, order))["status"] == "out_for_delivery"

    r = await push(app_client, kuaidi100_push(tn, [
        trace("301", "已签收，签收人：本人", "2026-11-12 10:30:00"),
        trace("5", "快件交给张三，正在派送途中", "2026-11-12 08:10:00")], status="shutdown"))
    assert r.status_code == 200, r.text
    assert (await status_of(app_client, order))["status"] == "delivered"

    h = await history(app_client, order)
    assert [e["status"] for e in h["events"]] == [
        "delivered", "out_for_delivery", "arrived_at_city", "picked_up"]
    assert [e["order_action"] for e in h["events"]] == [
        "deliver", "out_for_delivery", None, "in_transit"]
    assert h["events"][0]["text"] == "已签收，签收人：本人"
    assert h["events"][0]["occurred_at"].startswith("2026-11-12T02:30:00")  # 10:30 CST
    # Each move is on the timeline, by the carrier, with its scan; and tells the customer.
    timeline = (await app_client.get(f"/api/v1/orders/{order}/events")).json()
    moves = [e for e in timeline if e["actor"] == "system:kuaidi100"]
    assert [e["to_status"] for e in moves] == ["in_transit", "out_for_delivery", "delivered"]
    assert moves[-1]["data"]["tracking_number"] == tn
    # On the record: each push's scans, and each status change, by the carrier.
    audit = (await app_client.get("/api/v1/audit", params={
        "object_type": "order", "object_id": order, "by": "system:kuaidi100"})).json()
    actions = [a["action"] for a in audit["items"]]
    assert actions.count("tracking.scans") == 3
    assert {"order.in_transit", "order.out_for_delivery", "order.deliver"} <= set(actions)


async def test_a_push_sent_twice_records_its_scans_once(app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    form = kuaidi100_push(tn, [trace("103", "已揽收", "2026-11-11 18:00:00")])
    assert (await push(app_client, form)).status_code == 200
    before = await db_state(app_client)
    r = await push(app_client, form)
    assert r.status_code == 200 and r.json()["returnCode"] == "200"
    assert await db_state(app_client) == before  # no event, no status change, no message
    assert len((await history(app_client, order))["events"]) == 1


async def test_a_late_push_does_not_move_the_order_back(app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    assert (await push(app_client, kuaidi100_push(tn, [
        trace("301", "已签收", "2026-11-12 10:30:00")]))).status_code == 200
    version = (await status_of(app_client, order))["version"]
    # An older in-transit scan overtaken by the delivery arrives afterwards.
    assert (await push(app_client, kuaidi100_push(tn, [
        trace("1002", "快件在途", "2026-11-11 20:00:00")]))).status_code == 200
    o = await status_of(app_client, order)
    assert (o["status"], o["version"]) == ("delivered", version)
    events = (await history(app_client, order))["events"]
    assert [(e["status"], e["order_action"]) for e in events] == [
        ("delivered", "deliver"), ("in_transit", None)]


async def test_scans_in_one_push_apply_in_time_order(app_client: httpx.AsyncClient) -> None:
    """A first push carrying pick-up and delivery at once: shipped → delivered directly, as
    the table allows, never back to in transit."""
    order, tn = await shipped(app_client)
    assert (await push(app_client, kuaidi100_push(tn, [
        trace("103", "已揽收", "2026-11-11 18:00:00"),  # listed out of order on purpose
        trace("301", "已签收", "2026-11-12 10:30:00")]))).status_code == 200
    assert (await status_of(app_client, order))["status"] == "delivered"
    timeline = (await app_client.get(f"/api/v1/orders/{order}/events")).json()
    assert [e["to_status"] for e in timeline if e["actor"] == "system:kuaidi100"] == [
        "in_transit", "delivered"]


async def test_an_unknown_status_is_kept_as_an_exception_and_alerted(
        app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    r = await push(app_client, kuaidi100_push(tn, [
        trace("9999", "快件被外星人带走", "2026-11-11 18:00:00")]))
    assert r.status_code == 200, r.text
    o = await status_of(app_client, order)
    assert o["status"] == "shipped"
    [event] = (await history(app_client, order))["events"]
    assert (event["code"], event["status"], event["known"]) == ("9999", "exception", False)
    assert event["text"] == "快件被外星人带走"
    alerts = (await app_client.get("/api/v1/tracking/exceptions")).json()
    mine = [a for a in alerts if a["order_number"] == order]
    assert [(a["kind"], a["role"]) for a in mine] == [("unknown_status", "customer_service")]


async def test_a_failed_delivery_and_a_return_raise_alerts_with_an_owner(
        app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    await push(app_client, kuaidi100_push(tn, [
        trace("6", "退回中", "2026-11-13 09:00:00"),
        trace("206", "无法联系收件人", "2026-11-12 09:00:00")]))
    alerts = (await app_client.get("/api/v1/tracking/exceptions")).json()
    assert sorted(a["kind"] for a in alerts if a["order_number"] == order) == [
        "failed_delivery", "returning"]


async def test_a_push_with_a_bad_signature_is_refused_and_writes_nothing(
        app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    form = kuaidi100_push(tn, [trace("301", "已签收", "2026-11-12 10:30:00")])
    await refused(app_client, "POST", K100, 401, "UNAUTHENTICATED",
                  data={**form, "sign": form["sign"][:-1] + ("1" if form["sign"][-1] == "0"
                                                             else "0")})
    forged = kuaidi100_push(tn, [trace("301", "已签收", "2026-11-12 10:30:00")],
                            salt="someone-elses-salt")
    await refused(app_client, "POST", K100, 401, "UNAUTHENTICATED", data=forged)
    tampered = dict(form, param=form["param"].replace("已签收", "已签收 "))
    await refused(app_client, "POST", K100, 401, "UNAUTHENTICATED", data=tampered)
    assert (await status_of(app_client, order))["status"] == "shipped"


async def test_a_push_for_an_unknown_tracking_number_writes_nothing(
        app_client: httpx.AsyncClient) -> None:
    await refused(app_client, "POST", K100, 404, "NOT_FOUND", data=kuaidi100_push(
        ref("NOPE"), [trace("103", "已揽收", "2026-11-11 18:00:00")]))


async def test_a_signed_push_that_is_not_kuaidi100s_format_is_refused(
        app_client: httpx.AsyncClient) -> None:
    param = '{"status": "polling", "lastResult": {"nu": "X"}}'
    import hashlib
    sign = hashlib.md5((param + KUAIDI100_SALT).encode()).hexdigest().upper()
    await refused(app_client, "POST", K100, 422, "VALIDATION_FAILED",
                  data={"param": param, "sign": sign})


async def test_sf_route_pushes_move_the_order(app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    r = await app_client.post(SF, data=sf_push([
        route(tn, "50", "2026-11-11 18:00:00", "顺丰速运 已收取快件")]))
    assert r.status_code == 200, r.text
    assert r.json() == {"return_code": "0000", "return_msg": "成功"}
    assert (await status_of(app_client, order))["status"] == "in_transit"
    r = await app_client.post(SF, data=sf_push([
        route(tn, "44", "2026-11-12 08:00:00", "正在派送途中,派件员：李四"),
        route(tn, "80", "2026-11-12 11:00:00", "已签收,感谢使用顺丰")]))
    assert r.status_code == 200, r.text
    assert (await status_of(app_client, order))["status"] == "delivered"
    events = (await history(app_client, order))["events"]
    assert [(e["provider"], e["code"], e["status"]) for e in events] == [
        ("sf_express", "80", "delivered"), ("sf_express", "44", "out_for_delivery"),
        ("sf_express", "50", "picked_up")]


async def test_an_sf_push_with_a_bad_digest_is_refused(app_client: httpx.AsyncClient) -> None:
    order, tn = await shipped(app_client)
    form = sf_push([route(tn, "80", "2026-11-12 11:00:00", "已签收")],
                   check_word="not-our-check-word")
    await refused(app_client, "POST", SF, 401, "UNAUTHENTICATED", data=form)
    good = sf_push([route(tn, "80", "2026-11-12 11:00:00", "已签收")])
    await refused(app_client, "POST", SF, 401, "UNAUTHENTICATED",
                  data=dict(good, timestamp="1794301200001"))
    assert (await status_of(app_client, order))["status"] == "shipped"


async def test_a_parcel_silent_for_48_hours_is_alerted_once(app_client: httpx.AsyncClient,
                                                           clock: Clock) -> None:
    uows = app_client.app.state.uow  # type: ignore[attr-defined]
    order, tn = await shipped(app_client)

    def mine(rows: list[dict[str, Any]]) -> list[str]:
        return [a["kind"] for a in rows if a["order_number"] == order]

    clock.advance(hours=47, minutes=59)
    await scan_silent_parcels(uows)
    assert mine((await app_client.get("/api/v1/tracking/exceptions")).json()) == []
    clock.advance(minutes=2)
    await scan_silent_parcels(uows)
    await scan_silent_parcels(uows)  # a second scan (another worker) raises nothing new
    assert mine((await app_client.get("/api/v1/tracking/exceptions")).json()) == ["silent"]
    # The parcel speaks again: the alert closes.
    await push(app_client, kuaidi100_push(tn, [trace("1002", "快件在途", "2026-11-13 10:00:00")]))
    assert mine((await app_client.get("/api/v1/tracking/exceptions")).json()) == []


async def test_subscribing_a_parcel_at_kuaidi100(app_client: httpx.AsyncClient,
                                                 kuaidi100_service: Kuaidi100Service,
                                                 kuaidi100_peer: LocalHttpServer) -> None:
    order, tn = await shipped(app_client)
    r = await app_client.post(f"/api/v1/orders/{order}/tracking-subscriptions")
    assert r.status_code == 202, r.text
    assert r.json()["created"] is True
    r = await app_client.post(f"/api/v1/orders/{order}/tracking-subscriptions")
    assert r.status_code == 202 and r.json()["created"] is False  # asked twice: one row
    assert [s["status"] for s in (await history(app_client, order))["subscriptions"]] == [
        "pending"]
    uows = app_client.app.state.uow  # type: ignore[attr-defined]
    callback = "https://dingdan.example/api/v1/carrier-callbacks/kuaidi100"
    async with guarded_client(loopback_guard()) as http:
        client = Kuaidi100Client(http, key=KUAIDI100_KEY, customer=KUAIDI100_CUSTOMER,
                                 endpoint=kuaidi100_peer.url())
        report = await subscribe_pending(uows, client, callback, KUAIDI100_SALT)
        assert report.failed == 0 and report.subscribed >= 1
        again = await subscribe_pending(uows, client, callback, KUAIDI100_SALT)
    sent = kuaidi100_service.subscribed[tn]
    assert (sent["company"], sent["key"]) == ("shunfeng", KUAIDI100_KEY)
    assert sent["parameters"] == {"callbackurl": callback, "salt": KUAIDI100_SALT,
                                  "resultv2": "4", "phone": "13800138000"}
    assert again.failed == 0  # nothing pending is left of ours: sent once only
    assert sum(tn in r.body.decode() for r in kuaidi100_peer.requests if r.path == "/poll") == 1
    subs = (await history(app_client, order))["subscriptions"]
    assert [(s["provider"], s["tracking_number"], s["status"]) for s in subs] == [
        ("kuaidi100", tn, "active")]


async def test_a_refused_subscription_stays_pending(app_client: httpx.AsyncClient,
                                                    kuaidi100_peer: LocalHttpServer) -> None:
    order, _ = await shipped(app_client)
    await app_client.post(f"/api/v1/orders/{order}/tracking-subscriptions")
    uows = app_client.app.state.uow  # type: ignore[attr-defined]
    async with guarded_client(loopback_guard()) as http:
        client = Kuaidi100Client(http, key="not-our-key", customer=KUAIDI100_CUSTOMER,
                                 endpoint=kuaidi100_peer.url())
        report = await subscribe_pending(uows, client, "https://x/cb", KUAIDI100_SALT)
    assert report.subscribed == 0 and report.failed >= 1
    assert [s["status"] for s in (await history(app_client, order))["subscriptions"]] == [
        "pending"]


async def test_an_order_not_shipped_cannot_be_subscribed(app_client: httpx.AsyncClient) -> None:
    order, _ = await order_in(app_client, "packed")
    assert "packed" in PATH_TO
    await refused(app_client, "POST", f"/api/v1/orders/{order['number']}/tracking-subscriptions",
                  409, "ILLEGAL_TRANSITION")


async def test_parcels_in_trouble_of_other_warehouses_are_not_shown(
        app_client: httpx.AsyncClient, role_client) -> None:  # type: ignore[no-untyped-def]
    order, tn = await shipped(app_client)
    await push(app_client, kuaidi100_push(tn, [trace("206", "无法联系", "2026-11-12 09:00:00")]))
    warehouse = (await status_of(app_client, order))["warehouse"]
    here = await role_client("warehouse", warehouses=[warehouse])
    other_wh = ref("WH")
    r = await app_client.post("/api/v1/warehouses", json={"code": other_wh, "name": "别处",
                                                          "region": "北京"})
    assert r.status_code == 201, r.text
    elsewhere = await role_client("warehouse", warehouses=[other_wh])
    mine = [a["order_number"] for a in (await here.get("/api/v1/tracking/exceptions")).json()]
    theirs = [a["order_number"] for a in
              (await elsewhere.get("/api/v1/tracking/exceptions")).json()]
    assert order in mine and order not in theirs
    assert (await elsewhere.get(f"/api/v1/orders/{order}/tracking")).status_code == 404
