"""The Content-Security-Policy in a real browser: the back office's pages work under it with
no violation at all (no inline script, style or eval left anywhere, htmx included), and no
other site can frame them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import expect

from e2e.conftest import Server, sign_in

pytestmark = pytest.mark.e2e

# Registered before any page script runs (Playwright's init scripts are not subject to the
# page's CSP); every violation the browser reports is kept on window.__csp.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                    + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def watch(page: Any) -> list[str]:
    """Console messages about the CSP on this page (the browser logs every refusal)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text)
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
            else None)
    return seen


async def violations(page: Any, console: list[str]) -> list[str]:
    reported: list[str] = await page.evaluate("window.__csp || []")
    return reported + console


async def test_the_back_office_pages_run_without_a_single_csp_violation(browser,
                                                                       server: Server):
    number = await server.place()
    context = await browser.new_context(base_url=server.url, locale="en-US")
    await context.add_init_script(WATCH)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    console = watch(page)
    await page.goto("/login")
    assert await violations(page, console) == []
    await context.close()

    page = await sign_in(browser, server, "manager@dingdan.test")
    await page.context.add_init_script(WATCH)
    console = watch(page)
    for path in ("/", "/orders", f"/orders/{number}", "/settings/templates",
                 "/settings/webhooks", "/settings/sla", "/alerts", "/dead-letters",
                 "/orders/DD-NO-SUCH-ORDER"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        assert await violations(page, console) == [], path
    # HTMX at work under the policy: a boosted link, a note posted with hx-post (the form
    # clears itself through app.js, not an hx-on handler), the live stream.
    await page.goto(f"/orders/{number}")
    await expect(page.locator("body[data-live=open]")).to_have_count(1)
    note = page.locator("form[data-reset-on-success] textarea[name=note]")
    await note.fill("CSP note")
    await note.locator("xpath=..").get_by_role("button").click()
    await expect(page.get_by_test_id("timeline")).to_contain_text("CSP note")
    await expect(note).to_have_value("")
    await page.get_by_role("link", name="Orders").first.click()
    await expect(page).to_have_url(f"{server.url}/orders")
    assert await violations(page, console) == []
    await page.context.close()


async def test_the_api_docs_page_runs_under_the_policy(browser, server: Server):
    context = await browser.new_context(base_url=server.url)
    await context.add_init_script(WATCH)
    page = await context.new_page()
    console = watch(page)
    await page.goto("/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Dingdan")
    await page.wait_for_load_state("networkidle")
    assert await violations(page, console) == []
    await context.close()


async def test_another_site_cannot_frame_the_back_office(browser, server: Server):
    # Another site: a real server on another port (another origin) whose page frames ours.
    html = f"<!doctype html><iframe src='{server.url}/login'></iframe>".encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(html), html))
        await writer.drain()
        writer.close()

    evil = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = evil.sockets[0].getsockname()[1]
    context = await browser.new_context()
    page = await context.new_page()
    try:
        async with page.expect_event("framenavigated",
                                     lambda f: f != page.main_frame) as navigated:
            await page.goto(f"http://127.0.0.1:{port}/")
        frame = await navigated.value
        await page.wait_for_load_state("load")
        assert await frame.locator("[data-testid=login-form]").count() == 0
        assert not frame.url.startswith(server.url), frame.url
    finally:
        await context.close()
        evil.close()
