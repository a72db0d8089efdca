"""Intake in a real browser: customer service uploads a sheet of 300 orders, sees the check,
imports it and watches the progress bar to the end; takes an order on the phone from one
pasted line. No page breaks the Content-Security-Policy."""

from __future__ import annotations

import random
import re

import pytest
from playwright.async_api import expect

from conftest import ref
from e2e.conftest import Server, shot, sign_in
from e2e.test_content_security_policy import WATCH, violations, watch

pytestmark = pytest.mark.e2e
ORDERS = 300


def _sheet(sku: str, prefix: str) -> bytes:
    rows = ["订单号,收货人,手机,省,市,区,详细地址,SKU,数量"]
    rows += [f"{prefix}-{i},张三{i},1380013{i:04d},广东省,深圳市,南山区,科技园路{i}号,{sku},1"
             for i in range(ORDERS)]
    return ("\n".join(rows) + "\n").encode("utf-8-sig")


async def test_customer_service_imports_a_sheet_with_a_progress_bar(browser, server: Server,
                                                                   tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(_sheet(server.catalogue["sku"], ref("E2E")))
    page = await sign_in(browser, server, "cs@dingdan.test")
    await page.context.add_init_script(WATCH)
    console = watch(page)
    await page.goto("/imports")
    await page.locator("input[name=file]").set_input_files(str(path))
    await page.locator("input[name=channel]").fill(ref("sheet").lower())
    await page.get_by_test_id("import-check").click()
    await expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    await expect(page.get_by_test_id("import-status")).to_have_text("Checked")
    await expect(page.get_by_test_id("import-bad-rows")).to_have_text("0")
    await page.get_by_test_id("import-run").click()
    # the bar shows while the orders go in, then the page comes back with the report
    bar = page.get_by_test_id("import-progress-bar")
    await expect(bar).to_be_visible()
    await shot(page, "import-progress")
    await expect(page.get_by_test_id("import-status")).to_have_text("Completed",
                                                                    timeout=60_000)
    await expect(page.get_by_test_id("import-created")).to_have_text(str(ORDERS))
    await expect(page.get_by_test_id("import-report").locator("a[href^='/orders/DD']")
                 ).to_have_count(ORDERS)
    await shot(page, "import-completed")
    assert await violations(page, console) == []
    await page.context.close()


async def test_customer_service_takes_a_phone_order_from_one_pasted_line(browser,
                                                                        server: Server):
    phone = "139" + "".join(random.choices("0123456789", k=8))
    page = await sign_in(browser, server, "cs@dingdan.test", width=375)
    await page.context.add_init_script(WATCH)
    console = watch(page)
    await page.goto("/orders/new")
    await page.get_by_test_id("entry-paste").fill(f"王芳 {phone} 上海市浦东新区世纪大道100号")
    await page.get_by_test_id("entry-parse").click()
    await expect(page.get_by_test_id("entry-name")).to_have_value("王芳")
    await expect(page.get_by_test_id("entry-phone")).to_have_value(phone)
    await expect(page.get_by_test_id("entry-district")).to_have_value("浦东新区")
    await expect(page.get_by_test_id("entry-street")).to_have_value("世纪大道100号")
    await page.get_by_test_id("entry-sku-0").fill(server.catalogue["sku"])
    await page.get_by_test_id("entry-qty-0").fill("2")
    await page.get_by_test_id("entry-place").click()
    await expect(page).to_have_url(re.compile(r"/orders/DD\w+$"))
    await expect(page.get_by_test_id("order-status")).to_have_text("Pending payment")
    await shot(page, "phone-order-placed")
    number = page.url.rsplit("/", 1)[1]
    async with server.api() as api:
        order = (await api.get(f"/api/v1/orders/{number}")).json()
    assert (order["channel"], order["customer"]["phone"], order["lines"][0]["quantity"]) == (
        "phone", f"+86{phone}", 2)
    assert await violations(page, console) == []
    await page.context.close()
