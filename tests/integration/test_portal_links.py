"""The link in a customer's email opens their page: a real worker sends the confirmation to a
real SMTP server, the link in it is followed, and the address changed on the page comes back
to the customer as an email too (no longer a 404)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from conftest import Clock
from dingdan.settings import Settings
from helpers import order_body, seed_catalogue
from peers import wait_until
from smtp_peer import SmtpPeer
from worker_support import (  # noqa: F401  (db_url and pg_template are fixtures)
    db_url,
    email_address,
    pg_template,
)

LINK = re.compile(r"http://dingdan\.test(/track/[A-Z0-9]+\?t=[0-9a-f]+\.[A-Za-z0-9_-]+)")


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    with SmtpPeer() as peer:
        yield peer


async def test_the_link_in_the_confirmation_email_opens_the_customer_s_page(
        settings: Settings, clock: Clock, smtp: SmtpPeer):
    from dingdan.domain.events import SYSTEM
    from dingdan.services.tokens import issue_token
    from dingdan.web.app import create_app
    from dingdan.workers.process import in_process_worker

    on = settings.model_copy(update={
        "run_worker_in_process": True, "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
        "smtp_tls": "none", "worker_poll_seconds": 0.05, "public_base_url": "http://dingdan.test",
        "vapid_key_file": Path("/nonexistent/vapid.pem")})
    app = create_app(on, clock, background=[in_process_worker(on)])
    email = email_address()
    async with LifespanManager(app) as manager:
        issued = await issue_token("t", app.state.uow(), roles=["admin"], actor=SYSTEM)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test",
                                     headers={"Authorization": f"Bearer {issued.token}"}) as api, \
                httpx.AsyncClient(transport=transport, base_url="http://dingdan.test") as visitor:
            cat = await seed_catalogue(api, {"A": 5})
            body = order_body([(cat["skus"]["A"], 1)])
            body["customer"]["email"] = email
            r = await api.post("/api/v1/orders", json=body)
            assert r.status_code == 201, r.text
            number = r.json()["number"]
            await wait_until(lambda: len(smtp.to(email)) == 1, within=10,
                             what="the confirmation email")
            mail = smtp.to(email)[0]
            links = {m.group(1) for part in ("plain", "html")
                     for m in LINK.finditer(mail.part(part))}
            assert len(links) == 1, (mail.part("plain"), links)
            (link,) = links
            assert link.startswith(f"/track/{number}?t=")
            opened = await visitor.get(link.replace("&amp;", "&"))
            assert opened.status_code == 303, opened.text
            page = await visitor.get(opened.headers["location"])
            assert page.status_code == 200 and 'data-testid="stages"' in page.text
            token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
            assert token
            r = await visitor.post(f"/track/{number}/address", data={
                "recipient": "李娜", "phone": "13912345678", "province": "北京市",
                "city": "北京市", "district": "朝阳区", "street": "建国路 88 号",
                "csrftoken": token.group(1)})
            assert r.status_code == 200, r.text
            await wait_until(lambda: len(smtp.to(email)) == 2, within=10,
                             what="the address-changed email")
    changed = smtp.to(email)[1]
    assert "建国路 88 号" in changed.part("plain")
