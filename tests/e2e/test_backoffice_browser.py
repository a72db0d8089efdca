"""The back office in a real browser: sign in, find, act, see it live, in two languages, on a
phone-width screen."""

from __future__ import annotations

import random
import re

import pytest
from playwright.async_api import expect

from e2e.conftest import Server, shot, sign_in

pytestmark = pytest.mark.e2e
LIVE_MS = 2000  # a change anywhere shows on an open page within two seconds


def _phone() -> str:
    return "139" + "".join(random.choices("0123456789", k=8))


async def test_customer_service_finds_an_order_by_phone_and_cancels_it(browser, server: Server):
    phone = _phone()
    number = await server.place(phone=phone)
    await server.place()  # someone else's order, which the search must not show
    page = await sign_in(browser, server, "cs@dingdan.test")
    await page.goto("/orders")
    await page.get_by_test_id("order-search").fill(phone)
    await page.get_by_test_id("order-search").press("Enter")
    rows = page.locator("#order-rows tr[data-number]")
    await expect(rows).to_have_count(1)
    await rows.first.get_by_role("link", name=number).click()
    await expect(page).to_have_url(re.compile(f"/orders/{number}$"))
    await expect(page.get_by_test_id("order-status")).to_have_text("Pending payment")
    cancel = page.get_by_test_id("action-cancel")
    await cancel.locator("input[name=reason]").fill("客户电话要求取消")
    await cancel.get_by_role("button").click()
    await expect(page.get_by_test_id("order-status")).to_have_text("Cancelled")
    entry = page.get_by_test_id("timeline").locator("li").first
    await expect(entry).to_contain_text("Cancelled")
    await expect(entry).to_contain_text("客户电话要求取消")
    await expect(entry).to_contain_text("cs")
    await shot(page, "cs-cancelled-order")
    assert await server.status(number) == "cancelled"
    await page.context.close()


async def test_a_reviewer_approves_from_the_queue(browser, server: Server):
    number = await server.place()
    await server.act(number, "pay", "submit-review")
    page = await sign_in(browser, server, "reviewer@dingdan.test")
    await page.goto("/review")
    row = page.locator(f"tr[data-number='{number}']")
    await expect(row).to_be_visible()
    await page.get_by_test_id(f"assign-{number}").click()
    await expect(page.locator(f"tr[data-number='{number}']")).to_contain_text("reviewer")
    await shot(page, "reviewer-queue")
    await page.get_by_test_id(f"approve-{number}").click()
    await expect(page.locator(f"tr[data-number='{number}']")).to_have_count(0)
    assert await server.status(number) == "approved"
    await page.context.close()


async def test_warehouse_staff_cannot_reach_a_finance_action(browser, server: Server):
    number = await server.place()
    page = await sign_in(browser, server, "warehouse@dingdan.test")
    await page.goto(f"/orders/{number}")
    await expect(page.get_by_test_id("order-status")).to_have_text("Pending payment")
    await expect(page.get_by_test_id("action-pay")).to_have_count(0)
    cookies = await page.context.cookies()
    token = next(c["value"] for c in cookies if c["name"] == "csrftoken")
    r = await page.request.post(f"/orders/{number}/actions/pay",
                                form={"payment_reference": "FAKE-1", "csrftoken": token},
                                headers={"x-csrftoken": token})
    assert r.status == 403
    assert await server.status(number) == "pending_payment"
    await shot(page, "warehouse-no-pay")
    await page.context.close()


async def test_switching_language_changes_the_labels(browser, server: Server):
    number = await server.place()
    page = await sign_in(browser, server, "cs@dingdan.test")
    await page.goto(f"/orders/{number}")
    status = page.get_by_test_id("order-status")
    await expect(status).to_have_text("Pending payment")
    await expect(page.locator("nav.nav")).to_contain_text("Orders")
    await page.get_by_test_id("lang-switch").click()
    await expect(status).to_have_text("待付款")
    await expect(page.locator("nav.nav")).to_contain_text("订单")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await shot(page, "order-zh-CN")
    await page.get_by_test_id("lang-switch").click()
    await expect(status).to_have_text("Pending payment")
    await page.context.close()


async def test_an_open_order_updates_in_a_second_browser(browser, server: Server):
    phone = _phone()
    number = await server.place(phone=phone)
    await server.act(number, "pay", "submit-review")
    first = await sign_in(browser, server, "reviewer@dingdan.test")
    second = await sign_in(browser, server, "cs@dingdan.test")
    await second.goto(f"/orders/{number}")
    await expect(second.get_by_test_id("order-status")).to_have_text("Pending review")
    listing = await second.context.new_page()
    await listing.goto(f"/orders?q={phone}")
    await expect(listing.get_by_test_id(f"status-{number}")).to_have_text("Pending review")
    await expect(second.locator("body")).to_have_attribute("data-live", "open")
    await expect(listing.locator("body")).to_have_attribute("data-live", "open")

    await first.goto(f"/orders/{number}")
    await first.get_by_test_id("action-approve").get_by_role("button").click()
    await expect(first.get_by_test_id("order-status")).to_have_text("Approved")

    await expect(second.get_by_test_id("order-status")).to_have_text("Approved", timeout=LIVE_MS)
    await expect(listing.get_by_test_id(f"status-{number}")).to_have_text("Approved",
                                                                          timeout=LIVE_MS)
    await expect(second.get_by_test_id("timeline").locator("li").first).to_contain_text(
        "Approved")
    # A change made through the API (another system) arrives the same way.
    await server.act(number, "hold", reason="风控复核")
    await expect(second.get_by_test_id("order-status")).to_have_text("On hold", timeout=LIVE_MS)
    await shot(second, "live-second-browser")
    await first.context.close()
    await second.context.close()


async def test_the_order_page_has_no_horizontal_scroll_at_phone_width(browser, server: Server):
    number = await server.place()
    await server.act(number, "pay")
    page = await sign_in(browser, server, "manager@dingdan.test", width=375)
    for path in (f"/orders/{number}", "/orders", "/", "/review", "/stock"):
        await page.goto(path)
        await expect(page.locator("main")).to_be_visible()
        scroll, client = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= client, (path, scroll, client)
    await page.goto(f"/orders/{number}")
    await shot(page, "order-375px")
    await page.context.close()
