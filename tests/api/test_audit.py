"""The audit log: every change through the API is on the record (one test walks every
changing endpoint), with who, which roles, when, from which address and client, what, before
and after; it can be filtered and paged; and nothing can change or delete it."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from endpoints import API, ENDPOINTS, NOT_AUDITED, PUBLIC, Ctx
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from conftest import ref
from dingdan.store.audit import AuditRepo
from dingdan.store.tables_people import audit_log
from helpers import order_body, seed_catalogue

CHANGING = ("POST", "PUT", "PATCH", "DELETE")


async def _last_id(client: httpx.AsyncClient) -> int:
    async with client.app.state.uow(read_only=True) as uow:  # type: ignore[attr-defined]
        return int((await uow.conn.execute(select(func.coalesce(func.max(audit_log.c.id), 0))))
                   .scalar_one())


async def _rows_after(client: httpx.AsyncClient, last_id: int) -> list[dict[str, Any]]:
    async with client.app.state.uow(read_only=True) as uow:  # type: ignore[attr-defined]
        rows = await uow.conn.execute(select(audit_log).where(audit_log.c.id > last_id)
                                      .order_by(audit_log.c.id))
        return [dict(r._mapping) for r in rows]


def test_every_changing_endpoint_says_what_it_records() -> None:
    for ep in ENDPOINTS:
        if ep.method in CHANGING:
            assert ep.audit or ep.name in NOT_AUDITED, f"{ep.name}: which audit action?"


async def test_every_change_through_the_api_leaves_an_audit_row(app_client) -> None:
    """Walks every changing endpoint once, as the admin token: each success adds an audit
    row saying who (token and roles), from where, with what client, on which object."""
    ctx = await Ctx.create(app_client)
    try:
        missing = await _walk(app_client, ctx)
    finally:
        await ctx.close()
    assert not missing, "changes without an audit row:\n" + "\n".join(missing)


async def _walk(app_client: httpx.AsyncClient, ctx: Ctx) -> list[str]:
    missing: list[str] = []
    for ep in ENDPOINTS:
        if ep.method not in CHANGING or ep.name in NOT_AUDITED:
            continue
        call = await ep.make(ctx)
        before = await _last_id(app_client)
        r = await app_client.request(ep.method, call.url, json=call.json, params=call.params,
                                     files=call.files, data=call.data,
                                     content=call.content,
                                     headers={"User-Agent": "audit-walk/1.0"})
        assert r.status_code < 300, f"{ep.name}: {r.status_code} {r.text[:300]}"
        # the portal's calls are the customer's (proven by the order's contact), not the token's
        customer = ep.name in PUBLIC
        rows = [row for row in await _rows_after(app_client, before)
                if row["action"] == ep.audit and (row["actor"] == "token:tests" or (
                    customer and row["actor_kind"] == "customer"))]
        if not rows:
            missing.append(ep.name)
            continue
        row = rows[-1]
        if customer:
            assert row["roles"] == [] and row["source"] == "portal", ep.name
        else:
            assert row["roles"] == ["admin"], ep.name
            assert row["actor_kind"] == "token" and row["source"] == "api", ep.name
        assert row["ip"] == "127.0.0.1", ep.name
        assert row["client"] == "audit-walk/1.0", ep.name
        assert row["object_type"] and row["object_id"], ep.name
        assert row["at"] == ctx.uows.clock(), ep.name
        if ep.cleanup:
            await ep.cleanup(ctx, call, r)
    return missing


async def test_an_audit_row_has_the_before_and_the_after(app_client) -> None:
    cat = await seed_catalogue(app_client)
    sku = cat["skus"]["A"]
    r = await app_client.patch(f"{API}/products/{sku}", json={"price": 1234})
    assert r.status_code == 200
    page = (await app_client.get(f"{API}/audit", params={
        "object_type": "product", "object_id": sku})).json()
    assert [i["action"] for i in page["items"]] == ["product.update", "product.create"]
    assert page["items"][0]["before"] == {"price": 1000}
    assert page["items"][0]["after"] == {"price": 1234}

    r = await app_client.post(f"{API}/orders", json=order_body([(sku, 2)]))
    number = r.json()["number"]
    await app_client.post(f"{API}/orders/{number}/pay", json={"payment_reference": "ALI-9"})
    pay = (await app_client.get(f"{API}/audit", params={"action": "order.pay",
                                                         "object_id": number})).json()["items"]
    assert pay[0]["before"]["status"] == "pending_payment"
    assert pay[0]["after"]["status"] == "paid"
    assert pay[0]["after"]["payment_reference"] == "ALI-9"


async def test_the_audit_log_filters_by_person_object_action_and_time(app_client, role_client,
                                                                      clock) -> None:
    cat = await seed_catalogue(app_client)
    sku = cat["skus"]["A"]
    start = clock()
    finance = await role_client("finance")
    r = await app_client.post(f"{API}/orders", json=order_body([(sku, 1)]))
    number = r.json()["number"]
    clock.advance(minutes=5)
    r = await finance.post(f"{API}/orders/{number}/pay", json={"payment_reference": "P-1"})
    assert r.status_code == 200, r.text
    me = (await finance.get(f"{API}/me")).json()

    by_finance = (await app_client.get(f"{API}/audit", params={
        "by": f"token:{me['name']}"})).json()["items"]
    assert [i["action"] for i in by_finance] == ["order.pay"]
    assert by_finance[0]["roles"] == ["finance"]
    on_order = (await app_client.get(f"{API}/audit", params={
        "object_type": "order", "object_id": number})).json()["items"]
    assert [i["action"] for i in on_order] == ["order.pay", "order.place"]
    orders_only = (await app_client.get(f"{API}/audit", params={
        "action": "order.", "object_id": number})).json()["items"]
    assert len(orders_only) == 2
    late = (await app_client.get(f"{API}/audit", params={
        "object_id": number, "at_from": (start + timedelta(minutes=1)).isoformat()})).json()
    assert [i["action"] for i in late["items"]] == ["order.pay"]
    early = (await app_client.get(f"{API}/audit", params={
        "object_id": number, "at_to": (start + timedelta(minutes=1)).isoformat()})).json()
    assert [i["action"] for i in early["items"]] == ["order.place"]


async def test_the_audit_log_pages_with_a_cursor(app_client) -> None:
    cat = await seed_catalogue(app_client)
    sku = cat["skus"]["A"]
    for price in range(1, 6):
        await app_client.patch(f"{API}/products/{sku}", json={"price": price})
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"object_id": sku, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await app_client.get(f"{API}/audit", params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)  # create + 5 updates
    r = await app_client.get(f"{API}/audit", params={"cursor": "not-ours"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "invalid_cursor"


async def test_a_person_is_found_whether_signed_in_or_through_their_token(app_client,
                                                                         role_client) -> None:
    cat = await seed_catalogue(app_client, warehouses=(("SH", 10),))
    staff = await role_client("warehouse", warehouses=[cat["warehouses"]["SH"]])
    r = await staff.post(f"{API}/stock/receipts", json={
        "sku": cat["skus"]["A"], "warehouse": cat["warehouses"]["SH"], "quantity": 3,
        "reason": "delivery"})
    assert r.status_code == 201, r.text
    token_user = (await app_client.get(f"{API}/tokens")).json()[0]["user_id"]
    items = (await app_client.get(f"{API}/audit", params={"user_id": token_user})).json()
    assert [i["action"] for i in items["items"]] == ["stock.receipt"]


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(settings,
                                                                         clock) -> None:
    from dingdan.services.tokens import issue_token
    from dingdan.services.users import OPERATOR
    from dingdan.web.app import create_app

    for trusted, expected in (([], "127.0.0.1"), (["127.0.0.1"], "198.51.100.23")):
        app = create_app(settings.model_copy(update={"trusted_proxies": trusted}), clock)
        async with LifespanManager(app):
            issued = await issue_token("proxy", app.state.uow(), roles=["admin"],
                                       actor=OPERATOR)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://dingdan.test") as c:
                c.app = app  # type: ignore[attr-defined]
                last = await _last_id(c)
                r = await c.post(f"{API}/warehouses", json={
                    "code": ref("W"), "name": "仓", "region": "上海"}, headers={
                    "Authorization": f"Bearer {issued.token}",
                    "X-Forwarded-For": "198.51.100.23, 127.0.0.1"})
                assert r.status_code == 201
                rows = await _rows_after(c, last)
        assert rows[-1]["ip"] == expected


# --- append-only ----------------------------------------------------------------------------

def test_no_code_path_edits_or_deletes_audit_rows() -> None:
    methods = {name for name, _ in inspect.getmembers(AuditRepo, inspect.isfunction)
               if not name.startswith("_")}
    assert methods == {"record", "page"}
    src = Path(__file__).resolve().parents[2] / "src" / "dingdan"
    pattern = re.compile(r"(update|delete)\(\s*audit_log|audit_log\.(update|delete)\(")
    offenders = [str(p) for p in src.rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert offenders == []


@pytest.mark.parametrize("statement", ["update", "delete"])
async def test_the_database_refuses_to_change_the_audit_log(app_client, statement) -> None:
    await seed_catalogue(app_client)
    uows = app_client.app.state.uow
    async with uows() as uow:
        row_id = (await uow.conn.execute(select(func.max(audit_log.c.id)))).scalar_one()
    sql = (update(audit_log).where(audit_log.c.id == row_id).values(action="forged")
           if statement == "update" else delete(audit_log).where(audit_log.c.id == row_id))
    async with uows() as uow:
        with pytest.raises(DBAPIError, match="append-only"):
            await uow.conn.execute(sql)
    async with uows() as uow:
        with pytest.raises(DBAPIError, match="append-only"):
            await uow.conn.execute(text("DELETE FROM audit_log"))
