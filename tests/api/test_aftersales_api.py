"""After-sales and complaints through the HTTP API: a return followed to its refund (the
order's payment status and the stock agree), bad requests refused with nothing changed, an
Alipay refund that fails and is retried, a cancelled paid order refunded, and a complaint
answered, resolved and counted among the causes."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from api_support import CANCEL, order_in, refused, stock_row
from sqlalchemy import select

from alipay_peer import AlipayGateway, new_key, private_pem, public_pem
from dingdan.adapters.netguard import guarded_client
from dingdan.adapters.payments.alipay import AlipayRefunds
from dingdan.store.tables import outbox
from peers import LocalHttpServer, loopback_guard

API = "/api/v1"


async def _delivered(client: Any, qty: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    return await order_in(client, "delivered", qty=qty)


async def _open(client: Any, number: str, qty: int = 1, type: str = "return_refund",
                reason: str = "defective") -> dict[str, Any]:
    r = await client.post(f"{API}/aftersales", json={
        "order_number": number, "type": type, "reason": reason,
        "lines": [{"line_no": 1, "quantity": qty}]})
    assert r.status_code == 201, r.text
    return r.json()


async def _post(client: Any, path: str, body: dict[str, Any] | None = None,
                status: int = 200) -> dict[str, Any]:
    r = await client.post(f"{API}{path}", json=body)
    assert r.status_code == status, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_a_return_is_approved_received_inspected_and_refunded(app_client: Any) -> None:
    order, cat = await _delivered(app_client)
    number, sku = order["number"], cat["skus"]["A"]
    case = await _open(app_client, number, qty=1)
    assert case["status"] == "requested" and case["refund_amount"] == 1000
    assert case["allowed_actions"] == ["approve", "decline", "cancel"]
    n = case["number"]
    await _post(app_client, f"/aftersales/{n}/approve")
    await _post(app_client, f"/aftersales/{n}/send-back", {"return_waybill": "SF1000000001"})
    await _post(app_client, f"/aftersales/{n}/receive")
    before = await stock_row(app_client, sku)
    inspected = await _post(app_client, f"/aftersales/{n}/inspect",
                            {"conditions": [{"line_no": 1, "condition": "good"}]})
    assert inspected["status"] == "inspected" and inspected["lines"][0]["condition"] == "good"
    after = await stock_row(app_client, sku)
    assert after["on_hand"] == before["on_hand"] + 1 and after["reserved"] == before["reserved"]
    r = await app_client.get(f"{API}/stock/movements", params={"sku": sku})
    assert r.json()[0]["kind"] == "return" and r.json()[0]["reference"] == n

    refund = await _post(app_client, f"/aftersales/{n}/refund",
                         {"method": "manual", "reference": "ICBC-0001"}, status=201)
    assert refund["status"] == "succeeded" and refund["amount"] == 1000
    money = (await app_client.get(f"{API}/orders/{number}/refunds")).json()
    assert (money["paid"], money["refunded"], money["refundable"]) == (2000, 1000, 1000)
    assert money["payment_status"] == "partially_refunded"
    assert (await app_client.get(f"{API}/orders/{number}")).json()["payment_status"] == \
        "partially_refunded"
    shown = (await app_client.get(f"{API}/aftersales/{n}")).json()
    assert shown["status"] == "refunded" and shown["refunds"][0]["request_no"]
    assert [e["type"] for e in shown["timeline"]][-1] == "aftersales.refunded"
    closed = await _post(app_client, f"/aftersales/{n}/close")
    assert closed["status"] == "closed" and closed["allowed_actions"] == []
    queue = (await app_client.get(f"{API}/aftersales", params={"order_number": number})).json()
    assert [c["number"] for c in queue["items"]] == [n]


async def test_bad_after_sales_requests_are_refused_and_change_nothing(app_client: Any) -> None:
    order, _ = await _delivered(app_client)
    number = order["number"]
    body = {"order_number": number, "type": "return_refund", "reason": "defective",
            "lines": [{"line_no": 1, "quantity": 3}]}
    problem = await refused(app_client, "POST", f"{API}/aftersales", 422, "VALIDATION_FAILED",
                            json=body)
    assert problem["errors"][0]["code"] == "exceeds_delivered"
    body["lines"] = [{"line_no": 9, "quantity": 1}]
    await refused(app_client, "POST", f"{API}/aftersales", 422, "VALIDATION_FAILED", json=body)
    case = await _open(app_client, number, qty=2)
    # the whole line is taken by the first case: a second one asks for too much
    body["lines"] = [{"line_no": 1, "quantity": 1}]
    await refused(app_client, "POST", f"{API}/aftersales", 422, "VALIDATION_FAILED", json=body)
    await refused(app_client, "POST", f"{API}/aftersales/{case['number']}/receive", 409,
                  "ILLEGAL_TRANSITION")
    await refused(app_client, "POST", f"{API}/aftersales/{case['number']}/refund", 409,
                  "ILLEGAL_TRANSITION", json={"method": "manual", "reference": "X"})
    await refused(app_client, "POST", f"{API}/aftersales/{case['number']}/decline", 422,
                  "VALIDATION_FAILED", json={})
    await refused(app_client, "POST", f"{API}/orders/{number}/refunds", 422,
                  "VALIDATION_FAILED", json={"method": "manual", "reference": "X",
                                             "amount": 2001})
    await refused(app_client, "POST", f"{API}/orders/{number}/refunds", 422,
                  "VALIDATION_FAILED", json={"method": "alipay", "amount": 100})
    await refused(app_client, "POST", f"{API}/refunds/999999999/retry", 404, "NOT_FOUND")
    await refused(app_client, "POST", f"{API}/aftersales/AS000/approve", 404, "NOT_FOUND")
    undelivered, _ = await order_in(app_client, "paid")
    await refused(app_client, "POST", f"{API}/aftersales", 422, "VALIDATION_FAILED", json={
        **body, "order_number": undelivered["number"]})


async def test_a_cancelled_paid_order_shows_refund_due_then_refunded(app_client: Any) -> None:
    order, _ = await order_in(app_client, "paid")
    number = order["number"]
    r = await app_client.post(f"{API}/orders/{number}/{CANCEL[0]}", json=CANCEL[1])
    assert r.json()["payment_status"] == "refund_due"
    refund = await _post(app_client, f"/orders/{number}/refunds",
                         {"method": "manual", "reference": "CASH-7"}, status=201)
    assert refund["amount"] == 2000
    money = (await app_client.get(f"{API}/orders/{number}/refunds")).json()
    assert money["payment_status"] == "refunded" and money["payment_status_label"] == "Refunded"


@pytest.fixture
def alipay_peer() -> Iterator[tuple[AlipayGateway, LocalHttpServer, Any]]:
    merchant = new_key()
    gateway = AlipayGateway("2021000000000002", merchant.public_key())
    with LocalHttpServer(gateway.handle) as server:
        yield gateway, server, merchant


async def test_an_alipay_refund_that_fails_is_retried_with_the_same_request_number(
        app_client: Any, alipay_peer: Any) -> None:
    peer, server, merchant = alipay_peer
    async with guarded_client(loopback_guard()) as http:
        app_client.app.state.refund_gateways = {"alipay": AlipayRefunds(
            app_id=peer.app_id, private_key_pem=private_pem(merchant),
            alipay_public_key_pem=public_pem(peer.alipay_key), client=http,
            gateway=server.url("/gateway.do"))}
        order, _ = await _delivered(app_client)
        number = order["number"]
        peer.trades[number] = Decimal("20.00")
        peer.fail_next = 1
        failed = await _post(app_client, f"/orders/{number}/refunds",
                             {"method": "alipay", "amount": 500, "reason": "goodwill"},
                             status=201)
        assert failed["status"] == "failed" and failed["last_error"].startswith("20000")
        queue = (await app_client.get(f"{API}/refunds", params={"status": "failed"})).json()
        assert failed["id"] in [r["id"] for r in queue["items"]]
        done = await _post(app_client, f"/refunds/{failed['id']}/retry")
        assert done["status"] == "succeeded" and done["gateway_reference"]
        assert peer.refunded[number] == Decimal("5.00")
        assert len(server.requests) == 2
        await refused(app_client, "POST", f"{API}/refunds/{failed['id']}/retry", 409,
                      "ILLEGAL_TRANSITION")


async def test_a_complaint_is_answered_resolved_and_counted_among_the_causes(
        app_client: Any) -> None:
    order, _ = await _delivered(app_client)
    number = order["number"]
    r = await app_client.post(f"{API}/complaints", json={
        "order_number": number, "category": "damaged", "channel": "phone",
        "summary": "杯子碎了", "line_nos": [1], "message": "收到时外箱破损"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "open" and c["owner_role"] == "customer_service"
    assert c["first_response_due"] < c["resolution_due"]
    n = c["number"]
    await _post(app_client, f"/complaints/{n}/replies", {"body": "内部：查一下批次",
                                                         "internal": True}, status=201)
    assert (await app_client.get(f"{API}/complaints/{n}")).json()["status"] == "open"
    answered = await _post(app_client, f"/complaints/{n}/replies",
                           {"body": "非常抱歉，我们马上补发。"}, status=201)
    assert answered["status"] == "in_progress" and answered["first_response_at"]
    await refused(app_client, "POST", f"{API}/complaints/{n}/resolve", 422, "VALIDATION_FAILED",
                  json={})
    await refused(app_client, "POST", f"{API}/complaints/{n}/close", 409, "ILLEGAL_TRANSITION")
    resolved = await _post(app_client, f"/complaints/{n}/resolve", {"resolution": "已补发"})
    assert resolved["status"] == "resolved" and resolved["allowed_actions"] == ["reopen",
                                                                                "close"]
    engine = app_client.app.state.uow.engine
    async with engine.connect() as conn:
        types = [row[0] for row in await conn.execute(
            select(outbox.c.type).where(outbox.c.order_number == number))]
    assert {"complaint.opened", "complaint.replied", "complaint.responded",
            "complaint.resolved"} <= set(types)
    assert types.count("complaint.replied") == 1  # the internal note is not sent
    causes = (await app_client.get(f"{API}/complaints/causes")).json()
    assert causes[0]["complaints"] >= 1 and {"category", "category_label"} <= set(causes[0])
    queue = (await app_client.get(f"{API}/complaints",
                                  params={"order_number": number})).json()
    assert [x["number"] for x in queue["items"]] == [n]


async def test_the_queue_pages_newest_first_with_a_cursor(app_client: Any, clock: Any) -> None:
    order, _ = await _delivered(app_client, qty=3)
    made = []
    for _ in range(3):
        made.append((await _open(app_client, order["number"]))["number"])
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        params = {"order_number": order["number"], "limit": 1, **({"cursor": cursor}
                                                                  if cursor else {})}
        page = (await app_client.get(f"{API}/aftersales", params=params)).json()
        seen += [c["number"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == made[::-1]
