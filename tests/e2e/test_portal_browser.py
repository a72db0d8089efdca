"""The customer's page in a real Chromium: a phone (375 px, Chinese) opening the link from a
message and watching the order move without a reload; a desktop (English) finding the order
by number and phone digits, changing the address and asking for help."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from dingdan.domain.portal import sign_link
from dingdan.settings import Settings
from e2e.conftest import Server, shot
from e2e.test_content_security_policy import WATCH, violations, watch

pytestmark = pytest.mark.e2e


def _link(number: str) -> str:
    # the e2e server runs with the test settings' secret: its link key is the same
    key = Settings(env="test").portal_keys[0]
    return f"/track/{number}?t={sign_link(key, number, datetime.now(UTC) + timedelta(days=1))}"


async def _context(browser: Any, server: Server, width: int, locale: str) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 800},
                                        locale=locale, base_url=server.url)
    context.set_default_timeout(10_000)
    return context


async def test_a_phone_opens_the_link_and_watches_the_order_move_live(browser: Any,
                                                                       server: Server):
    number = await server.place()
    context = await _context(browser, server, 375, "zh-CN")
    try:
        page = await context.new_page()
        await page.goto(_link(number))
        await expect(page).to_have_url(f"{server.url}/track/{number}")  # the token is gone
        await expect(page.get_by_test_id("order-status")).to_have_text("待付款")
        await expect(page.locator('[data-stage="placed"]')).to_have_attribute("data-state",
                                                                                "current")
        await expect(page.locator("body")).to_have_attribute("data-live", "open")
        await page.evaluate("document.body.dataset.loadedOnce = 'yes'")  # a reload drops it
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, "the page scrolls sideways on a phone"
        await shot(page, "portal-phone-zh-before")
        await server.act(number, "pay")
        await expect(page.locator('[data-stage="paid"]')).to_have_attribute("data-state",
                                                                              "current")
        await expect(page.get_by_test_id("order-status")).to_have_text("已付款")
        await expect(page.locator('[data-stage="placed"] time')).to_be_visible()
        assert await page.evaluate("document.body.dataset.loadedOnce") == "yes"
        await shot(page, "portal-phone-zh-paid")
    finally:
        await context.close()


async def test_a_desktop_finds_the_order_changes_the_address_and_asks_for_help(
        browser: Any, server: Server):
    number = await server.place()
    await server.act(number, "pay")
    context = await _context(browser, server, 1280, "en-US")
    await context.add_init_script(WATCH)
    try:
        page = await context.new_page()
        console = watch(page)
        await page.goto(f"/track/{number}")
        form = page.get_by_test_id("lookup-form")
        await form.locator("input[name=last4]").fill("1234")
        await form.locator("button[type=submit]").click()
        await expect(page.get_by_test_id("lookup-message")).to_contain_text(
            "No such order, or it is not yours")
        form = page.get_by_test_id("lookup-form")
        await form.locator("input[name=last4]").fill("8000")
        await form.locator("button[type=submit]").click()
        await expect(page.get_by_test_id("order-status")).to_have_text("Paid")
        await page.get_by_test_id("address-change").locator("summary").click()
        address = page.get_by_test_id("address-form")
        for name, value in (("recipient", "李娜"), ("phone", "13912345678"),
                            ("province", "北京市"), ("city", "北京市"), ("district", "朝阳区"),
                            ("street", "建国路 88 号"), ("postcode", "100022")):
            await address.locator(f"input[name={name}]").fill(value)
        await address.locator("button[type=submit]").click()
        await expect(page.get_by_test_id("done")).to_have_text(
            "The delivery address is updated.")
        await expect(page.get_by_test_id("address")).to_contain_text("北京市 北京市 朝阳区")
        await expect(page.locator('[data-type="order.address_changed"]')).to_be_visible()
        await page.get_by_test_id("help").locator("summary").click()
        help_form = page.get_by_test_id("help-form")
        await help_form.locator("select[name=topic]").select_option("delivery")
        await help_form.locator("textarea[name=text]").fill("Please call before delivery")
        await help_form.locator("button[type=submit]").click()
        await expect(page.get_by_test_id("done")).to_contain_text("customer service")
        await shot(page, "portal-desktop-en")
        async with server.api() as api:
            order = (await api.get(f"/api/v1/orders/{number}")).json()
            events = (await api.get(f"/api/v1/orders/{number}/events")).json()
        assert order["shipping_address"]["street"] == "建国路 88 号"
        assert any(e["type"] == "order.help_requested"
                   and e["reason"] == "Please call before delivery" for e in events)
        # the language switch
        await page.get_by_test_id("lang-switch").click()
        await expect(page.get_by_test_id("order-status")).to_have_text("已付款")
        # no inline script or style anywhere: the page, its forms, its stream
        assert await violations(page, console) == []
    finally:
        await context.close()
