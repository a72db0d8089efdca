"""Browser tests: a real uvicorn server over a fresh migrated SQLite file, and Debian's
Chromium driven by Playwright (``playwright install`` cannot download browsers here).

People sign in through the real sign-in page; orders are set up through the REST API with
an admin token. Screenshots go to ``artifacts/e2e/`` (git-ignored). Without /usr/bin/chromium
the browser tests skip, saying why — or fail under ``DINGDAN_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import require_services
from dingdan.domain.events import SYSTEM
from dingdan.services.tokens import issue_token
from dingdan.services.users import OPERATOR, CreateUser, UserFields, create_user
from dingdan.store.engine import make_engine
from dingdan.store.migrate import upgrade
from dingdan.store.uow import UnitOfWorkFactory
from helpers import order_body

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery staple"
# login -> roles; every scenario signs in as one of these people.
PEOPLE = {"cs@dingdan.test": ("customer_service",), "reviewer@dingdan.test": ("reviewer",),
          "warehouse@dingdan.test": ("warehouse",), "finance@dingdan.test": ("finance",),
          "manager@dingdan.test": ("manager",)}


@dataclass
class Server:
    url: str
    token: str  # an admin API token, to set up orders
    catalogue: dict[str, str]
    database_url: str = ""  # the server's database, for set-up a test does beside the API

    def api(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10,
                                 headers={"Authorization": f"Bearer {self.token}"})

    async def place(self, phone: str = "13800138000", **extra: Any) -> str:
        body = order_body([(self.catalogue["sku"], 1)], **extra)
        body["customer"]["phone"] = phone
        async with self.api() as api:
            r = await api.post("/api/v1/orders", json=body)
            assert r.status_code == 201, r.text
            number: str = r.json()["number"]
        return number

    async def act(self, number: str, *steps: str, reason: str = "test") -> None:
        bodies = {"pay": {"payment_reference": "ALI-1"}, "cancel": {"reason": reason},
                  "hold": {"reason": reason}}
        async with self.api() as api:
            for step in steps:
                r = await api.post(f"/api/v1/orders/{number}/{step}", json=bodies.get(step))
                assert r.status_code == 200, (step, r.text)

    async def status(self, number: str) -> str:
        async with self.api() as api:
            status: str = (await api.get(f"/api/v1/orders/{number}")).json()["status"]
        return status


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def _prepare(url: str) -> str:
    engine = make_engine(url)
    try:
        uows = UnitOfWorkFactory(engine)
        for login, roles in PEOPLE.items():
            await create_user(CreateUser(UserFields(login.split("@")[0], email=login,
                                                    language="en", roles=frozenset(roles)),
                                         OPERATOR, PASSWORD), uows())
        issued = await issue_token("e2e-setup", uows(), roles=["admin"], actor=SYSTEM)
        return issued.token
    finally:
        await engine.dispose()


@asynccontextmanager
async def fresh_server(tmp_path_factory: pytest.TempPathFactory,
                       name: str = "server") -> AsyncIterator[Server]:
    """A real server process on a free port, over a fresh migrated SQLite file with one
    warehouse and one product in stock; stopped on leaving."""
    path = tmp_path_factory.mktemp(f"e2e-{name}") / "dingdan.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    token = await _prepare(url)
    port = _free_port()
    env = {**os.environ, "DINGDAN_DATABASE_URL": url, "DINGDAN_ENV": "test",
           "DINGDAN_DEFAULT_LANGUAGE": "en", "DINGDAN_STATIC_DIR": str(ROOT / "node_modules"),
           "DINGDAN_TOKEN_CACHE_SECONDS": "0"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Under pytest-xdist each worker runs its own server: one log each, not one clobbered.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    server_log = ARTIFACTS / (f"{name}-{worker}.log" if worker else f"{name}.log")
    log = server_log.open("w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "dingdan.web.main:app", "--factory", "--host",
        "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", "1",
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine: ~30 s seen
        async with httpx.AsyncClient(timeout=1) as probe:
            while True:
                try:
                    if (await probe.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"no server; see {server_log}")
                await asyncio.sleep(0.1)
        srv = Server(base, token, {}, url)
        async with srv.api() as api:
            wh = await api.post("/api/v1/warehouses", json={
                "code": "SH", "name": "上海仓", "region": "上海", "priority": 10})
            assert wh.status_code == 201, wh.text
            p = await api.post("/api/v1/products", json={"sku": "TEA-001", "name": "龙井茶 250g",
                                                          "price": 12800})
            assert p.status_code == 201, p.text
            r = await api.post("/api/v1/stock/receipts", json={
                "sku": "TEA-001", "warehouse": "SH", "quantity": 1000, "reason": "opening"})
            assert r.status_code == 201, r.text
        srv.catalogue = {"sku": "TEA-001", "warehouse": "SH"}
        yield srv
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        log.close()


@pytest.fixture(scope="session")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with fresh_server(tmp_path_factory) as srv:
        yield srv


def _have_chromium() -> bool:
    return os.access(CHROMIUM, os.X_OK)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if not _have_chromium():
        reason = (f"browser tests need Debian's Chromium at {CHROMIUM} "
                  "(apt-get install chromium, or DINGDAN_SETUP_BROWSER=1 ./scripts/setup)")
        if require_services():
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def sign_in(browser: Any, server: Server, login: str, *, width: int = 1280,
                  locale: str = "en-US") -> Any:
    """A new browser context signed in as ``login`` through the sign-in page; its page."""
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale=locale, base_url=server.url)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto("/login")
    form = page.get_by_test_id("login-form")
    await form.locator("input[name=login]").fill(login)
    await form.locator("input[name=password]").fill(PASSWORD)
    await form.locator("button[type=submit]").click()
    await page.wait_for_url(lambda url: "/login" not in url)
    return page


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
