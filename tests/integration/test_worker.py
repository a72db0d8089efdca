"""The worker end to end, on SQLite and PostgreSQL, with a controlled clock: orders placed
and moved through the API, the worker stepped by hand, email checked at a real SMTP server.

Who hears what (fallback, quiet hours), retries and dead letters with replay, the SLA scan
raising each alert once, payment timeouts and auto-completion, and the in-process worker of
``dingdan serve``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from conftest import Clock
from dingdan.adapters.notify.port import SendResult
from dingdan.settings import Settings
from helpers import order_body, seed_catalogue
from peers import wait_until
from smtp_peer import SmtpPeer
from worker_support import (  # noqa: F401  (db_url and pg_template are fixtures)
    FakeSender,
    db_url,
    email_address,
    make_worker,
    pg_template,
    uows_of,
)

API = "/api/v1"


@pytest.fixture
def smtp() -> Iterator[SmtpPeer]:
    with SmtpPeer() as peer:
        yield peer


def email_sender(smtp: SmtpPeer):
    from dingdan.adapters.notify.email import EmailSender

    return EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                       from_addr="Dingdan <noreply@shop.example>", timeout=5)


async def place(client: httpx.AsyncClient, email: str, qty: int = 2,
                stock: int = 10, **extra: Any) -> tuple[str, str]:
    cat = await seed_catalogue(client, {"A": stock})
    sku = cat["skus"]["A"]
    body = order_body([(sku, qty)], **extra)
    body["customer"] = {"name": "李娜", "phone": "13900139000", "email": email}
    r = await client.post(f"{API}/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()["number"], sku


async def act(client: httpx.AsyncClient, number: str, path: str,
              body: dict[str, Any] | None = None) -> None:
    r = await client.post(f"{API}/orders/{number}/{path}", json=body)
    assert r.status_code == 200, (path, r.text)


async def messages(client: httpx.AsyncClient, number: str) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/orders/{number}/messages")
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_a_placed_order_is_confirmed_by_email_exactly_once(app_client, smtp):
    email = email_address()
    number, _ = await place(app_client, email)
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"email": sender})
    report = await worker.run_once()
    assert report.fanned_out >= 1 and report.outcomes.get("sent") == 1
    await worker.run_once()
    await worker.run_once()
    await sender.close()
    [mail] = smtp.to(email)
    assert mail.message["Subject"] == f"Order {number} confirmed"
    assert "李娜" in mail.part("plain") and f"/track/{number}" in mail.part("html")
    [m] = await messages(app_client, number)
    assert (m["channel"], m["status"], m["attempts"], m["kind"]) == \
        ("email", "sent", 1, "order_confirmed")
    assert m["recipient"].startswith(email[0] + "***@") and email not in str(m)
    assert m["event_id"] == mail.event_id


async def test_sms_down_for_good_falls_back_to_email(app_client, smtp, clock: Clock):
    email = email_address()
    r = await app_client.put(f"{API}/notification-preferences/{email}",
                             json={"channels": {"*": ["sms", "email"]}, "language": "zh-CN"})
    assert r.status_code == 200, r.text
    number, _ = await place(app_client, email)
    sms = FakeSender("sms", SendResult.give_up("isv.MOBILE_NUMBER_ILLEGAL"))
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"sms": sms, "email": sender})
    await worker.run_once()  # SMS refused: the email row is queued, due now
    await worker.run_once()
    await sender.close()
    assert [m.recipient for m in sms.sent] == ["+8613900139000"]
    [mail] = smtp.to(email)
    assert mail.message["Subject"] == f"订单 {number} 已确认"
    sms_row, email_row = await messages(app_client, number)
    assert (sms_row["channel"], sms_row["status"]) == ("sms", "failed_over")
    assert "MOBILE_NUMBER_ILLEGAL" in sms_row["last_error"]
    assert (email_row["channel"], email_row["status"], email_row["fallback_of"]) == \
        ("email", "sent", sms_row["id"])


async def test_sms_that_keeps_failing_falls_back_after_a_few_tries(app_client, smtp,
                                                                    clock: Clock):
    email = email_address()
    await app_client.put(f"{API}/notification-preferences/{email}",
                         json={"channels": {"*": ["sms", "email"]}})
    number, _ = await place(app_client, email)
    sms = FakeSender("sms", SendResult.retry("connection refused"))
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"sms": sms, "email": sender})
    await worker.run_once()
    assert smtp.to(email) == []
    [row] = await messages(app_client, number)
    assert row["status"] == "pending" and row["attempts"] == 1
    retry_at = datetime.fromisoformat(row["next_attempt_at"])
    assert 5 <= (retry_at - clock.now).total_seconds() <= 10  # base 10 s, jittered
    clock.now = retry_at
    await worker.run_once()  # second failure: fallback_after_attempts = 2
    await worker.run_once()
    await sender.close()
    assert len(sms.sent) == 2 and len(smtp.to(email)) == 1


async def test_a_non_urgent_message_waits_for_the_end_of_quiet_hours(app_client, smtp,
                                                                     clock: Clock):
    clock.now = datetime(2026, 11, 11, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    email = email_address()
    await app_client.put(f"{API}/notification-preferences/{email}",
                         json={"quiet_hours": "22:00-08:00", "timezone": "Asia/Shanghai"})
    number, _ = await place(app_client, email)
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"email": sender})
    await worker.run_once()
    assert smtp.to(email) == []
    [row] = await messages(app_client, number)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert datetime.fromisoformat(row["next_attempt_at"]) == \
        datetime(2026, 11, 12, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    clock.advance(minutes=5)  # an urgent message is not held back
    await act(app_client, number, "cancel", {"reason": "customer asked"})
    await worker.run_once()
    [cancelled] = smtp.to(email)
    assert cancelled.message["Subject"] == f"Order {number} cancelled"
    clock.now = datetime(2026, 11, 12, 0, 0, tzinfo=UTC)
    await worker.run_once()
    await sender.close()
    assert [m.message["Subject"] for m in smtp.to(email)] == [
        f"Order {number} cancelled", f"Order {number} confirmed"]


async def test_failures_back_off_then_die_and_a_replay_delivers(app_client, smtp,
                                                                clock: Clock):
    email = email_address()
    number, _ = await place(app_client, email)
    smtp.defer = True  # 451 for every recipient
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"email": sender})
    waits = []
    for _ in range(3):  # max_attempts = 3
        await worker.run_once()
        [row] = await messages(app_client, number)
        if row["status"] == "pending":
            due = datetime.fromisoformat(row["next_attempt_at"])
            waits.append((due - clock.now).total_seconds())
            clock.now = due
    assert row["status"] == "dead" and row["attempts"] == 3 and row["response_code"] == 451
    assert len(waits) == 2 and 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20
    dead = (await app_client.get(f"{API}/dead-letters", params={"order": number})).json()
    assert [d["id"] for d in dead] == [row["id"]]
    smtp.defer = False
    r = await app_client.post(f"{API}/dead-letters/{row['id']}/replay")
    assert r.status_code == 202, r.text
    assert (await app_client.post(f"{API}/dead-letters/{row['id']}/replay")).status_code == 404
    await worker.run_once()
    await sender.close()
    [mail] = smtp.to(email)
    [row] = await messages(app_client, number)
    assert row["status"] == "sent" and row["attempts"] == 1 and mail.event_id == row["event_id"]


async def test_dead_letters_are_replayed_in_bulk(app_client, smtp, clock: Clock):
    emails = [email_address() for _ in range(3)]
    numbers = [(await place(app_client, e))[0] for e in emails]
    sms = FakeSender("sms", SendResult.give_up("no SMS template"))
    worker = make_worker(uows_of(app_client), {"sms": sms, "email": email_sender(smtp)})
    for e in emails:
        await app_client.put(f"{API}/notification-preferences/{e}",
                             json={"channels": {"*": ["sms"]}})
    await worker.run_once()
    dead = (await app_client.get(f"{API}/dead-letters", params={"channel": "sms"})).json()
    assert {d["order_number"] for d in dead} >= set(numbers)
    sms.result = SendResult.sent("OK", 200)
    r = await app_client.post(f"{API}/dead-letters/replay", json={"channel": "sms"})
    assert r.status_code == 202 and r.json()["replayed"] == len(dead)
    await worker.run_once()
    for number in numbers:
        [row] = await messages(app_client, number)
        assert row["status"] == "sent"
    assert (await app_client.get(f"{API}/dead-letters", params={"channel": "sms"})).json() == []


async def test_a_shipment_email_carries_the_tracking_link(app_client, smtp):
    email = email_address()
    number, _ = await place(app_client, email)
    for path, body in [("pay", {"payment_reference": "ALI-1"}), ("submit-review", None),
                       ("approve", None), ("allocate", None), ("pick", None), ("pack", None),
                       ("ship", {"carrier": "SF", "tracking_number": "SF7788"})]:
        await act(app_client, number, path, body)
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"email": sender})
    await worker.run_once()
    await sender.close()
    by_subject = {m.message["Subject"]: m for m in smtp.to(email)}  # sent side by side
    assert set(by_subject) == {f"Order {number} confirmed",
                               f"Payment received for order {number}",
                               f"Order {number} has shipped"}
    shipped = by_subject[f"Order {number} has shipped"]
    assert "waybill-detail/SF7788" in shipped.part("plain")
    reviewer = smtp.to("reviewer@shop.example")
    assert [m.message["Subject"] for m in reviewer] == [f"Review needed: order {number}"]


async def test_an_order_past_its_deadline_raises_exactly_one_alert(app_client, smtp,
                                                                   clock: Clock):
    # Paid at 17:00 on a Wednesday in Shanghai: review is due within one working hour.
    clock.now = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
    email = email_address()
    number, _ = await place(app_client, email)
    await act(app_client, number, "pay", {"payment_reference": "ALI-2"})
    await act(app_client, number, "submit-review")
    sender = email_sender(smtp)
    uows = uows_of(app_client)
    first, second = (make_worker(uows, {"email": sender}, owner=f"w{i}") for i in (1, 2))
    await first.run_once()
    sla = (await app_client.get(f"{API}/orders/{number}/sla")).json()
    assert sla["overdue"] is False
    assert {s["stage"]: s["state"] for s in sla["stages"]} == {"review": "ok", "ship": "ok"}

    clock.advance(minutes=50)  # 17:50: at risk
    ran = [await w.run_due_jobs() for w in (first, second)]
    assert ran[0].count("sla_scan") + ran[1].count("sla_scan") == 1  # once per tick
    clock.advance(minutes=11)  # 18:01: breached
    await first.run_once()
    clock.advance(minutes=1)
    await second.run_once()  # scans again: nothing new
    await first.run_once()
    await sender.close()

    alerts = (await app_client.get(f"{API}/alerts", params={"order": number})).json()
    assert sorted((a["stage"], a["kind"]) for a in alerts) == [("review", "at_risk"),
                                                              ("review", "breached")]
    sla = (await app_client.get(f"{API}/orders/{number}/sla")).json()
    assert sla["overdue"] is True
    review = next(s for s in sla["stages"] if s["stage"] == "review")
    assert review["overdue"] and review["deadline"].startswith("2026-11-11T10:00")
    staff = [m.message["Subject"] for m in smtp.to("reviewer@shop.example")]
    assert f"SLA at risk: Review of order {number}" in staff
    assert f"SLA breached: Review of order {number}" in staff
    assert [m.message["Subject"] for m in smtp.to("manager@shop.example")] == [
        f"SLA breached: Review of order {number}"]
    # review is not a stage the customer sees: no "delayed" message for it
    assert f"Order {number} is running late" not in [m.message["Subject"]
                                                    for m in smtp.to(email)]

    await act(app_client, number, "approve")
    await first.run_due_jobs()
    clock.advance(minutes=1)
    await first.run_due_jobs()
    open_alerts = (await app_client.get(f"{API}/alerts",
                                        params={"order": number, "open": True})).json()
    assert open_alerts == []
    r = await app_client.post(f"{API}/alerts/{alerts[0]['id']}/acknowledge")
    assert r.status_code == 204


async def test_a_late_shipment_tells_the_customer(app_client, smtp, clock: Clock):
    email = email_address()
    number, _ = await place(app_client, email)
    await act(app_client, number, "pay", {"payment_reference": "ALI-3"})
    for path in ("submit-review", "approve", "allocate"):
        await act(app_client, number, path)
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"email": sender})
    await worker.run_once()
    clock.advance(hours=24, minutes=1)
    await worker.run_once()
    await worker.run_once()
    await sender.close()
    assert smtp.to(email)[-1].message["Subject"] == f"Order {number} is running late"
    assert f"SLA breached: Shipping of order {number}" in [
        m.message["Subject"] for m in smtp.to("warehouse@shop.example")]


async def test_an_unpaid_order_times_out_releases_stock_and_tells_the_customer(
        app_client, smtp, clock: Clock):
    email = email_address()
    number, sku = await place(app_client, email, qty=3, stock=10)
    cod, _ = await place(app_client, email_address(), payment_method="cod")
    level = (await app_client.get(f"{API}/stock", params={"sku": sku})).json()[0]
    assert level["reserved"] == 3
    sender = email_sender(smtp)
    worker = make_worker(uows_of(app_client), {"email": sender}, payment_timeout_minutes=30)
    await worker.run_once()
    assert (await app_client.get(f"{API}/orders/{number}")).json()["status"] == \
        "pending_payment"
    clock.advance(minutes=31)
    await worker.run_once()
    await worker.run_once()
    await sender.close()
    order = (await app_client.get(f"{API}/orders/{number}")).json()
    assert order["status"] == "cancelled"
    level = (await app_client.get(f"{API}/stock", params={"sku": sku})).json()[0]
    assert level["reserved"] == 0 and level["on_hand"] == 10
    mails = smtp.to(email)
    assert mails[-1].message["Subject"] == f"Order {number} cancelled"
    assert "did not receive payment in time" in mails[-1].part("plain")
    assert (await app_client.get(f"{API}/orders/{cod}")).json()["status"] == "pending_payment"


async def test_delivered_orders_complete_after_the_configured_days(app_client, smtp,
                                                                   clock: Clock):
    number, _ = await place(app_client, email_address())
    for path, body in [("pay", {"payment_reference": "ALI-4"}), ("submit-review", None),
                       ("approve", None), ("allocate", None), ("pick", None), ("pack", None),
                       ("ship", {"carrier": "SF", "tracking_number": "SF1"}),
                       ("deliver", None)]:
        await act(app_client, number, path, body)
    worker = make_worker(uows_of(app_client), {"email": email_sender(smtp)},
                         auto_complete_days=7)
    clock.advance(days=6)
    await worker.run_once()
    assert (await app_client.get(f"{API}/orders/{number}")).json()["status"] == "delivered"
    clock.advance(days=1, minutes=11)
    await worker.run_once()
    assert (await app_client.get(f"{API}/orders/{number}")).json()["status"] == "completed"


async def test_serve_runs_a_worker_in_process_when_settings_say_so(settings: Settings,
                                                                   clock: Clock, smtp):
    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR
    from dingdan.web.app import create_app
    from dingdan.workers.process import in_process_worker

    on = settings.model_copy(update={
        "run_worker_in_process": True, "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
        "smtp_tls": "none", "worker_poll_seconds": 0.05,
        "vapid_key_file": Path("/nonexistent/vapid.pem")})
    assert not settings.worker_in_process and on.worker_in_process
    app = create_app(on, clock, background=[in_process_worker(on)])
    email = email_address()
    async with LifespanManager(app) as manager:
        issued = await issue_token("t", app.state.uow(), roles=["admin"], actor=OPERATOR)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app),
                                     base_url="http://dingdan.test",
                                     headers={"Authorization": f"Bearer {issued.token}"}) as c:
            number, _ = await place(c, email)
            await wait_until(lambda: len(smtp.to(email)) == 1, within=10,
                             what="the in-process worker to send the confirmation")
    assert smtp.to(email)[0].message["Subject"] == f"Order {number} confirmed"
