"""Errors as problem documents: authentication, unknown routes, crashes, and the language
of the message (zh-CN or en, by Accept-Language)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from api_support import PROBLEM, assert_problem, error_locs, order_in, refused

from dingdan.domain.events import SYSTEM
from dingdan.services.tokens import issue_token, revoke_token
from helpers import order_body, seed_catalogue

ORDERS = "/api/v1/orders"
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


# --- authentication -------------------------------------------------------------------------

# One request per endpoint family: every one of them needs a token.
GUARDED = [("GET", ORDERS), ("POST", ORDERS), ("GET", f"{ORDERS}/DD1"),
           ("GET", f"{ORDERS}/DD1/events"), ("POST", f"{ORDERS}/DD1/pay"),
           ("POST", f"{ORDERS}/DD1/approve"), ("POST", f"{ORDERS}/DD1/notes"),
           ("PUT", f"{ORDERS}/DD1/contact"), ("PUT", f"{ORDERS}/DD1/shipping-address"),
           ("GET", "/api/v1/products"), ("POST", "/api/v1/products"),
           ("GET", "/api/v1/products/X"), ("PATCH", "/api/v1/products/X"),
           ("GET", "/api/v1/warehouses"), ("POST", "/api/v1/warehouses"),
           ("GET", "/api/v1/warehouses/X"), ("PATCH", "/api/v1/warehouses/X"),
           ("GET", "/api/v1/stock"), ("POST", "/api/v1/stock/receipts"),
           ("POST", "/api/v1/stock/adjustments"), ("GET", "/api/v1/stock/movements")]


@pytest.mark.parametrize(("method", "url"), GUARDED, ids=[f"{m} {u}" for m, u in GUARDED])
async def test_every_endpoint_refuses_a_request_without_a_token(app_client, method, url):
    body = await refused(app_client, method, url, 401, "UNAUTHENTICATED",
                         headers={"Authorization": ""}, json={})
    assert body["params"] == {}


@pytest.mark.parametrize("authorization", ["Bearer dd_not-a-real-token", "Bearer ",
                                           "Basic dXNlcjpwYXNz", "dd_no_scheme"])
async def test_a_bad_token_is_unauthenticated(app_client, authorization):
    cat = await seed_catalogue(app_client, {"A": 5})
    await refused(app_client, "POST", ORDERS, 401, "UNAUTHENTICATED",
                  json=order_body([(cat["skus"]["A"], 1)]),
                  headers={"Authorization": authorization})
    r = await app_client.get(ORDERS, headers={"Authorization": authorization})
    assert r.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_token_stops_working(app_client):
    uows = app_client.app.state.uow
    issued = await issue_token("revoke-me", uows(), roles=["admin"], actor=SYSTEM)
    auth = {"Authorization": f"Bearer {issued.token}"}
    assert (await app_client.get(ORDERS, headers=auth)).status_code == 200
    await revoke_token(issued.id, uows(), actor=SYSTEM)
    await refused(app_client, "GET", ORDERS, 401, "UNAUTHENTICATED", headers=auth)


async def test_an_expired_token_stops_working(app_client, clock):
    uows = app_client.app.state.uow
    issued = await issue_token("short-lived", uows(), clock() + timedelta(hours=1),
                               roles=["admin"], actor=SYSTEM)
    auth = {"Authorization": f"Bearer {issued.token}"}
    assert (await app_client.get(ORDERS, headers=auth)).status_code == 200
    clock.advance(hours=1)
    await refused(app_client, "GET", ORDERS, 401, "UNAUTHENTICATED", headers=auth)


async def test_the_acting_token_is_recorded_on_the_timeline(app_client):
    uows = app_client.app.state.uow
    issued = await issue_token("shop-bot", uows(), roles=["admin"], actor=SYSTEM)
    cat = await seed_catalogue(app_client, {"A": 5})
    r = await app_client.post(ORDERS, json=order_body([(cat["skus"]["A"], 1)]),
                              headers={"Authorization": f"Bearer {issued.token}"})
    assert r.status_code == 201, r.text
    timeline = (await app_client.get(f"{ORDERS}/{r.json()['number']}/events")).json()
    assert timeline[0]["actor"] == "token:shop-bot"


# --- unknown routes, methods and crashes ----------------------------------------------------


async def test_an_unknown_route_is_a_problem_document(app_client):
    await refused(app_client, "GET", "/api/v1/no-such-thing", 404, "ROUTE_NOT_FOUND")


async def test_a_wrong_method_is_a_problem_document(app_client):
    await refused(app_client, "DELETE", ORDERS, 405, "METHOD_NOT_ALLOWED")


async def test_a_crash_is_a_500_problem_without_a_stack_trace(app_client):
    app = app_client.app

    async def explode() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/api/v1/_test/explode", explode)
    # Starlette re-raises after answering so servers can log it; answer like a server here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test",
                                 headers=dict(app_client.headers)) as client:
        for headers, detail in ((EN, "Something went wrong on our side; it has been logged "
                                     "as request r-1."),
                                (ZH, "服务器内部错误，已记录（请求编号 r-1）。")):
            r = await client.get("/api/v1/_test/explode", headers={**headers,
                                                                   "X-Request-ID": "r-1"})
            body = assert_problem(r, 500, "INTERNAL_ERROR")
            assert body["detail"] == detail
            for leak in ("Traceback", "RuntimeError", "hunter2", "secret", ".py"):
                assert leak not in r.text


# --- language -------------------------------------------------------------------------------


async def test_not_found_is_told_in_chinese_or_english(app_client):
    url = f"{ORDERS}/DD000000NOPE000"
    zh = await refused(app_client, "GET", url, 404, "NOT_FOUND", headers=ZH)
    assert (zh["title"], zh["detail"]) == ("未找到", "找不到订单“DD000000NOPE000”。")
    en = await refused(app_client, "GET", url, 404, "NOT_FOUND", headers=EN)
    assert (en["title"], en["detail"]) == ("Not found", "No order 'DD000000NOPE000'.")


async def test_the_response_says_which_language_it_is_in(app_client):
    r = await app_client.get(f"{ORDERS}/NOPE", headers=ZH)
    assert r.headers["content-language"] == "zh-CN"
    r = await app_client.get(f"{ORDERS}/NOPE", headers=EN)
    assert r.headers["content-language"] == "en"


async def test_an_illegal_transition_names_status_and_action_in_chinese(app_client):
    order, _ = await order_in(app_client, "pending_payment")
    body = await refused(app_client, "POST", f"{ORDERS}/{order['number']}/approve", 409,
                         "ILLEGAL_TRANSITION", headers=ZH)
    assert body["title"] == "不允许的操作"
    assert body["detail"] == "订单状态为“待付款”时不能执行“审核通过”。"


async def test_field_errors_are_told_in_the_users_language(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    bad = order_body([(cat["skus"]["A"], 0)])
    bad["customer"]["phone"] = "123"
    zh = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=bad,
                       headers=ZH)
    assert (zh["title"], zh["detail"]) == ("校验失败", "部分字段无效，请查看 errors。")
    messages = {e["loc"]: e["message"] for e in zh["errors"]}
    assert messages == {"customer.phone": "手机号码无效。", "lines.0.quantity": "超出允许范围。"}
    en = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json=bad,
                       headers=EN)
    assert en["detail"] == "Some fields are not valid; see errors."
    assert error_locs(en) == error_locs(zh)
    assert {e["loc"]: e["message"] for e in en["errors"]}["customer.phone"] == (
        "not a valid phone number")


async def test_framework_validation_errors_are_translated_too(app_client):
    body = await refused(app_client, "POST", ORDERS, 422, "VALIDATION_FAILED", json={},
                         headers=ZH)
    assert {e["loc"]: e["message"] for e in body["errors"]}["customer"] == "此项必填。"


async def test_insufficient_stock_is_told_in_both_languages(app_client):
    cat = await seed_catalogue(app_client, {"A": 1})
    sku = cat["skus"]["A"]
    body = order_body([(sku, 2)])
    zh = await refused(app_client, "POST", ORDERS, 409, "INSUFFICIENT_STOCK", json=body,
                       headers=ZH)
    assert zh["detail"] == f"以下商品库存不足：{sku}。"
    en = await refused(app_client, "POST", ORDERS, 409, "INSUFFICIENT_STOCK", json=body,
                       headers=EN)
    assert en["detail"] == f"Not enough stock for: {sku}."


async def test_malformed_json_and_unauthenticated_are_told_in_chinese(app_client):
    body = await refused(app_client, "POST", ORDERS, 400, "MALFORMED_JSON", content=b"{",
                         headers={**ZH, "Content-Type": "application/json"})
    assert body["detail"] == "请求体不是有效的 JSON。"
    body = await refused(app_client, "GET", ORDERS, 401, "UNAUTHENTICATED",
                         headers={**ZH, "Authorization": "Bearer nope"})
    assert body["title"] == "未认证"


@pytest.mark.parametrize(("header", "lang"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("zh-TW", "zh-CN"),
    ("en-US,en;q=0.9", "en"),
    ("fr-FR, en;q=0.5, zh;q=0.7", "zh-CN"),
    ("fr-FR", "en"),  # the test app's default language
    ("", "en"),
])
async def test_the_language_is_negotiated_from_accept_language(app_client, header, lang):
    r = await app_client.get(f"{ORDERS}/NOPE", headers={"Accept-Language": header})
    assert r.headers["content-language"] == lang
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_status_labels_follow_the_language_too(app_client):
    order, _ = await order_in(app_client, "paid")
    url = f"{ORDERS}/{order['number']}"
    assert (await app_client.get(url, headers=ZH)).json()["status_label"] == "已付款"
    assert (await app_client.get(url, headers=EN)).json()["status_label"] == "Paid"
