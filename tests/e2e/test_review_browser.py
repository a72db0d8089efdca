"""The review in a real browser: a manager writes a rule by hand in the editor and switches
the auto-review on; a clean paid order moves on by itself, the risky ones wait in the queue
with their reasons, and a reviewer approves them in bulk after reading the trace.

The rules review every paid order of the database they run on, so this module has a server
of its own (the other browser tests expect paid orders to wait).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from dingdan.store.migrate import upgrade
from e2e.conftest import ARTIFACTS, ROOT, Server, _free_port, _prepare, shot, sign_in
from helpers import order_body

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    path = tmp_path_factory.mktemp("e2e-review") / "dingdan.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    token = await _prepare(url)
    port = _free_port()
    env = {**os.environ, "DINGDAN_DATABASE_URL": url, "DINGDAN_ENV": "test",
           "DINGDAN_DEFAULT_LANGUAGE": "en", "DINGDAN_STATIC_DIR": str(ROOT / "node_modules"),
           "DINGDAN_TOKEN_CACHE_SECONDS": "0"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / f"server-review-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
           ).open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "dingdan.web.main:app", "--factory", "--host",
        "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", "1",
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient(timeout=1) as probe:
            while True:
                try:
                    if (await probe.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError("no server; see artifacts/e2e/server-review-*.log")
                await asyncio.sleep(0.1)
        srv = Server(base, token, {"sku": "TEA-001", "warehouse": "SH"})
        async with srv.api() as api:
            for path, body in (
                    ("/api/v1/warehouses", {"code": "SH", "name": "上海仓", "region": "上海",
                                            "priority": 10}),
                    ("/api/v1/products", {"sku": "TEA-001", "name": "龙井茶 250g",
                                          "price": 12800}),
                    ("/api/v1/stock/receipts", {"sku": "TEA-001", "warehouse": "SH",
                                                "quantity": 1000, "reason": "opening"})):
                r = await api.post(path, json=body)
                assert r.status_code == 201, r.text
        yield srv
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()


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
