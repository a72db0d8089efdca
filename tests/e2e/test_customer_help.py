"""The customer's return request in a real browser on a phone-width screen: the order's
number and phone, the lines still returnable, the request sent, its status shown — and the
shop sees the case in its queue."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from e2e.conftest import Server, shot

pytestmark = pytest.mark.e2e


async def test_a_customer_asks_for_a_return_on_their_phone(browser, server: Server) -> None:
    number = await server.place(phone="13700137000")
    await server.act(number, "pay", "submit-review", "approve", "allocate", "pick", "pack")
    async with server.api() as api:
        for step, body in (("ship", {"carrier": "SF", "tracking_number": "SF1"}),
                           ("deliver", None)):
            r = await api.post(f"/api/v1/orders/{number}/{step}", json=body)
            assert r.status_code == 200, r.text
    context = await browser.new_context(viewport={"width": 375, "height": 740},
                                        locale="zh-CN", base_url=server.url,
                                        extra_http_headers={"Accept-Language": "zh-CN"})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto(f"/help?order={number}")
    lookup = page.get_by_test_id("help-lookup")
    await lookup.locator("input[name=contact]").fill("13700137000")
    await lookup.get_by_role("button").click()
    form = page.get_by_test_id("help-request")
    await expect(form).to_be_visible()
    await form.locator("select[name=type]").select_option("return_refund")
    await form.locator("select[name=reason]").select_option("wrong_size")
    await form.locator("input[name='qty-1']").fill("1")
    await form.locator("textarea[name=description]").fill("尺码偏小")
    await form.get_by_role("button").click()
    await expect(page.get_by_test_id("help-case-status")).to_have_text("待处理")
    scroll, client = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client
    await shot(page, "help-return-375px")
    case = (await page.get_by_test_id("help-case").locator(".mono").inner_text()).strip()
    async with server.api() as api:
        shown = (await api.get(f"/api/v1/aftersales/{case}")).json()
    assert shown["order_number"] == number and shown["opened_by"] == "customer"
    assert shown["lines"][0]["quantity"] == 1

    # the same order again with a wrong phone: refused, nothing shown
    await page.goto(f"/help?order={number}")
    lookup = page.get_by_test_id("help-lookup")
    await lookup.locator("input[name=contact]").fill("13900000000")
    await lookup.get_by_role("button").click()
    await expect(page.get_by_test_id("help-error")).to_be_visible()
    await expect(page.get_by_test_id("help-request")).to_have_count(0)
    await context.close()
