"""The customer's own after-sales and complaints (no token; the order's number and contact
as proof): a return asked for, followed and sent back; a complaint with its conversation,
internal notes kept out; someone else's contact, or guessing, refused with nothing changed."""

from __future__ import annotations

from typing import Any

import httpx
from api_support import order_in, refused

API = "/api/v1"
PHONE = "13800138000"  # the contact helpers.order_body puts on every order


def _customer(app_client: Any) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app_client.app),
                               base_url="http://dingdan.test",
                               headers={"User-Agent": "Mobile Safari"})
    client.app = app_client.app  # type: ignore[attr-defined]  # for the database snapshot
    return client


async def test_a_customer_asks_for_a_return_follows_it_and_sends_it_back(app_client) -> None:
    order, _ = await order_in(app_client, "delivered")
    number = order["number"]
    async with _customer(app_client) as me:
        r = await me.post(f"{API}/portal/aftersales", json={
            "order_number": number, "contact": PHONE, "type": "return_refund",
            "reason": "wrong_size", "lines": [{"line_no": 1, "quantity": 1}]})
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["status_label"] == "Requested" and case["allowed_actions"] == ["cancel"]
        assert "actor" not in str(case["steps"])  # who at the shop did what is not shown
        n = case["number"]
        await app_client.post(f"{API}/aftersales/{n}/approve")
        r = await me.post(f"{API}/portal/aftersales/lookup",
                          json={"order_number": number, "contact": "zhang.wei@example.com"})
        [mine] = r.json()
        assert mine["status"] == "approved" and mine["allowed_actions"] == ["cancel",
                                                                            "send_back"]
        r = await me.post(f"{API}/portal/aftersales/{n}/send-back", json={
            "order_number": number, "contact": PHONE, "return_waybill": "SF5550001"})
        assert r.status_code == 200 and r.json()["status"] == "awaiting_return"
        assert [s["status"] for s in r.json()["steps"]] == ["requested", "approved",
                                                            "awaiting_return"]
        # someone who does not know the contact learns nothing and changes nothing
        await refused(me, "POST", f"{API}/portal/aftersales/lookup", 404, "NOT_FOUND",
                      json={"order_number": number, "contact": "13900000000"})
        await refused(me, "POST", f"{API}/portal/aftersales/{n}/cancel", 404, "NOT_FOUND",
                      json={"order_number": number, "contact": "x@example.com",
                            "reason": "r"})
        # a customer may not take the shop's steps
        await refused(me, "POST", f"{API}/portal/aftersales/{n}/send-back", 409,
                      "ILLEGAL_TRANSITION", json={"order_number": number, "contact": PHONE,
                                                  "return_waybill": "SF5550002"})
    audit = (await app_client.get(f"{API}/audit", params={"object_id": n})).json()["items"]
    sent = next(a for a in audit if a["action"] == "aftersales.send_back")
    assert sent["actor_kind"] == "customer" and sent["client"] == "Mobile Safari"


async def test_a_customer_complains_and_sees_replies_but_not_internal_notes(app_client) -> None:
    order, _ = await order_in(app_client, "delivered")
    number = order["number"]
    proof = {"order_number": number, "contact": PHONE}
    async with _customer(app_client) as me:
        r = await me.post(f"{API}/portal/complaints", json={
            **proof, "category": "damaged", "summary": "杯子碎了", "message": "外箱破损"})
        assert r.status_code == 201, r.text
        c = r.json()["number"]
        await app_client.post(f"{API}/complaints/{c}/replies", json={"body": "已补发"})
        await app_client.post(f"{API}/complaints/{c}/replies",
                              json={"body": "内部：包装供应商问题", "internal": True})
        r = await me.post(f"{API}/portal/complaints/{c}/messages",
                          json={**proof, "body": "谢谢"})
        assert r.status_code == 201, r.text
        seen = r.json()["messages"]
        assert [m["body"] for m in seen] == ["外箱破损", "已补发", "谢谢"]
        staff = (await app_client.get(f"{API}/complaints/{c}")).json()
        assert staff["channel"] == "portal" and len(staff["messages"]) == 4


async def test_guessing_contacts_is_throttled(app_client) -> None:
    order, _ = await order_in(app_client, "delivered")
    async with _customer(app_client) as me:
        codes = []
        for i in range(12):
            r = await me.post(f"{API}/portal/aftersales/lookup", json={
                "order_number": order["number"], "contact": f"1390000{i:04d}"})
            codes.append(r.status_code)
    assert codes[:10] == [404] * 10 and codes[-1] == 429
    assert int(r.headers["Retry-After"]) > 0
