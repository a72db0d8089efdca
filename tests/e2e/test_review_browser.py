"""The review in a real browser: a manager writes a rule by hand in the editor and switches
the auto-review on; a clean paid order moves on by itself, the risky ones wait in the queue
with their reasons, and a reviewer approves them in bulk after reading the trace.

The rules review every paid order of the database they run on, so this module has a server
of its own (the other browser tests expect paid orders to wait).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from e2e.conftest import Server, fresh_server, shot, sign_in
from helpers import order_body

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with fresh_server(tmp_path_factory, "server-review") as srv:
        yield srv


async def test_rules_written_in_the_editor_hold_orders_a_reviewer_then_approves(
        browser, server: Server):
    manager = await sign_in(browser, server, "manager@dingdan.test")
    await manager.goto("/review/rules")
    await expect(manager.get_by_test_id("rules-state")).to_contain_text("Auto-review off")
    form = manager.locator("form[action='/review/rules/add']")
    await form.locator("input[name=code]").fill("tea_bulk")
    await form.locator("select[name=reason_type]").select_option("stock")
    await form.locator("textarea[name=when]").fill("order.max_quantity >= 5\norder.total > 1")
    await form.locator("input[name=message]").fill("散装茶叶大单，先确认库存")
    await form.locator("button[type=submit]").click()
    await expect(manager.locator("tr[data-rule='tea_bulk']")).to_contain_text(
        "order.max_quantity >= 5")
    await expect(manager.get_by_test_id("rules-version")).to_have_text("1")
    # a rule that names a field that does not exist is refused where the manager is
    await form.locator("input[name=code]").fill("bad_rule")
    await form.locator("textarea[name=when]").fill("order.weight > 5")
    await form.locator("button[type=submit]").click()
    await expect(manager.locator("#flash")).to_contain_text("order.weight")
    await manager.get_by_test_id("rules-switch").click()
    await expect(manager.get_by_test_id("rules-state")).to_contain_text("Auto-review on")
    await expect(manager.get_by_test_id("rules-version")).to_have_text("2")
    await shot(manager, "review-rules-editor")
    await manager.context.close()

    clean = await server.place(phone="13900000001")
    await server.act(clean, "pay")
    assert await server.status(clean) == "approved"  # nobody touched it
    bulk = []
    for phone, qty in (("13900000002", 6), ("13900000003", 7)):
        body = order_body([(server.catalogue["sku"], qty)])
        body["customer"].update(phone=phone, email=f"{phone}@example.com")
        async with server.api() as api:
            r = await api.post("/api/v1/orders", json=body)
            assert r.status_code == 201, r.text
            number = r.json()["number"]
        await server.act(number, "pay")
        bulk.append(number)
    assert [await server.status(n) for n in bulk] == ["pending_review", "pending_review"]

    reviewer = await sign_in(browser, server, "reviewer@dingdan.test")
    await reviewer.goto(f"/orders/{bulk[0]}")
    trace = reviewer.locator("#order-review")
    await expect(trace).to_contain_text("Held by the rules")
    await expect(trace).to_contain_text("tea_bulk")
    await expect(trace).to_contain_text("order.max_quantity 6 >= 5")
    await reviewer.goto("/review")
    for number in bulk:
        row = reviewer.locator(f"tr[data-number='{number}']")
        await expect(row).to_contain_text("Stock")
        await expect(row).to_contain_text("tea_bulk")
        await reviewer.get_by_test_id(f"pick-{number}").check()
    await shot(reviewer, "review-queue-reasons")
    await reviewer.get_by_test_id("bulk-approve").click()
    for number in bulk:
        await expect(reviewer.locator(f"tr[data-number='{number}']")).to_have_count(0)
    assert [await server.status(n) for n in bulk] == ["approved", "approved"]
    await reviewer.context.close()
