"""The analytics pages in a real Chromium, offline: every chart is drawn (ECharts from the
server's own /static/vendor, nothing from another host), in English and in Chinese, with no
Content-Security-Policy violation; the order page draws the order's own Gantt."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from dingdan.services import analytics_model
from dingdan.store.engine import make_engine
from dingdan.store.uow import UnitOfWorkFactory
from e2e.conftest import Server, shot, sign_in
from e2e.test_content_security_policy import WATCH, violations, watch

pytestmark = pytest.mark.e2e
CHARTS = ("trend", "stages", "gantt", "regions")


async def _refresh(server: Server) -> None:
    """What the worker does every minute, now (the test server's worker ticks once a minute)."""
    engine = make_engine(server.database_url)
    try:
        await analytics_model.refresh(UnitOfWorkFactory(engine), ZoneInfo("Asia/Shanghai"))
    finally:
        await engine.dispose()


async def _offline(page: Any, elsewhere: list[str]) -> None:
    """Refuse, and note, every request to a host other than the server."""
    async def route(r: Any) -> None:
        if r.request.url.startswith(("http://127.0.0.1", "data:")):
            await r.continue_()
        else:
            elsewhere.append(r.request.url)
            await r.abort()
    await page.route("**/*", route)


@pytest.mark.parametrize(("lang", "title"), [("en", "Analytics"), ("zh-CN", "数据分析")])
async def test_the_dashboard_draws_every_chart_offline(browser: Any, server: Server,
                                                       lang: str, title: str) -> None:
    shipped = await server.place()
    await server.act(shipped, "pay", "submit-review", "approve", "allocate", "pick", "pack")
    async with server.api() as api:
        r = await api.post(f"/api/v1/orders/{shipped}/ship",
                           json={"carrier": "SF", "tracking_number": "SF123"})
        assert r.status_code == 200, r.text
    await server.act(await server.place(), "cancel")
    await server.act(await server.place(), "pay")
    await _refresh(server)

    page = await sign_in(browser, server, "manager@dingdan.test")
    await page.context.add_init_script(WATCH)
    console = watch(page)
    elsewhere: list[str] = []
    await _offline(page, elsewhere)
    await page.goto(f"/lang/{lang}?next=/analytics")  # the language switcher's link
    await expect(page.locator("h1")).to_have_text(title)
    for chart in CHARTS:
        box = page.get_by_test_id(f"chart-{chart}")
        await expect(box).to_have_attribute("data-rendered", "true")
        await expect(box.locator("canvas")).to_have_count(1)
        size = await box.locator("canvas").bounding_box()
        assert size and size["width"] > 200 and size["height"] > 100, chart
    # The session's server is shared with other browser tests: at least this test's three.
    orders = await page.get_by_test_id("kpi-orders").locator(".n").inner_text()
    assert int(orders.replace(",", "")) >= 3
    await expect(page.get_by_test_id("province-tiles").locator(".tile")).to_have_count(34)
    await shot(page, f"analytics-{lang}")
    assert elsewhere == []
    assert await violations(page, console) == []

    # An HTMX-boosted visit from another page draws the charts too.
    await page.goto("/")
    await page.get_by_role("link", name=title).first.click()
    await expect(page.get_by_test_id("chart-trend")).to_have_attribute("data-rendered", "true")

    await page.goto(f"/orders/{shipped}")
    gantt = page.get_by_test_id("order-gantt")
    await expect(gantt).to_have_attribute("data-rendered", "true")
    await expect(gantt.locator("canvas")).to_have_count(1)
    assert elsewhere == []
    assert await violations(page, console) == []
    await page.context.close()
