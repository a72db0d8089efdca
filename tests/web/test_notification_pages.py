"""The notification pages: messages on the order page, dead letters with replay, the template
editor, webhook subscriptions, SLA settings and the calendar, the alert centre, and overdue
on the order (API and page) and in the list."""

from __future__ import annotations

import re
import uuid
from typing import Any

from web.conftest import place

HX = {"HX-Request": "true"}
PAGES = ("/dead-letters", "/settings/templates", "/settings/webhooks", "/settings/sla",
         "/alerts", "/settings/templates/delivered/email/en")


async def _dead_letter(office: Any, clock: Any, number: str | None,
                       recipient: str = "zhang.wei@example.com") -> int:
    from sqlalchemy import insert

    from dingdan.store.tables_delivery import deliveries

    uow = office.app.state.uow()
    async with uow:
        row = (await uow.conn.execute(insert(deliveries).values(
            event_id=str(uuid.uuid4()), channel="email", recipient=recipient,
            kind="shipped", audience="customer", event_type="order.shipped",
            order_number=number, language="zh-CN", status="dead", attempts=8,
            next_attempt_at=clock.now, last_error="550 mailbox unavailable",
            response_code=550, payload={}, fallback=[], created_at=clock.now,
            updated_at=clock.now, dead_at=clock.now).returning(deliveries.c.id))).first()
        await uow.commit()
    assert row is not None
    return int(row[0])


async def _breach(office: Any, clock: Any, number: str) -> int:
    from dingdan.store.sla import SlaRepo

    uow = office.app.state.uow()
    async with uow:
        alert_id = await SlaRepo(uow.conn).add_alert({
            "order_number": number, "stage": "ship", "kind": "breached", "role": "warehouse",
            "deadline": clock.now, "created_at": clock.now})
        await uow.commit()
    assert alert_id is not None
    return alert_id


async def test_every_page_renders_for_a_manager_with_links_a_viewer_does_not_get(office):
    manager = await office.client("manager")
    for path in PAGES:
        r = await manager.get(path)
        assert r.status_code == 200, (path, r.text)
    home = (await manager.get("/")).text
    for href in ("/dead-letters", "/settings/templates", "/settings/webhooks", "/settings/sla",
                 "/alerts"):
        assert f'href="{href}"' in home
    viewer = await office.client("viewer")
    home = (await viewer.get("/")).text
    assert 'href="/settings/webhooks"' not in home and 'href="/dead-letters"' not in home
    assert (await viewer.get("/settings/webhooks")).status_code == 403
    page = (await viewer.get("/settings/sla")).text  # may read, not change
    assert 'action="/settings/holidays"' not in page
    r = await viewer.post("/settings/holidays", data={"day": "2026-10-01", "name": "国庆节"})
    assert r.status_code == 403


async def test_the_order_page_lists_its_messages_masked(office, admin, catalogue, clock):
    number = await place(admin, catalogue["skus"]["A"])
    await _dead_letter(office, clock, number)
    viewer = await office.client("viewer")
    page = (await viewer.get(f"/orders/{number}")).text
    table = page[page.index('data-testid="order-messages"'):]
    table = table[:table.index("</table>")]
    assert "550 mailbox unavailable" in table and "Dead" in table
    assert "zhang.wei@example.com" not in table


async def test_a_dead_letter_replayed_from_the_page_is_queued_again(office, admin, catalogue,
                                                                   clock):
    number = await place(admin, catalogue["skus"]["A"])
    one = await _dead_letter(office, clock, number, "a@example.com")
    two = await _dead_letter(office, clock, number, "b@example.com")
    manager = await office.client("manager")
    page = (await manager.get("/dead-letters")).text
    assert f'data-testid="replay-{one}"' in page and f'data-testid="replay-{two}"' in page
    viewer = await office.client("viewer")
    assert f'data-testid="replay-{one}"' not in (await viewer.get("/dead-letters")).text
    assert (await viewer.post(f"/dead-letters/{one}/replay", headers=HX)).status_code == 403

    r = await manager.post(f"/dead-letters/{one}/replay", headers=HX)
    assert r.status_code == 200, r.text
    assert f'data-testid="replay-{one}"' not in r.text and f'data-testid="replay-{two}"' in r.text
    messages = (await admin.get(f"/api/v1/orders/{number}/messages")).json()
    assert {m["id"]: m["status"] for m in messages}[one] == "pending"
    r = await manager.post("/dead-letters/replay", data={"everything": "1"}, headers=HX)
    assert r.status_code == 200 and "No dead letters" in r.text
    assert (await admin.get("/api/v1/dead-letters")).json() == []


