"""Back-office pages of issue 9: the review queue with the rules' typed reasons and bulk
approval, an order's rule trace, the customer page and its edits, the rule editor."""

from __future__ import annotations

from helpers import order_body
from review_support import (  # noqa: F401  (fixtures)
    db_url,
    own_pg_url,
    publish,
    review_pg_template,
)
from web.conftest import walk

HX = {"HX-Request": "true"}


async def _place(admin, sku, qty=1, **extra):
    r = await admin.post("/api/v1/orders", json=order_body([(sku, qty)], **extra))
    assert r.status_code == 201, r.text
    return r.json()["number"]


async def test_the_queue_shows_the_rules_reasons_and_approves_in_bulk(office, admin,
                                                                     catalogue):
    await publish(admin)
    sku = catalogue["skus"]["A"]
    held = []
    for qty in (3, 4):  # to an address the divisions do not know
        body_extra = {"shipping_address": {
            "recipient": "张伟", "phone": "13800138000", "province": "火星省", "city": "火星市",
            "district": "奥林匹斯区", "street": "1 号", "postcode": "200120"}}
        number = await _place(admin, sku, qty, **body_extra)
        await walk(admin, number, "pay")
        held.append(number)
    reviewer = await office.client("reviewer")
    page = (await reviewer.get("/review")).text
    for number in held:
        row = page[page.index(f'data-number="{number}"'):]
        row = row[:row.index("</tr>")]
        assert "Address" in row and "address_unclear" in row and "address.confidence 0" in row
    r = await reviewer.post("/review/bulk-approve", data={"numbers": held}, headers=HX)
    assert r.status_code == 200, r.text
    assert all(n not in r.text for n in held)
    for number in held:
        assert (await admin.get(f"/api/v1/orders/{number}")).json()["status"] == "approved"


async def test_paid_orders_not_yet_reviewed_have_a_tab_of_their_own(office, admin, catalogue):
    number = await _place(admin, catalogue["skus"]["A"])
    await walk(admin, number, "pay")  # no rule set published: it waits
    reviewer = await office.client("reviewer")
    page = (await reviewer.get("/review", params={"status": "paid"})).text
    assert f'data-number="{number}"' in page
    r = await reviewer.post(f"/review/{number}/submit_review?status=paid", headers=HX)
    assert r.status_code == 200 and f'data-number="{number}"' not in r.text
    # another one the rules look at on the reviewer's word (they are off): approved
    other = await _place(admin, catalogue["skus"]["A"], 2)
    await walk(admin, other, "pay")
    page = (await reviewer.get("/review", params={"status": "paid"})).text
    assert f'data-testid="run-rules-{other}"' in page
    r = await reviewer.post(f"/review/{other}/run-rules?status=paid", headers=HX)
    assert r.status_code == 200 and f'data-number="{other}"' not in r.text
    assert (await admin.get(f"/api/v1/orders/{other}")).json()["status"] == "approved"


async def test_the_order_page_shows_the_rule_trace(office, admin, catalogue):
    await publish(admin)
    number = await _place(admin, catalogue["skus"]["A"])
    await walk(admin, number, "pay")
    page = (await admin.get(f"/orders/{number}")).text
    panel = page[page.index('id="order-review"'):]
    panel = panel[:panel.index("</section>")]
    assert "Approved by the rules" in panel and "blocked_customer" in panel


async def test_the_customer_page_shows_who_they_are_and_what_they_ordered(office, admin,
                                                                         catalogue):
    number = await _place(admin, catalogue["skus"]["A"], 2)
    await walk(admin, number, "pay")
    listing = (await admin.get("/customers", params={"q": "zhang.wei@example.com"})).text
    cid = int(listing.split('href="/customers/')[1].split('"')[0])
    page = (await admin.get(f"/customers/{cid}")).text
    assert "张伟" in page and number in page and "zhang.wei@example.com" in page
    r = await admin.post(f"/customers/{cid}", data={
        "tier": "vip", "kind": "person", "expected_version": "1", "credit_limit": "5000.00",
        "blocked_reason": "", "notes": "老客户"})
    assert r.status_code == 303, r.text
    c = (await admin.get(f"/api/v1/customers/{cid}")).json()
    assert (c["tier"], c["credit_limit"], c["notes"]) == ("vip", 500_000, "老客户")
    viewer = await office.client("viewer")
    masked = (await viewer.get(f"/customers/{cid}")).text
    assert "zhang.wei@example.com" not in masked and "z***@example.com" in masked
    assert 'action="/customers/' not in masked  # no edit form without customer.write


async def test_a_manager_adds_a_rule_in_the_editor_and_a_bad_one_is_refused(office, admin):
    manager = await office.client("manager")
    page = (await manager.get("/review/rules")).text
    assert "Shipped default" in page and "blocked_customer" in page
    r = await manager.post("/review/rules/add", data={
        "expected_version": "0", "code": "night_owl", "reason_type": "fraud_risk",
        "when": "order.total > 1000\norder.channel == tmall", "message": "夜间大单"})
    assert r.status_code == 303, r.text
    rules = (await admin.get("/api/v1/review/rules")).json()
    assert rules["version"] == 1 and rules["rules"][-1]["when"] == [
        "order.total > 1000", "order.channel == tmall"]
    r = await manager.post("/review/rules/add", data={
        "expected_version": "1", "code": "bad", "reason_type": "other",
        "when": "order.weight > 5"}, headers=HX)
    assert r.status_code == 422 and "order.weight" in r.text
    r = await manager.post("/review/rules/switch", data={"expected_version": "0",
                                                          "enabled": "0"}, headers=HX)
    assert r.status_code == 409  # started from an old version: someone published since
    assert (await admin.get("/api/v1/review/rules")).json()["version"] == 1
    reviewer = await office.client("reviewer")
    r = await reviewer.post("/review/rules/switch", data={"expected_version": "1",
                                                           "enabled": "0"}, headers=HX)
    assert r.status_code == 403


async def test_a_customer_that_is_not_there_is_a_clear_refusal(office, admin):
    for path in ("/customers/999999999", "/customers/99999999999999999999999",
                 "/customers/abc"):
        r = await admin.get(path)
        assert 400 <= r.status_code < 500, (path, r.status_code)


async def test_a_manager_keeps_the_blocklist_on_the_rules_page(office, admin):
    manager = await office.client("manager")
    r = await manager.post("/review/blocklist", data={
        "kind": "phone", "value": "138 0013 8000", "reason": "拒收三次"})
    assert r.status_code == 303, r.text
    page = (await manager.get("/review/rules")).text
    assert "+8613800138000" in page and "拒收三次" in page
    r = await manager.post("/review/blocklist", data={
        "kind": "phone", "value": "not a phone", "reason": "x"}, headers=HX)
    assert r.status_code == 422
    entry = (await admin.get("/api/v1/review/blocklist")).json()[0]
    r = await manager.post(f"/review/blocklist/{entry['id']}/remove")
    assert r.status_code == 303
    assert (await admin.get("/api/v1/review/blocklist")).json() == []
    reviewer = await office.client("reviewer")
    assert 'id="blocklist"' not in (await reviewer.get("/review/rules")).text
