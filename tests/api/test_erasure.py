"""Erasure on request (PIPL; issue 16, item 4): a customer's personal data leaves every table
that copied it — the order, its timeline, the outbox, the delivery log, preferences — and the
order's facts stay. The audit log is append-only and not rewritten (docs/security.md)."""

from __future__ import annotations

from typing import Any

import httpx
from api_support import assert_problem, db_state, mobile, walk
from sqlalchemy import select

from conftest import ref
from dingdan.store.engine import READ_ONLY
from dingdan.store.tables import metadata
from helpers import order_body, seed_catalogue

URL = "/api/v1/privacy/anonymise"


def person() -> dict[str, Any]:
    """A customer whose every value is unique to this test, so a leftover is findable."""
    tag = ref("P").lower()
    phone = mobile()
    return {"name": f"欧阳{tag}", "phone": phone, "email": f"{tag}@example.com",
            "street": f"建国路 {tag} 号", "recipient": f"收件人{tag}", "postcode": "100022",
            "company": f"公司{tag}"}


def body_for(p: dict[str, Any], sku: str) -> dict[str, Any]:
    return order_body([(sku, 1)], customer={"name": p["name"], "phone": p["phone"],
                                            "email": p["email"], "company": p["company"]},
                      shipping_address={"recipient": p["recipient"], "phone": p["phone"],
                                        "province": "北京市", "city": "北京市",
                                        "district": "朝阳区", "street": p["street"],
                                        "postcode": p["postcode"]},
                      notes=f"请致电 {p['phone']} 再送")


async def leftovers(client: httpx.AsyncClient, values: list[str]) -> list[str]:
    """Tables (other than the append-only audit log) where any of ``values`` still is."""
    engine = client.app.state.uow.engine  # type: ignore[attr-defined]
    found = []
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{READ_ONLY: True})
        for t in metadata.sorted_tables:
            if t.name == "audit_log":
                continue
            for row in await conn.execute(select(t)):
                text = repr(tuple(row))
                found += [f"{t.name}: {v}" for v in values if v in text]
        await conn.rollback()
    return found


async def test_anonymising_erases_the_person_everywhere_and_keeps_the_facts(
        app_client: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sku = cat["skus"]["A"]
    p, other = person(), person()
    r = await app_client.post("/api/v1/orders", json=body_for(p, sku))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    # An address change before picking: the timeline keeps before and after.
    moved = dict(body_for(p, sku)["shipping_address"], street=p["street"] + " B 座")
    r = await app_client.put(f"/api/v1/orders/{number}/shipping-address",
                             json={"shipping_address": moved, "reason": "客户来电"})
    assert r.status_code == 200, r.text
    assert (await app_client.post(f"/api/v1/orders/{number}/notes",
                                  json={"note": f"{p['name']} 要求周末送货"})).status_code == 201
    before = await walk(app_client, number, "completed")
    r = await app_client.post("/api/v1/orders", json=body_for(other, sku))
    kept_number = r.json()["number"]
    values = [p["name"], p["email"], p["phone"], p["street"], p["recipient"], p["company"]]
    assert await leftovers(app_client, values)  # the values are there to be found

    r = await app_client.post(URL, json={"phone": p["phone"], "reason": "客户来函 #2026-118"})
    assert r.status_code == 200, r.text
    assert r.json()["orders"] == [number]

    assert await leftovers(app_client, values) == []
    after = (await app_client.get(f"/api/v1/orders/{number}")).json()
    for fact in ("status", "amounts", "placed_at", "payment_status", "tracking_number"):
        assert after[fact] == before[fact], fact
    assert [(li["sku"], li["quantity"]) for li in after["lines"]] == [(sku, 1)]
    assert (after["shipping_address"]["province"], after["shipping_address"]["city"],
            after["shipping_address"]["district"]) == ("北京市", "北京市", "朝阳区")
    assert after["customer"]["phone"] is None and after["customer"]["email"] is None
    timeline = (await app_client.get(f"/api/v1/orders/{number}/events")).json()
    assert timeline[-1]["type"] == "order.anonymised"
    # Someone else's order is untouched.
    kept = (await app_client.get(f"/api/v1/orders/{kept_number}")).json()
    assert kept["customer"]["name"] == other["name"]
    assert await leftovers(app_client, [other["street"], other["email"]])
    # The audit row names the orders, not the person.
    audit = (await app_client.get("/api/v1/audit", params={"action": "customer.anonymise"}))
    row = next(a for a in audit.json()["items"] if number in a["after"]["orders"])
    assert p["phone"] not in repr(row) and row["object_id"] == r.json()["contact_digest"]


async def test_an_open_order_refuses_erasure_and_nothing_changes(
        app_client: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    p = person()
    done = (await app_client.post("/api/v1/orders", json=body_for(p, cat["skus"]["A"]))).json()
    await walk(app_client, done["number"], "completed")
    still = (await app_client.post("/api/v1/orders", json=body_for(p, cat["skus"]["A"]))).json()
    snapshot = await db_state(app_client)
    r = await app_client.post(URL, json={"email": p["email"].upper(), "reason": "客户申请"})
    body = assert_problem(r, 409, "CUSTOMER_HAS_OPEN_ORDERS")
    assert still["number"] in body["detail"]
    assert await db_state(app_client) == snapshot


async def test_bad_requests_are_refused(app_client: httpx.AsyncClient) -> None:
    snapshot = await db_state(app_client)
    assert_problem(await app_client.post(URL, json={"reason": "x"}), 422, "VALIDATION_FAILED")
    assert_problem(await app_client.post(URL, json={"phone": "12", "reason": "x"}), 422,
                   "VALIDATION_FAILED")
    assert_problem(await app_client.post(URL, json={"phone": mobile()}), 422,
                   "VALIDATION_FAILED")
    assert_problem(await app_client.post(URL, json={"phone": mobile(), "reason": "申请"}), 404,
                   "NOT_FOUND")
    assert await db_state(app_client) == snapshot


def test_the_command_erases_and_refuses_like_the_api(tmp_path, sqlite_template, monkeypatch):
    import asyncio

    from typer.testing import CliRunner

    from dingdan.cli import app
    from dingdan.store.engine import make_engine
    from dingdan.store.uow import UnitOfWorkFactory
    from people_support import World

    db = tmp_path / "live.db"
    db.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite+aiosqlite:///{db}"
    phone = mobile()

    async def make_order() -> str:
        engine = make_engine(url)
        try:
            world = await World.create(UnitOfWorkFactory(engine))
            return await world.completed_for(phone)
        finally:
            await engine.dispose()

    number = asyncio.run(make_order())
    monkeypatch.setenv("DINGDAN_DATABASE_URL", url)
    runner = CliRunner()
    refused = runner.invoke(app, ["anonymise", "--phone", phone])
    assert refused.exit_code == 2 and "--reason" in refused.output  # typer: required option
    unknown = runner.invoke(app, ["anonymise", "--phone", mobile(), "--reason", "申请"])
    assert unknown.exit_code == 1 and "NOT_FOUND" in unknown.output
    done = runner.invoke(app, ["anonymise", "--phone", phone, "--reason", "客户来函"])
    assert done.exit_code == 0, done.output
    assert number in done.output
    again = runner.invoke(app, ["anonymise", "--phone", phone, "--reason", "客户来函"])
    assert again.exit_code == 1 and "NOT_FOUND" in again.output  # nobody is left to find
