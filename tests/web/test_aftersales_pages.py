"""The after-sales and complaint pages: the queues, a case worked from its page to the
refund by the people whose roles allow each step, and a complaint's countdown, escalation
and reply."""

from __future__ import annotations

from typing import Any

from dingdan.services import complaints
from web.conftest import place, walk

HX = {"HX-Request": "true"}
TO_DELIVERED = ("pay", "submit-review", "approve", "allocate", "pick", "pack", "ship",
                "deliver")


async def _delivered(admin: Any, sku: str) -> str:
    number = await place(admin, sku, 2)
    await walk(admin, number, *TO_DELIVERED)
    return number


def _row(page: str, number: str) -> str:
    row = page[page.index(f'data-number="{number}"'):]
    return row[:row.index("</tr>")]


async def test_a_case_is_worked_from_its_page_to_the_refund(office, admin, catalogue) -> None:
    number = await _delivered(admin, catalogue["skus"]["A"])
    r = await admin.post("/api/v1/aftersales", json={
        "order_number": number, "type": "return_refund", "reason": "wrong_size",
        "lines": [{"line_no": 1, "quantity": 1}], "description": "尺码偏小"})
    case = r.json()["number"]
    service = await office.client("customer_service", lang="zh-CN")
    queue = (await service.get("/aftersales")).text
    assert "退货退款" in _row(queue, case) and "待处理" in _row(queue, case)

    page = (await service.get(f"/aftersales/{case}")).text
    assert 'data-testid="action-approve"' in page and 'data-testid="action-receive"' not in page
    r = await service.post(f"/aftersales/{case}/act/approve", headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/aftersales/{case}"
    r = await service.post(f"/aftersales/{case}/act/send_back", headers=HX, data={})
    assert r.status_code == 422 and "此项必填" in r.text  # the waybill is required
    await service.post(f"/aftersales/{case}/act/send_back", headers=HX,
                       data={"return_waybill": "SF1234500001"})

    warehouse = await office.client("warehouse")
    page = (await warehouse.get(f"/aftersales/{case}")).text
    assert 'data-testid="action-receive"' in page and "SF1234500001" in page
    await warehouse.post(f"/aftersales/{case}/act/receive", headers=HX)
    r = await warehouse.post(f"/aftersales/{case}/act/inspect", headers=HX,
                             data={"condition-1": "good"})
    assert r.status_code == 200, r.text
    page = (await warehouse.get(f"/aftersales/{case}")).text
    assert "Good (restock)" in page and 'data-testid="action-refund"' not in page

    finance = await office.client("finance")
    page = (await finance.get(f"/aftersales/{case}")).text
    assert 'data-testid="action-refund"' in page
    r = await finance.post(f"/aftersales/{case}/act/refund", headers=HX,
                           data={"method": "manual", "reference": "ICBC-9"})
    assert r.status_code == 200, r.text
    page = (await finance.get(f"/aftersales/{case}")).text
    assert 'data-testid="case-status">Refunded' in page
    assert "Succeeded" in page
    order = (await admin.get(f"/api/v1/orders/{number}")).json()
    assert order["payment_status"] == "partially_refunded"


async def test_a_complaint_counts_down_is_escalated_and_answered_from_its_page(
        office, admin, catalogue, clock) -> None:
    number = await _delivered(admin, catalogue["skus"]["A"])
    r = await admin.post("/api/v1/complaints", json={
        "order_number": number, "category": "missing", "channel": "phone",
        "summary": "少了一个杯子"})
    c = r.json()["number"]
    service = await office.client("customer_service")
    queue = (await service.get("/complaints")).text
    assert "min" in _row(queue, c) and "Overdue" not in _row(queue, c)
    assert 'data-testid="causes"' in queue and "Missing item" in queue

    clock.advance(days=2)
    report = await complaints.scan_breaches(office.app.state.uow)
    assert (c, "first_response") in report.breached
    escalated = (await service.get("/complaints", params={"status": "escalated"})).text
    assert "Overdue" in _row(escalated, c) and "Escalated" in _row(escalated, c)

    r = await service.post(f"/complaints/{c}/reply", headers=HX,
                           data={"body": "已为您补发，单号 SF999"})
    assert r.headers["HX-Redirect"] == f"/complaints/{c}"
    page = (await service.get(f"/complaints/{c}")).text
    assert "已为您补发" in page and 'data-testid="complaint-status">In progress' in page
    assert 'data-testid="action-resolve"' in page
    viewer = await office.client("viewer")
    page = (await viewer.get(f"/complaints/{c}")).text
    assert 'data-testid="reply"' not in page and 'data-testid="action-resolve"' not in page
    r = await viewer.post(f"/complaints/{c}/reply", headers=HX, data={"body": "hi"})
    assert r.status_code == 403


async def test_the_customer_help_form_opens_a_return_for_the_order_s_contact(
        office, admin, catalogue) -> None:
    import httpx

    number = await _delivered(admin, catalogue["skus"]["A"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=office.app),
                                 base_url="http://dingdan.test",
                                 headers={"Accept-Language": "en"}) as customer:
        page = (await customer.get("/help", params={"order": number})).text
        assert 'data-testid="help-lookup"' in page and number in page
        wrong = await customer.post("/help", data={"order_number": number,
                                                   "contact": "13900000000"})
        assert 'data-testid="help-error"' in wrong.text and "help-request" not in wrong.text
        lines = await customer.post("/help", data={"order_number": number,
                                                   "contact": "13800138000"})
        assert 'name="qty-1"' in lines.text and 'max="2"' in lines.text
        made = await customer.post("/help/request", data={
            "order_number": number, "contact": "13800138000", "type": "return_refund",
            "reason": "wrong_size", "qty-1": "3"})
        assert "help-error" in made.text  # more than was delivered
        made = await customer.post("/help/request", data={
            "order_number": number, "contact": "13800138000", "type": "return_refund",
            "reason": "wrong_size", "qty-1": "1", "description": "尺码偏小"})
        assert 'data-testid="help-case-status">Requested' in made.text
    queue = (await admin.get("/api/v1/aftersales", params={"order_number": number})).json()
    assert [c["opened_by"] for c in queue["items"]] == ["customer"]
