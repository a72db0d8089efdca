"""The auto-review through the API: a clean paid order is approved with nobody touching it,
a risky one waits in the queue with its reason, cash-on-delivery orders are reviewed when
placed, the trace is kept on the order, and the rule set is data a manager publishes."""

from __future__ import annotations

from typing import Any

import httpx
from api_support import assert_problem, db_state, refused

from conftest import ref
from helpers import order_body, seed_catalogue
from review_support import (  # noqa: F401  (fixtures)
    db_url,
    own_pg_url,
    publish,
    review_pg_template,
)

API = "/api/v1"


async def _place(client: httpx.AsyncClient, sku: str, qty: int = 1, **extra: Any) -> str:
    r = await client.post(f"{API}/orders", json=order_body([(sku, qty)], external_id=ref("E"),
                                                           **extra))
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    return number


async def _pay(client: httpx.AsyncClient, number: str) -> dict[str, Any]:
    r = await client.post(f"{API}/orders/{number}/pay", json={"payment_reference": ref("PAY")})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _customer(phone: str | None = None, email: str | None = None) -> dict[str, Any]:
    return {"name": "王芳", "phone": phone or f"139{ref('')[-8:].translate(_DIGITS)}",
            "email": email or f"{ref().lower()}@example.com"}


_DIGITS = str.maketrans("ABCDEF-", "0123456")


async def test_without_a_published_rule_set_a_paid_order_waits_as_before(app_client):
    cat = await seed_catalogue(app_client)
    number = await _place(app_client, cat["skus"]["A"])
    assert (await _pay(app_client, number))["status"] == "paid"
    assert (await app_client.get(f"{API}/orders/{number}/review")).json() == []
    rules = (await app_client.get(f"{API}/review/rules")).json()
    assert rules["version"] == 0 and rules["enabled"] is False and rules["rules"]