async def test_a_template_saved_from_the_page_is_used_by_the_preview(office):
    manager = await office.client("manager")
    base = "/settings/templates/delivered/email/en"
    r = await manager.post(base, headers=HX, data={"subject": "Here: {{ order.number }}",
                                                   "text": "Enjoy it, {{ name }}!"})
    assert r.status_code == 200, r.text
    assert 'data-testid="overridden"' in r.text
    listed = (await manager.get("/settings/templates")).text
    assert "Overridden" in listed
    r = await manager.post(f"{base}/preview", headers=HX)
    assert r.status_code == 200, r.text
    assert "Here: DD261111ABCDEFG" in r.text and "Enjoy it, 张伟!" in r.text
    r = await manager.post(f"{base}/preview", headers=HX,
                           data={"subject": "x", "text": "Draft {{ order.number }}"})
    assert "Draft DD261111ABCDEFG" in r.text
    r = await manager.post(base, headers=HX, data={"subject": "x", "text": "{% for %}"})
    assert r.status_code == 422
    viewer = await office.client("viewer")
    assert (await viewer.post(base, headers=HX, data={"text": "no"})).status_code == 403
    r = await manager.post(f"{base}/revert", headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"] == base
    assert 'data-testid="overridden"' not in (await manager.get(base)).text


async def test_webhooks_are_created_with_the_secret_shown_once_then_deactivated_and_deleted(
        office):
    manager = await office.client("manager")
    r = await manager.post("/settings/webhooks", headers=HX, data={
        "url": "https://erp.example.com/dingdan", "event_types": "order.shipped, order.*"})
    assert r.status_code == 200, r.text
    secret = re.search(r'data-testid="new-secret">.*?<code[^>]*>([^<]+)</code>', r.text, re.S)
    assert secret is not None
    hooks = (await manager.get("/api/v1/webhooks")).json()
    hook = next(h for h in hooks if h["url"] == "https://erp.example.com/dingdan")
    assert hook["event_types"] == ["order.shipped", "order.*"]
    assert secret.group(1).endswith(hook["secret_hint"])
    page = (await manager.get("/settings/webhooks")).text
    assert secret.group(1) not in page and "erp.example.com" in page
    r = await manager.post(f"/settings/webhooks/{hook['id']}/active", data={"active": "0"},
                           headers=HX)
    assert r.status_code == 200
    assert (await manager.get(f"/api/v1/webhooks/{hook['id']}")).json()["active"] is False
    r = await manager.post(f"/settings/webhooks/{hook['id']}/delete", headers=HX)
    assert r.status_code == 200
    assert (await manager.get(f"/api/v1/webhooks/{hook['id']}")).status_code == 404


async def test_sla_policies_and_holidays_are_changed_from_the_page(office):
    manager = await office.client("manager")
    r = await manager.post("/settings/sla/ship", headers=HX, data={
        "minutes": "720", "warn_minutes": "60", "role": "warehouse", "working_time": "1",
        "active": "1"})
    assert r.status_code == 200, r.text
    ship = next(p for p in (await manager.get("/api/v1/sla/policies")).json()
                if p["stage"] == "ship")
    assert ship["minutes"] == 720 and ship["working_time"] and ship["customized"]
    r = await manager.post("/settings/holidays", headers=HX,
                           data={"day": "2026-10-01", "kind": "holiday", "name": "国庆节"})
    assert r.status_code == 200 and "国庆节" in r.text
    r = await manager.post("/settings/holidays/2026-10-01/delete", headers=HX)
    assert r.status_code == 200
    days = [h["day"] for h in (await manager.get("/api/v1/sla/holidays")).json()]
    assert "2026-10-01" not in days


async def test_the_alert_centre_lists_open_alerts_and_acknowledges(office, admin, catalogue,
                                                                   clock):
    number = await place(admin, catalogue["skus"]["A"])
    alert_id = await _breach(office, clock, number)
    manager = await office.client("manager")
    page = (await manager.get("/alerts")).text
    assert number in page and f'data-testid="ack-{alert_id}"' in page
    r = await manager.post(f"/alerts/centre/{alert_id}/acknowledge", headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"] == "/alerts"
    page = (await manager.get("/alerts")).text
    assert "Acknowledged" in page and f'data-testid="ack-{alert_id}"' not in page


async def test_overdue_shows_on_the_api_the_order_page_and_the_list(office, admin, catalogue,
                                                                   clock):
    late = await place(admin, catalogue["skus"]["A"])
    fine = await place(admin, catalogue["skus"]["A"])
    body = (await admin.get(f"/api/v1/orders/{fine}")).json()
    assert body["overdue"] is False and body["sla_stage"] is None
    await _breach(office, clock, late)
    body = (await admin.get(f"/api/v1/orders/{late}")).json()
    assert body["overdue"] is True and body["sla_stage"] == "ship"
    assert body["sla_due_at"] is not None
    # Each found by its number: in a shared database they need not be on the first page.
    rows = (await admin.get("/orders", params={"q": late})).text
    assert f'data-testid="overdue-{late}"' in rows
    rows = (await admin.get("/orders", params={"q": fine})).text
    assert fine in rows and f'data-testid="overdue-{fine}"' not in rows
    page = (await admin.get(f"/orders/{late}")).text
    assert 'data-testid="order-overdue"' in page


async def test_the_preview_page_masks_the_customer_and_refuses_unbounded_templates(
        office, admin, catalogue):
    number = await place(admin, catalogue["skus"]["A"])
    viewer = await office.client("viewer")
    base = "/settings/templates/shipped/sms/en"
    text = "{{ order.customer.phone }} {{ order.customer.email }}"
    r = await viewer.post(f"{base}/preview", headers=HX,
                          data={"text": text, "order_number": number})
    assert r.status_code == 200, r.text
    assert "13800138000" not in r.text and "138****8000" in r.text
    r = await viewer.post(f"{base}/preview", headers=HX, data={"text": "{{ 'a' * 10**8 }}"})
    assert r.status_code == 422 and len(r.content) < 20_000
    r = await viewer.post(f"{base}/preview", headers=HX,
                          data={"text": "{{ ''.__class__.__mro__ }}"})
    assert r.status_code == 422
