"""After-sales reaching people through the outbox and the worker, against a real SMTP server:
the customer hears each step of their return, the refund and the reply to their complaint;
the manager hears of a complaint that missed its deadline (the worker's timed job)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import Clock
from helpers import order_body, seed_catalogue
from smtp_peer import SmtpPeer
from worker_support import (  # noqa: F401  (db_url and pg_template are fixtures)
    db_url,
    email_address,
    make_worker,
    pg_template,
    uows_of,
)

API = "/api/v1"
TO_DELIVERED = [("pay", {"payment_reference": "ALI-9"}), ("submit-review", None),
                ("approve", None), ("allocate", None), ("pick", None), ("pack", None),
                ("ship", {"carrier": "SF", "tracking_number": "SF9"}), ("deliver", None)]


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    with SmtpPeer() as peer:
        yield peer


async def _post(client: httpx.AsyncClient, path: str, body: Any = None) -> dict[str, Any]:
    r = await client.post(f"{API}{path}", json=body)
    assert r.status_code in (200, 201), (path, r.text)
    result: dict[str, Any] = r.json()
    return result


async def _delivered(client: httpx.AsyncClient, email: str) -> str:
    cat = await seed_catalogue(client, {"A": 10})
    body = order_body([(cat["skus"]["A"], 2)])
    body["customer"] = {"name": "李娜", "phone": "13900139000", "email": email}
    number: str = (await _post(client, "/orders", body))["number"]
    for path, step in TO_DELIVERED:
        await _post(client, f"/orders/{number}/{path}", step)
    return number


async def test_the_customer_hears_each_step_the_refund_and_the_reply(app_client, smtp,
                                                                     clock: Clock) -> None:
    from dingdan.adapters.notify.email import EmailSender

    email = email_address()
    number = await _delivered(app_client, email)
    case = (await _post(app_client, "/aftersales", {
        "order_number": number, "type": "refund_only", "reason": "missing_item",
        "lines": [{"line_no": 1, "quantity": 1}]}))["number"]
    await _post(app_client, f"/aftersales/{case}/approve")
    await _post(app_client, f"/aftersales/{case}/refund",
                {"method": "manual", "reference": "ICBC-5"})
    complaint = (await _post(app_client, "/complaints", {
        "order_number": number, "category": "missing", "channel": "email",
        "summary": "少一个"}))["number"]
    await _post(app_client, f"/complaints/{complaint}/replies",
                {"body": "抱歉，已退款 10 元并补发。"})
    await _post(app_client, f"/complaints/{complaint}/replies",
                {"body": "内部：仓库漏拣", "internal": True})

    sender = EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                         from_addr="Dingdan <noreply@shop.example>", timeout=5)
    worker = make_worker(uows_of(app_client), {"email": sender})
    for _ in range(3):
        await worker.run_once()
    subjects = [m.message["Subject"] for m in smtp.to(email)]
    assert f"Your request {case}: Requested" in subjects
    assert f"Your request {case}: Approved" in subjects
    assert f"Refund for order {number} made" in subjects
    [reply] = [m for m in smtp.to(email) if m.message["Subject"].startswith("Reply to")]
    assert "抱歉，已退款 10 元并补发。" in reply.part("plain")
    assert all("仓库漏拣" not in m.part("plain") for m in smtp.to(email))

    # a day on, the second complaint's first response is overdue: the worker's job escalates
    other = (await _post(app_client, "/complaints", {
        "order_number": number, "category": "quality", "channel": "phone",
        "summary": "杯盖漏水"}))["number"]
    clock.advance(days=1)
    assert "complaint_sla" in await worker.run_due_jobs()
    for _ in range(2):
        await worker.run_once()
    await sender.close()
    to_manager = [m.message["Subject"] for m in smtp.to("manager@shop.example")]
    assert f"Complaint {other} overdue (order {number})" in to_manager
    shown = (await app_client.get(f"{API}/complaints/{other}")).json()
    assert shown["escalated_at"] and shown["repeat"] is True  # the same customer again
