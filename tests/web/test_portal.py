"""The customer's page, end to end in process: the signed link and the last-four-digits proof,
one answer for every failure, rate limits, masking, the order scope, and the customer's
actions through the back office's use cases (on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.api_support import db_state, order_in
from conftest import Clock
from dingdan.domain.portal import sign_link
from dingdan.settings import Settings
from dingdan.web.app import create_app

TOKEN_FIELD = re.compile(r'name="csrftoken" value="([^"]*)"')
CSRF_NOISE = re.compile(r'(csrftoken" value="|"x-csrftoken": ")[^"]*')


class Shop:
    """The app, an admin API client to set orders up, and visitors with cookie jars."""

    def __init__(self, app: Any, asgi: Any, admin: httpx.AsyncClient) -> None:
        self.app, self.asgi, self.admin = app, asgi, admin
        self._open: list[httpx.AsyncClient] = [admin]

    def visitor(self, lang: str = "en", ip: str = "203.0.113.7") -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.asgi, client=(ip, 5000)),
                              base_url="http://dingdan.test", headers={"Accept-Language": lang})
        c.app = self.app  # type: ignore[attr-defined]
        self._open.append(c)
        return c

    def link(self, number: str, expires_in: timedelta = timedelta(days=30)) -> str:
        key = self.app.state.settings.portal_keys[0]
        now = self.app.state.uow.clock()
        return f"/track/{number}?t={sign_link(key, number, now + expires_in)}"

    async def close(self) -> None:
        for c in self._open:
            await c.aclose()


async def _shop(settings: Settings, clock: Clock) -> AsyncIterator[Shop]:
    from dingdan.domain.events import SYSTEM
    from dingdan.services.tokens import issue_token

    app = create_app(settings, clock)
    async with LifespanManager(app) as manager:
        issued = await issue_token("portal-tests", app.state.uow(), roles=["admin"],
                                   actor=SYSTEM)
        admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app),
                                  base_url="http://dingdan.test",
                                  headers={"Authorization": f"Bearer {issued.token}"})
        admin.app = app  # type: ignore[attr-defined]
        shop = Shop(app, manager.app, admin)
        try:
            yield shop
        finally:
            await shop.close()


@pytest.fixture
async def shop(settings: Settings, clock: Clock) -> AsyncIterator[Shop]:
    async for s in _shop(settings, clock):
        yield s


@pytest.fixture
async def roomy_shop(settings: Settings, clock: Clock) -> AsyncIterator[Shop]:
    """Limits high enough for a thousand look-ups."""
    roomy = settings.model_copy(update={"portal_limit_per_address": "5000/hour",
                                        "portal_limit_per_order": "5000/hour"})
    async for s in _shop(roomy, clock):
        yield s


async def _order(shop: Shop, status: str = "paid", **extra: Any) -> dict[str, Any]:
    order, _cat = await order_in(shop.admin, status, **extra)
    return order


def _csrf(html: str) -> str:
    m = TOKEN_FIELD.search(html)
    assert m, "the page has no CSRF field"
    return m.group(1)


async def _opened(shop: Shop, number: str, lang: str = "en") -> tuple[httpx.AsyncClient, str]:
    """A visitor who opened the order's page with its signed link: (client, page html)."""
    visitor = shop.visitor(lang)
    r = await visitor.get(shop.link(number))
    assert r.status_code == 303 and r.headers["location"] == f"/track/{number}", r.text
    page = await visitor.get(f"/track/{number}")
    assert page.status_code == 200 and 'data-testid="stages"' in page.text, page.text
    return visitor, page.text


def _same(html: str) -> str:
    """A refusal with its session-bound token taken out: what every refusal must equal."""
    return CSRF_NOISE.sub(r"\1", html)


# --- opening the page ----------------------------------------------------------------------

async def test_a_signed_link_opens_the_page_with_personal_data_masked(shop: Shop):
    order = await _order(shop, "paid")
    number = order["number"]
    _visitor, html = await _opened(shop, number)
    assert number in html
    assert "商品 A" in html  # the line
    assert 'data-stage="paid" data-state="current"' in html
    assert 'data-stage="placed" data-state="done"' in html
    assert "138****8000" in html and "13800138000" not in html  # phone masked
    assert "世纪大道" not in html and "***" in html  # street hidden
    assert "张*" in html and "张伟" not in html  # name masked
    assert "We are checking your order" in html  # what happens next
    assert 'sse-connect="/track/' in html  # live