async def test_a_clean_paid_order_is_approved_by_the_rules_with_its_trace(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    number = await _place(app_client, cat["skus"]["A"], customer=_customer())
    order = await _pay(app_client, number)
    assert order["status"] == "approved"
    events = (await app_client.get(f"{API}/orders/{number}/events")).json()
    tail = [(e["type"], e["actor"]) for e in events][-3:]
    assert tail == [("order.paid", "token:tests"),
                    ("order.submitted_for_review", "system:review-rules"),
                    ("order.approved", "system:review-rules")]
    runs = (await app_client.get(f"{API}/orders/{number}/review")).json()
    assert len(runs) == 1 and runs[0]["approved"] is True
    assert {t["rule"] for t in runs[0]["trace"]} >= {"blocked_customer", "address_unclear"}
    assert not any(t["held"] for t in runs[0]["trace"])
    assert runs[0]["facts"]["address.confidence"] == 100


async def test_a_risky_paid_order_waits_in_review_with_its_reason(app_client):
    cat = await seed_catalogue(app_client, price=300_000)  # ¥3,000 from a new customer
    await publish(app_client)
    number = await _place(app_client, cat["skus"]["A"], customer=_customer())
    assert (await _pay(app_client, number))["status"] == "pending_review"
    runs = (await app_client.get(f"{API}/orders/{number}/review")).json()
    held = [t for t in runs[0]["trace"] if t["held"]]
    assert [t["rule"] for t in held] == ["large_order_untrusted"]
    assert held[0]["detail"].startswith("order.total 300000 > 200000")
    events = (await app_client.get(f"{API}/orders/{number}/events")).json()
    assert events[-1]["type"] == "order.submitted_for_review"
    assert events[-1]["reason"].startswith("rules v1: held: large_order_untrusted")
    # the reviewer approves it from the queue, in bulk
    r = await app_client.post(f"{API}/review/approve", json={"numbers": [number, "DDNOPE"]})
    assert r.status_code == 200, r.text
    assert r.json() == [{"number": number, "ok": True, "code": None},
                        {"number": "DDNOPE", "ok": False, "code": "NOT_FOUND"}]
    assert (await app_client.get(f"{API}/orders/{number}")).json()["status"] == "approved"


async def test_an_address_outside_the_divisions_is_held_for_its_address(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    body = order_body([(cat["skus"]["A"], 1)], external_id=ref("E"), customer=_customer())
    body["shipping_address"].update(province="火星省", city="火星市", district="奥林匹斯区")
    r = await app_client.post(f"{API}/orders", json=body)
    number = r.json()["number"]
    assert (await _pay(app_client, number))["status"] == "pending_review"
    run = (await app_client.get(f"{API}/orders/{number}/review")).json()[0]
    assert [t["rule"] for t in run["trace"] if t["held"]] == ["address_unclear"]
    assert run["findings"] == ["address.unknown_province"]


async def test_a_cod_order_is_reviewed_when_placed(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    number = await _place(app_client, cat["skus"]["A"], payment_method="cod",
                          customer=_customer())
    order = (await app_client.get(f"{API}/orders/{number}")).json()
    assert (order["status"], order["payment_status"]) == ("approved", "unpaid")


async def test_a_blocked_customer_is_held_and_their_orders_are_linked(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    who = _customer()
    first = await _place(app_client, cat["skus"]["A"], customer=who)
    customers = (await app_client.get(f"{API}/customers", params={"q": who["email"]})).json()
    assert len(customers) == 1
    cid = customers[0]["id"]
    r = await app_client.patch(f"{API}/customers/{cid}", json={
        "blocked": True, "blocked_reason": "chargebacks", "expected_version": 1})
    assert r.status_code == 200, r.text
    # same person, phone written differently: matched to the same record
    again = {**who, "phone": "+86 " + who["phone"], "email": None}
    second = await _place(app_client, cat["skus"]["A"], 3, customer=again)
    assert (await _pay(app_client, second))["status"] == "pending_review"
    run = (await app_client.get(f"{API}/orders/{second}/review")).json()[0]
    assert [t["rule"] for t in run["trace"] if t["held"]] == ["blocked_customer"]
    detail = (await app_client.get(f"{API}/customers/{cid}")).json()
    assert {o["number"] for o in detail["orders"]} == {first, second}
    assert detail["history"]["orders"] == 2 and detail["history"]["paid_orders"] == 1
    assert detail["blocked_reason"] == "chargebacks"


async def test_a_second_identical_order_within_a_day_is_held_as_a_duplicate(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    who = _customer()
    first = await _place(app_client, cat["skus"]["A"], 2, customer=who)
    assert (await _pay(app_client, first))["status"] == "approved"
    second = await _place(app_client, cat["skus"]["A"], 2, customer=who)
    assert (await _pay(app_client, second))["status"] == "pending_review"
    run = (await app_client.get(f"{API}/orders/{second}/review")).json()[0]
    assert [t["rule"] for t in run["trace"] if t["held"]] == ["possible_duplicate"]


async def test_credit_terms_are_held_past_the_limit(app_client):
    cat = await seed_catalogue(app_client, price=40_000)
    await publish(app_client)
    who = _customer()
    first = await _place(app_client, cat["skus"]["A"], payment_method="bank_transfer",
                         customer=who)
    cid = (await app_client.get(f"{API}/customers", params={"q": who["email"]})).json()[0]["id"]
    await app_client.patch(f"{API}/customers/{cid}", json={"credit_limit": 50_000,
                                                           "tier": "trusted"})
    r = await app_client.post(f"{API}/orders/{first}/submit-review")
    assert r.status_code == 409  # only COD is reviewed unpaid: the credit rule reads exposure
    # a COD order on top of the open bank transfer: 40,000 + 80,000 > 50,000
    second = await _place(app_client, cat["skus"]["A"], 2, payment_method="cod", customer=who)
    order = (await app_client.get(f"{API}/orders/{second}")).json()
    assert order["status"] == "pending_review"
    run = (await app_client.get(f"{API}/orders/{second}/review")).json()[0]
    assert [t["rule"] for t in run["trace"] if t["held"]] == ["credit_limit"]
    assert run["facts"]["customer.open_exposure"] == 120_000


async def test_publishing_rules_is_versioned_and_audited(app_client):
    first = await publish(app_client)
    assert first["version"] == 1 and first["enabled"] is True
    mine = [{"code": "big", "reason_type": "other", "when": ["order.total > 100"]}]
    second = await publish(app_client, mine)
    assert second["version"] == 2 and [r["code"] for r in second["rules"]] == ["big"]
    assert [v["version"] for v in second["versions"]] == [2, 1]
    audit = (await app_client.get(f"{API}/audit", params={"action": "review_rules.publish"})
             ).json()
    assert audit["items"][0]["after"]["version"] == 2


async def test_two_editors_of_one_version_the_second_is_refused(app_client):
    await publish(app_client)
    body = {"rules": [{"code": "a", "reason_type": "other", "when": ["order.total > 1"]}],
            "enabled": True, "expected_version": 1}
    assert (await app_client.put(f"{API}/review/rules", json=body)).status_code == 200
    await refused(app_client, "PUT", f"{API}/review/rules", 409, "VERSION_CONFLICT", json=body)


async def test_a_rule_that_does_not_parse_is_refused_and_changes_nothing(app_client):
    for when, code in ((["order.weight > 5"], "unknown_field"),
                       (["order.total > lots"], "bad_value"),
                       (["nonsense"], "unparsable")):
        body = await refused(app_client, "PUT", f"{API}/review/rules", 422, "VALIDATION_FAILED",
                             json={"rules": [{"code": "x", "reason_type": "other",
                                              "when": when}],
                                   "enabled": True, "expected_version": 0})
        assert [(e["loc"], e["code"]) for e in body["errors"]] == [("rules.0.when.0", code)]


async def test_bad_customer_edits_are_refused_and_change_nothing(app_client):
    cat = await seed_catalogue(app_client)
    who = _customer()
    await _place(app_client, cat["skus"]["A"], customer=who)
    cid = (await app_client.get(f"{API}/customers", params={"q": who["email"]})).json()[0]["id"]
    url = f"{API}/customers/{cid}"
    await refused(app_client, "PATCH", url, 422, "VALIDATION_FAILED", json={"credit_limit": -1})
    await refused(app_client, "PATCH", url, 422, "VALIDATION_FAILED", json={"tier": "gold"})
    body = await refused(app_client, "PATCH", url, 422, "VALIDATION_FAILED",
                         json={"blocked": True})
    assert body["errors"][0]["loc"] == "blocked_reason"
    await refused(app_client, "PATCH", url, 409, "VERSION_CONFLICT",
                  json={"notes": "x", "expected_version": 7})
    await refused(app_client, "PATCH", f"{API}/customers/999999999", 404, "NOT_FOUND",
                  json={"notes": "x"})


async def test_merging_two_records_keeps_every_order(app_client):
    cat = await seed_catalogue(app_client)
    a, b = _customer(), _customer()
    one = await _place(app_client, cat["skus"]["A"], customer=a)
    two = await _place(app_client, cat["skus"]["A"], customer=b)
    ida = (await app_client.get(f"{API}/customers", params={"q": a["email"]})).json()[0]["id"]
    idb = (await app_client.get(f"{API}/customers", params={"q": b["email"]})).json()[0]["id"]
    r = await app_client.post(f"{API}/customers/{ida}/merge", json={"from_customer": idb})
    assert r.status_code == 200, r.text
    assert {o["number"] for o in r.json()["orders"]} == {one, two}
    assert {c["value"] for c in r.json()["contacts"]} >= {a["email"], b["email"]}
    # a new order with b's contact lands on the record that lives on
    three = await _place(app_client, cat["skus"]["A"], customer=b)
    after = (await app_client.get(f"{API}/customers/{ida}")).json()
    assert {o["number"] for o in after["orders"]} == {one, two, three}
    assert_problem(await app_client.post(f"{API}/customers/{ida}/merge",
                                         json={"from_customer": idb}), 404, "NOT_FOUND")


async def test_people_without_pii_read_see_customers_masked(app_client, role_client):
    cat = await seed_catalogue(app_client)
    who = _customer()
    await _place(app_client, cat["skus"]["A"], customer=who)
    cid = (await app_client.get(f"{API}/customers", params={"q": who["email"]})).json()[0]["id"]
    finance = await role_client("finance")
    seen = (await finance.get(f"{API}/customers/{cid}")).json()
    assert seen["phone"] == who["phone"][:3] + "****" + who["phone"][-4:]
    assert seen["email"].startswith(who["email"][0] + "***@")
    assert who["email"] not in str(seen)


async def test_a_reviewer_runs_the_rules_over_an_order_paid_while_they_were_off(app_client):
    cat = await seed_catalogue(app_client)
    number = await _place(app_client, cat["skus"]["A"], customer=_customer())
    assert (await _pay(app_client, number))["status"] == "paid"
    r = await app_client.post(f"{API}/orders/{number}/run-rules")
    assert r.status_code == 200, r.text
    assert r.json() == {"number": number, "status": "approved"}
    run = (await app_client.get(f"{API}/orders/{number}/review")).json()[0]
    assert run["rule_set_version"] == 0 and run["approved"] is True  # the shipped default
    await refused(app_client, "POST", f"{API}/orders/{number}/run-rules", 409,
                  "ILLEGAL_TRANSITION")


async def test_a_dry_run_shows_what_a_rule_set_would_have_changed(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    small = await _place(app_client, cat["skus"]["A"], customer=_customer())
    big = await _place(app_client, cat["skus"]["A"], 5, customer=_customer())
    for number in (small, big):
        assert (await _pay(app_client, number))["status"] == "approved"
    stricter = [{"code": "over_30", "reason_type": "other", "when": ["order.total > 3000"]}]
    before = await db_state(app_client)
    r = await app_client.post(f"{API}/review/dry-run", json={"rules": stricter, "days": 7})
    assert r.status_code == 200, r.text
    assert await db_state(app_client) == before
    body = r.json()
    assert (body["orders"], body["would_approve"], body["would_hold"], body["changed"]) == \
        (2, 1, 1, 1)
    assert body["examples"] == [{"number": big, "was_approved": True, "approved": False,
                                 "summary": "held: over_30 (order.total 5000 > 3000)"}]
    bad = await refused(app_client, "POST", f"{API}/review/dry-run", 422, "VALIDATION_FAILED",
                        json={"rules": [{"code": "x", "reason_type": "other",
                                         "when": ["order.weight > 1"]}]})
    assert bad["errors"][0]["code"] == "unknown_field"


async def test_a_cod_order_ends_paid_when_delivered(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    number = await _place(app_client, cat["skus"]["A"], payment_method="cod",
                          customer=_customer())
    for step, body in (("allocate", None), ("pick", None), ("pack", None),
                       ("ship", {"carrier": "SF", "tracking_number": ref("SF")}),
                       ("deliver", None)):
        r = await app_client.post(f"{API}/orders/{number}/{step}", json=body)
        assert r.status_code == 200, (step, r.text)
    order = r.json()
    assert (order["status"], order["payment_status"]) == ("delivered", "paid")
    assert order["paid_at"] == order["delivered_at"]


async def test_a_blocklisted_phone_email_or_address_holds_the_order(app_client):
    cat = await seed_catalogue(app_client)
    await publish(app_client)
    url = f"{API}/review/blocklist"
    r = await app_client.post(url, json={"kind": "address", "value": "浦东新区 世纪大道 100 号",
                                         "reason": "多次拒收"})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["value"] == "浦东新区世纪大道100号"
    number = await _place(app_client, cat["skus"]["A"], customer=_customer())
    assert (await _pay(app_client, number))["status"] == "pending_review"
    run = (await app_client.get(f"{API}/orders/{number}/review")).json()[0]
    assert [t["rule"] for t in run["trace"] if t["held"]] == ["blocklisted_contact"]
    assert "blocklist.address" in run["findings"]
    await refused(app_client, "POST", url, 409, "ALREADY_EXISTS",
                  json={"kind": "address", "value": "浦东新区世纪大道100号", "reason": "again"})
    for kind, value, loc, code in (("ip", "10.0.0.1", "kind", "out_of_range"),
                                   ("phone", "call me", "value", "invalid_phone"),
                                   ("email", "nobody", "value", "invalid_email")):
        body = await refused(app_client, "POST", url, 422, "VALIDATION_FAILED",
                             json={"kind": kind, "value": value, "reason": "x"})
        assert [(e["loc"], e["code"]) for e in body["errors"]] == [(loc, code)]
    assert (await app_client.delete(f"{url}/{entry['id']}")).status_code == 204
    await refused(app_client, "DELETE", f"{url}/{entry['id']}", 404, "NOT_FOUND")


async def test_a_stored_rule_set_that_no_longer_parses_holds_the_order(app_client):
    from sqlalchemy import update

    from dingdan.store.tables_review import review_rule_sets

    cat = await seed_catalogue(app_client)
    await publish(app_client)
    async with app_client.app.state.uow() as uow:  # a field that is gone since it was saved
        await uow.conn.execute(update(review_rule_sets).values(rules=[
            {"code": "old", "reason_type": "other", "when": ["order.weight > 5"]}]))
        await uow.commit()
    number = await _place(app_client, cat["skus"]["A"], customer=_customer())
    assert (await _pay(app_client, number))["status"] == "pending_review"
    run = (await app_client.get(f"{API}/orders/{number}/review")).json()[0]
    assert run["approved"] is False
    assert run["trace"][0]["reason_type"] == "rule_error" and run["trace"][0]["error"]