async def test_the_page_speaks_chinese_or_english_by_lang_or_browser(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    visitor, html = await _opened(shop, number, lang="zh-CN,zh;q=0.9")
    assert "订单进度" in html and "Progress" not in html
    r = await visitor.get(f"/track/{number}?lang=en")
    assert "Progress" in r.text and "订单进度" not in r.text
    assert r.headers["content-language"] == "en"
    r = await visitor.get(f"/track/{number}")  # the choice sticks
    assert "Progress" in r.text


async def test_last_four_digits_of_the_phone_open_the_page(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    visitor = shop.visitor()
    form = await visitor.get(f"/track?number={number}")
    r = await visitor.post("/track", data={"number": number.lower(), "last4": "8000",
                                           "csrftoken": _csrf(form.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/track/{number}"
    page = await visitor.get(f"/track/{number}")
    assert 'data-testid="stages"' in page.text


async def test_every_failure_is_answered_alike_and_changes_nothing(roomy_shop: Shop):
    shop = roomy_shop
    number = (await _order(shop, "paid"))["number"]
    other = (await _order(shop, "paid"))["number"]
    missing = f"DD{uuid.uuid4().hex[:10].upper()}"
    before = await db_state(shop.admin)
    key = shop.app.state.settings.portal_keys[0]
    now = shop.app.state.uow.clock()
    good = sign_link(key, number, now + timedelta(days=1))
    tampered = good[:-1] + ("A" if good[-1] != "A" else "B")
    expired = sign_link(key, number, now - timedelta(seconds=1))
    foreign = sign_link(key, other, now + timedelta(days=1))
    wrong_key = sign_link(b"not the key", number, now + timedelta(days=1))
    answers = []
    for t in (tampered, expired, foreign, wrong_key, "garbage"):
        r = await shop.visitor().get(f"/track/{number}", params={"t": t})
        answers.append((r.status_code, _same(r.text).replace(number, "N")))
    r = await shop.visitor().get(f"/track/{missing}",
                                 params={"t": sign_link(b"x", missing, now + timedelta(days=1))})
    answers.append((r.status_code, _same(r.text).replace(missing, "N")))
    for n, digits in ((number, "0000"), (missing, "8000"), (number, "80")):
        v = shop.visitor()
        form = await v.get("/track")
        r = await v.post("/track", data={"number": n, "last4": digits,
                                         "csrftoken": _csrf(form.text)})
        answers.append((r.status_code, _same(r.text).replace(n, "N")))
    assert {a[0] for a in answers} == {404}
    # the link's refusals (at /track/N) alike, the form's (at /track) alike
    assert len({a[1] for a in answers[:6]}) == 1, "a refusal says more than another"
    assert len({a[1] for a in answers[6:]}) == 1, "a refusal says more than another"
    assert "No such order, or it is not yours" in answers[0][1]
    assert "No such order, or it is not yours" in answers[-1][1]
    assert await db_state(shop.admin) == before


async def test_a_thousand_random_numbers_give_no_signal(roomy_shop: Shop):
    shop = roomy_shop
    real = (await _order(shop, "paid"))["number"]
    visitor = shop.visitor()
    token = _csrf((await visitor.get("/track")).text)
    bodies = set()
    statuses = set()
    for i in range(1000):
        n = real if i == 500 else f"DD{uuid.uuid4().hex[:10].upper()}"
        r = await visitor.post("/track", data={"number": n, "last4": "0000",
                                               "csrftoken": token})
        statuses.add(r.status_code)
        bodies.add(_same(r.text).replace(n, "N"))
    assert statuses == {404}
    assert len(bodies) == 1


async def test_without_a_proof_the_page_is_the_lookup_form_whether_or_not_it_exists(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    missing = f"DD{uuid.uuid4().hex[:10].upper()}"
    visitor = shop.visitor()
    real = await visitor.get(f"/track/{number}")
    fake = await visitor.get(f"/track/{missing}")
    assert real.status_code == fake.status_code == 200
    assert _same(real.text).replace(number, "N") == _same(fake.text).replace(missing, "N")
    assert 'data-testid="lookup-form"' in real.text and "商品 A" not in real.text
    for path in ("part", "live"):
        assert (await visitor.get(f"/track/{number}/{path}")).status_code == 404


async def test_lookups_past_the_limit_get_429_with_retry_after(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    visitor = shop.visitor(ip="198.51.100.9")
    token = _csrf((await visitor.get("/track")).text)
    codes = []
    for _ in range(6):  # 5 failures a minute on one order number
        r = await visitor.post("/track", data={"number": number, "last4": "1111",
                                               "csrftoken": token})
        codes.append(r.status_code)
    assert codes == [404] * 5 + [429]
    assert int(r.headers["retry-after"]) >= 1
    # even the right digits wait now, from anywhere: the number is under attack
    other = shop.visitor(ip="198.51.100.10")
    token2 = _csrf((await other.get("/track")).text)
    r = await other.post("/track", data={"number": number, "last4": "8000",
                                         "csrftoken": token2})
    assert r.status_code == 429
    # ... while its signed link still opens it
    await _opened(shop, number)
    # per address: 30 proofs a minute from one address, whatever the numbers
    spray = shop.visitor(ip="198.51.100.11")
    token3 = _csrf((await spray.get("/track")).text)
    codes = []
    for _ in range(31):
        r = await spray.post("/track", data={"number": f"DD{uuid.uuid4().hex[:10]}",
                                             "last4": "1111", "csrftoken": token3})
        codes.append(r.status_code)
    assert codes[-1] == 429 and set(codes[:-1]) == {404}


async def test_a_proof_for_one_order_opens_no_other(shop: Shop):
    mine = (await _order(shop, "paid"))["number"]
    theirs = (await _order(shop, "paid"))["number"]
    visitor, html = await _opened(shop, mine)
    token = _csrf(html)
    r = await visitor.get(f"/track/{theirs}")
    assert 'data-testid="lookup-form"' in r.text and 'data-testid="stages"' not in r.text
    assert (await visitor.get(f"/track/{theirs}/part")).status_code == 404
    before = await db_state(shop.admin)
    r = await visitor.post(f"/track/{theirs}/address", data={
        **_address(), "csrftoken": token})
    assert r.status_code == 404
    r = await visitor.post(f"/track/{theirs}/help", data={
        "topic": "question", "text": "hello", "csrftoken": token})
    assert r.status_code == 404
    assert await db_state(shop.admin) == before


# --- what the customer does ----------------------------------------------------------------

def _address(**over: str) -> dict[str, str]:
    return {"recipient": "李娜", "phone": "13912345678", "province": "北京市",
            "city": "北京市", "district": "朝阳区", "street": "建国路 88 号",
            "postcode": "100022", **over}


async def test_the_customer_changes_the_address_before_picking(shop: Shop):
    number = (await _order(shop, "allocated"))["number"]
    visitor, html = await _opened(shop, number)
    r = await visitor.post(f"/track/{number}/address",
                           data={**_address(), "csrftoken": _csrf(html)})
    assert r.status_code == 200, r.text
    assert "The delivery address is updated." in r.text
    assert "北京市 北京市 朝阳区" in r.text and "建国路" not in r.text  # still masked
    order = (await shop.admin.get(f"/api/v1/orders/{number}")).json()
    assert order["shipping_address"]["street"] == "建国路 88 号"
    events = (await shop.admin.get(f"/api/v1/orders/{number}/events")).json()
    changed = [e for e in events if e["type"] == "order.address_changed"]
    assert len(changed) == 1
    assert changed[0]["source"] == "portal" and changed[0]["actor"] == f"customer:{number}"
    audit = (await shop.admin.get("/api/v1/audit", params={"object_id": number})).json()
    rows = audit["items"] if isinstance(audit, dict) else audit
    assert any(a["action"] == "order.address" and a["source"] == "portal" for a in rows)


async def test_the_address_cannot_change_once_the_warehouse_started(shop: Shop):
    number = (await _order(shop, "picking"))["number"]
    visitor, html = await _opened(shop, number)
    assert 'data-testid="address-closed"' in html and 'data-testid="address-form"' not in html
    before = await db_state(shop.admin)
    r = await visitor.post(f"/track/{number}/address",
                           data={**_address(), "csrftoken": _csrf(html)})
    assert r.status_code == 409 and 'data-code="ILLEGAL_TRANSITION"' in r.text
    assert await db_state(shop.admin) == before


async def test_a_bad_address_gets_field_errors_and_changes_nothing(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    visitor, html = await _opened(shop, number)
    before = await db_state(shop.admin)
    r = await visitor.post(f"/track/{number}/address",
                           data={**_address(phone="12345"), "csrftoken": _csrf(html)})
    assert r.status_code == 422 and "shipping_address.phone" in r.text
    r = await visitor.post(f"/track/{number}/address", data={**_address()})  # no CSRF token
    assert r.status_code == 403 and 'data-code="CSRF_FAILED"' in r.text
    assert await db_state(shop.admin) == before


async def test_i_need_help_reaches_customer_service_on_the_timeline(shop: Shop):
    order = await _order(shop, "delivered")
    number = order["number"]
    visitor, html = await _opened(shop, number, lang="zh-CN")
    r = await visitor.post(f"/track/{number}/help", data={
        "topic": "return", "text": "尺码不合适，想退货", "csrftoken": _csrf(html)})
    assert r.status_code == 200 and "客服会尽快联系您" in r.text
    events = (await shop.admin.get(f"/api/v1/orders/{number}/events")).json()
    help_ = [e for e in events if e["type"] == "order.help_requested"]
    assert len(help_) == 1 and help_[0]["reason"] == "尺码不合适，想退货"
    assert help_[0]["data"] == {"topic": "return"} and help_[0]["source"] == "portal"
    before = await db_state(shop.admin)
    for data in ({"topic": "refund-me-now", "text": "x"}, {"topic": "question", "text": "  "}):
        r = await visitor.post(f"/track/{number}/help", data={**data, "csrftoken": _csrf(html)})
        assert r.status_code == 422
    assert await db_state(shop.admin) == before


async def test_the_page_follows_the_order_through_shipping(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    visitor, _html = await _opened(shop, number)
    await walk_on(shop, number, "shipped")
    r = await visitor.get(f"/track/{number}/part")
    assert 'data-stage="shipped" data-state="current"' in r.text
    assert 'data-testid="tracking-number">SF1234567890<' in r.text
    assert "sf-express.com" in r.text


async def walk_on(shop: Shop, number: str, status: str) -> None:
    steps = {"shipped": [("submit-review", None), ("approve", None), ("allocate", None),
                         ("pick", None), ("pack", None),
                         ("ship", {"carrier": "SF", "tracking_number": "SF1234567890"})]}
    for path, body in steps[status]:
        r = await shop.admin.post(f"/api/v1/orders/{number}/{path}", json=body)
        assert r.status_code == 200, r.text




# --- the receipt -----------------------------------------------------------------------------

def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(BytesIO(data)).pages)


def _pdf_fonts(data: bytes) -> set[str]:
    from io import BytesIO

    from pypdf import PdfReader

    page = PdfReader(BytesIO(data)).pages[0]
    return {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}


async def test_the_receipt_is_a_pdf_with_chinese_text(shop: Shop):
    number = (await _order(shop, "paid"))["number"]
    visitor, html = await _opened(shop, number, lang="zh-CN")
    assert f'href="/track/{number}/invoice.pdf"' in html
    r = await visitor.get(f"/track/{number}/invoice.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert "attachment" in r.headers["content-disposition"]
    text = _pdf_text(r.content)
    for expected in ("收据", number, "商品 A", "支付宝", "实付金额", "张*"):
        assert expected in text, (expected, text)
    assert "世纪大道" not in text and "13800138000" not in text
    # the Chinese is drawn in a CJK font, not as empty boxes of a Latin one
    assert any("WenQuanYi" in f or "CJK" in f for f in _pdf_fonts(r.content))
    english = _pdf_text((await visitor.get(f"/track/{number}/invoice.pdf?lang=en")).content)
    assert "Receipt" in english and "Total" in english


async def test_no_receipt_before_payment_nor_for_another_order(shop: Shop):
    unpaid = (await _order(shop, "pending_payment"))["number"]
    other = (await _order(shop, "paid"))["number"]
    visitor, html = await _opened(shop, unpaid)
    assert "invoice.pdf" not in html
    r = await visitor.get(f"/track/{unpaid}/invoice.pdf")
    assert r.status_code == 409 and 'data-code="ILLEGAL_TRANSITION"' in r.text
    r = await visitor.get(f"/track/{other}/invoice.pdf")
    assert r.status_code == 404 and "%PDF" not in r.text


async def test_the_api_and_the_back_office_hand_out_the_signed_page_url(shop: Shop):
    order = await _order(shop, "paid")
    number = order["number"]
    url = order["status_page_url"]
    assert url.startswith(f"http://127.0.0.1:8000/track/{number}?t=")
    fetched = (await shop.admin.get(f"/api/v1/orders/{number}")).json()
    assert fetched["status_page_url"].startswith(f"http://127.0.0.1:8000/track/{number}?t=")
    visitor = shop.visitor()
    r = await visitor.get(url.removeprefix("http://127.0.0.1:8000"))
    assert r.status_code == 303 and r.headers["location"] == f"/track/{number}"
    page = await shop.admin.get(f"/orders/{number}")
    assert 'data-testid="status-page-url"' in page.text and f"/track/{number}?t=" in page.text


async def test_the_customer_cancels_before_picking_and_a_paid_order_asks_for_a_refund(shop: Shop):
    order, cat = await order_in(shop.admin, "approved", qty=3)
    number = order["number"]
    visitor, html = await _opened(shop, number)
    assert 'data-testid="cancel-form"' in html
    r = await visitor.post(f"/track/{number}/cancel",
                           data={"reason": "ordered twice", "csrftoken": _csrf(html)})
    assert r.status_code == 200 and "Your order is cancelled." in r.text
    assert 'data-testid="cancel-form"' not in r.text
    events = (await shop.admin.get(f"/api/v1/orders/{number}/events")).json()
    cancelled = events[-1]
    assert cancelled["type"] == "order.cancelled" and cancelled["source"] == "portal"
    assert cancelled["reason"] == "customer: ordered twice"
    assert cancelled["data"] == {"refund_requested": True}
    stock = (await shop.admin.get("/api/v1/stock", params={"sku": cat["skus"]["A"]})).json()
    assert stock[0]["reserved"] == 0  # released


async def test_no_cancel_once_the_warehouse_started(shop: Shop):
    number = (await _order(shop, "picking"))["number"]
    visitor, html = await _opened(shop, number)
    assert 'data-testid="cancel-form"' not in html
    before = await db_state(shop.admin)
    r = await visitor.post(f"/track/{number}/cancel",
                           data={"reason": "too slow", "csrftoken": _csrf(html)})
    assert r.status_code == 403 and 'data-code="FORBIDDEN"' in r.text  # needs a person
    r = await visitor.post(f"/track/{number}/cancel", data={"reason": " ",
                                                            "csrftoken": _csrf(html)})
    assert r.status_code == 422
    assert await db_state(shop.admin) == before


async def test_the_customer_rates_a_delivered_order_once(shop: Shop):
    number = (await _order(shop, "delivered"))["number"]
    visitor, html = await _opened(shop, number)
    assert 'data-testid="rating-form"' in html
    r = await visitor.post(f"/track/{number}/rating", data={
        "delivery": "5", "service": "4", "comment": "快递员很耐心", "csrftoken": _csrf(html)})
    assert r.status_code == 200 and "Thank you for rating us!" in r.text
    assert 'data-testid="rating-given"' in r.text and 'data-testid="rating-form"' not in r.text
    events = (await shop.admin.get(f"/api/v1/orders/{number}/events")).json()
    rated = events[-1]
    assert rated["type"] == "order.rated" and rated["data"] == {"delivery": 5, "service": 4}
    assert rated["reason"] == "快递员很耐心" and rated["source"] == "portal"
    before = await db_state(shop.admin)
    r = await visitor.post(f"/track/{number}/rating", data={
        "delivery": "1", "service": "1", "csrftoken": _csrf(html)})
    assert r.status_code == 409 and 'data-code="ALREADY_EXISTS"' in r.text
    assert await db_state(shop.admin) == before


async def test_no_rating_before_delivery_nor_out_of_range(shop: Shop):
    shipped = (await _order(shop, "shipped"))["number"]
    visitor, html = await _opened(shop, shipped)
    assert 'data-testid="rating-form"' not in html
    before = await db_state(shop.admin)
    r = await visitor.post(f"/track/{shipped}/rating", data={
        "delivery": "5", "service": "5", "csrftoken": _csrf(html)})
    assert r.status_code == 409 and 'data-code="ILLEGAL_TRANSITION"' in r.text
    delivered = (await _order(shop, "delivered"))["number"]
    visitor, html = await _opened(shop, delivered)
    before = await db_state(shop.admin)
    for scores in ({"delivery": "0", "service": "5"}, {"delivery": "5", "service": "6"}):
        r = await visitor.post(f"/track/{delivered}/rating",
                               data={**scores, "csrftoken": _csrf(html)})
        assert r.status_code == 422, r.text
    assert await db_state(shop.admin) == before
