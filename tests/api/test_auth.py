"""Sign-in and sessions, cookie flags, CSRF, passwords, and API tokens
(shown once, stored hashed, with roles and expiry, revocable)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from endpoints import API
from pydantic import ValidationError

from conftest import ref
from dingdan.services import users
from dingdan.services.passwords import Passwords
from dingdan.services.users import OPERATOR
from dingdan.settings import Settings
from dingdan.store.tables import api_tokens
from helpers import seed_catalogue

PASSWORD = "correct horse battery"


async def person(app: Any, roles: tuple[str, ...] = ("admin",), password: str = PASSWORD,
                 passwords: Passwords | None = None, **fields: Any) -> dict[str, Any]:
    email = fields.pop("email", f"{ref().lower()}@example.com")
    user = await users.create_user(users.CreateUser(users.UserFields(
        fields.pop("name", "测试员"), email, roles=frozenset(roles), **fields), OPERATOR,
        password), app.state.uow(), passwords or app.state.passwords)
    return user


def browser(app: Any, base_url: str = "http://dingdan.test") -> httpx.AsyncClient:
    """A client with a cookie jar and no token: what a browser sends."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url,
                             headers={"User-Agent": "Mozilla/5.0 (test browser)"})


async def sign_in(client: httpx.AsyncClient, login: str, password: str = PASSWORD,
                  next_url: str | None = None) -> httpx.Response:
    page = await client.get("/login")  # the form carries the CSRF token
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert token, "the sign-in form has no CSRF field"
    form = {"login": login, "password": password, "csrftoken": token.group(1)}
    if next_url is not None:
        form["next"] = next_url
    return await client.post("/login", data=form)


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies["csrftoken"]}


def set_cookies(r: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in r.headers.get_list("set-cookie")}


@pytest.fixture
async def app(app_client: httpx.AsyncClient) -> Any:
    return app_client.app  # type: ignore[attr-defined]


@pytest.fixture
async def admin_browser(app: Any) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    user = await person(app)
    async with browser(app) as c:
        r = await sign_in(c, user["email"])
        assert r.status_code == 303, r.text
        yield c, user


# --- sign-in, cookies, sessions ------------------------------------------------------------

async def test_sign_in_sets_a_signed_http_only_lax_session_cookie(app: Any) -> None:
    user = await person(app, language="en")
    async with browser(app) as c:
        page = await c.get("/login")
        assert page.status_code == 200 and 'name="csrftoken"' in page.text
        r = await sign_in(c, user["email"].upper(), next_url="/people")
        assert r.status_code == 303 and r.headers["location"] == "/people"
        cookies = set_cookies(r)
        session = cookies["dingdan_session"].lower()
        assert "httponly" in session and "samesite=lax" in session
        assert "secure" not in session  # plain HTTP here; see the HTTPS test
        assert "csrftoken" in cookies  # a fresh CSRF token with the new session
        assert "dingdan_lang=en" in cookies["dingdan_lang"]
        me = (await c.get(f"{API}/me")).json()
        assert me["kind"] == "user" and me["id"] == str(user["id"])
        assert me["roles"] == ["admin"] and "people.manage" in me["permissions"]


async def test_behind_https_the_cookies_are_secure(settings: Settings, clock: Any) -> None:
    from dingdan.web.app import create_app

    app = create_app(settings.model_copy(update={"https": True}), clock)
    async with LifespanManager(app):
        user = await person(app)
        async with browser(app, "https://dingdan.test") as c:
            r = await sign_in(c, user["email"])
            assert r.status_code == 303
            for name, header in set_cookies(r).items():
                if name in ("dingdan_session", "csrftoken"):
                    assert "secure" in header.lower(), header


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
        app: Any) -> None:
    user = await person(app)
    async with browser(app) as c:
        wrong = await sign_in(c, user["email"], "not the password")
        unknown = await sign_in(c, "nobody@example.com", "not the password")
        for r in (wrong, unknown):
            assert r.status_code == 401
            assert 'data-code="BAD_CREDENTIALS"' in r.text
            assert "dingdan_session" not in set_cookies(r)
        assert (await c.get(f"{API}/me")).status_code == 401


async def test_the_next_address_stays_on_this_site(app: Any) -> None:
    user = await person(app)
    async with browser(app) as c:
        for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            r = await sign_in(c, user["email"], next_url=evil)
            assert r.headers["location"] == "/"


async def test_pages_send_people_who_are_not_signed_in_to_the_sign_in_page(app: Any) -> None:
    async with browser(app) as c:
        r = await c.get("/people?x=1")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=%2Fpeople%3Fx%3D1"
        r = await c.get("/people", headers={"HX-Request": "true"})
        assert r.headers["HX-Redirect"].startswith("/login?next=")


async def test_sign_out_ends_the_session_and_sign_out_everywhere_ends_them_all(
        app: Any) -> None:
    user = await person(app)
    async with browser(app) as phone, browser(app) as laptop:
        await sign_in(phone, user["email"])
        await sign_in(laptop, user["email"])
        r = await phone.post("/logout", data={"csrftoken": phone.cookies["csrftoken"]})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert (await phone.get(f"{API}/me")).status_code == 401
        assert (await laptop.get(f"{API}/me")).status_code == 200
        stolen = dict(laptop.cookies)
        r = await laptop.post("/logout", data={"everywhere": "1",
                                                "csrftoken": laptop.cookies["csrftoken"]})
        assert r.status_code == 303
    async with browser(app) as thief:
        thief.cookies.update(stolen)  # the old cookie, replayed
        assert (await thief.get(f"{API}/me")).status_code == 401


async def test_a_deactivated_person_s_sessions_end_at_once(app: Any, admin_browser) -> None:
    user = await person(app, roles=("viewer",))
    async with browser(app) as c:
        await sign_in(c, user["email"])
        assert (await c.get(f"{API}/me")).status_code == 200
        admin, _ = admin_browser
        r = await admin.post(f"{API}/users/{user['id']}/deactivate", headers=csrf(admin))
        assert r.status_code == 200 and r.json()["active"] is False
        assert (await c.get(f"{API}/me")).status_code == 401
        assert (await sign_in(c, user["email"])).status_code == 401


# --- CSRF -----------------------------------------------------------------------------------

async def test_a_browser_change_without_the_csrf_token_is_refused(app: Any,
                                                                   admin_browser) -> None:
    c, _ = admin_browser
    body = {"code": ref("W"), "name": "仓", "region": "上海"}
    r = await c.post(f"{API}/warehouses", json=body)
    assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
    r = await c.post(f"{API}/warehouses", json=body, headers={"x-csrftoken": "forged"})
    assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
    r = await c.post(f"{API}/warehouses/{body['code']}", json=body)  # nothing was made
    assert (await c.get(f"{API}/warehouses/{body['code']}")).status_code == 404
    r = await c.post(f"{API}/warehouses", json=body, headers=csrf(c))
    assert r.status_code == 201, r.text


async def test_a_plain_html_form_may_carry_the_csrf_token_as_a_field(app: Any,
                                                                       admin_browser) -> None:
    c, _ = admin_browser
    email = f"{ref().lower()}@example.com"
    form = {"name": "表单用户", "email": email, "roles": ["viewer"]}
    r = await c.post("/people", data=form)
    assert r.status_code == 403
    r = await c.post("/people", data={**form, "csrftoken": c.cookies["csrftoken"]})
    assert r.status_code == 303 and r.headers["location"].startswith("/people/")
    page = await c.get(r.headers["location"])
    assert page.status_code == 200 and email in page.text


async def test_signing_in_needs_the_form_s_csrf_token_too(app: Any) -> None:
    user = await person(app)
    async with browser(app) as c:
        r = await c.post("/login", data={"login": user["email"], "password": PASSWORD})
        assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
        assert (await sign_in(c, user["email"])).status_code == 303


async def test_a_revoked_token_is_forgotten_at_once_even_when_cached(settings, clock) -> None:
    from dingdan.web.app import create_app

    app = create_app(settings.model_copy(update={"token_cache_seconds": 600}), clock)
    async with LifespanManager(app):
        admin = (await person(app))["id"]
        from dingdan.services.tokens import issue_token

        boss = await issue_token("boss", app.state.uow(), roles=[], actor=OPERATOR,
                                 user_id=admin)
        temp = await issue_token("temp", app.state.uow(), roles=["viewer"], actor=OPERATOR)
        async with browser(app) as c:
            auth = {"Authorization": f"Bearer {temp.token}"}
            assert (await c.get(f"{API}/me", headers=auth)).status_code == 200  # cached now
            r = await c.post(f"{API}/tokens/{temp.id}/revoke",
                             headers={"Authorization": f"Bearer {boss.token}"})
            assert r.status_code == 204
            assert (await c.get(f"{API}/me", headers=auth)).status_code == 401


async def test_bearer_token_calls_need_no_csrf_token(app_client) -> None:
    r = await app_client.post(f"{API}/warehouses", json={
        "code": ref("W"), "name": "仓", "region": "上海"})
    assert r.status_code == 201


async def test_reads_need_no_csrf_token(admin_browser) -> None:
    c, _ = admin_browser
    assert (await c.get(f"{API}/users")).status_code == 200


# --- passwords ------------------------------------------------------------------------------

async def test_a_person_changes_their_password_and_their_other_sessions_end(app: Any) -> None:
    user = await person(app, roles=("viewer",))
    async with browser(app) as here, browser(app) as there:
        await sign_in(here, user["email"])
        await sign_in(there, user["email"])
        form = {"current": PASSWORD, "new": "an even better one", "confirm": "an even better one",
                "csrftoken": here.cookies["csrftoken"]}
        r = await here.post("/account/password", data={**form, "current": "wrong"})
        assert r.status_code == 422 and "<code>current</code>" in r.text
        r = await here.post("/account/password", data=form)
        assert r.status_code == 200, r.text
        assert (await here.get(f"{API}/me")).status_code == 200
        assert (await there.get(f"{API}/me")).status_code == 401
    async with browser(app) as c:
        assert (await sign_in(c, user["email"], "an even better one")).status_code == 303


async def test_hashes_are_argon2_and_are_redone_when_the_parameters_change(app: Any) -> None:
    weak = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    user = await person(app, passwords=weak)
    async with app.state.uow(read_only=True) as uow:
        before = (await uow.users.get(user["id"]))["password_hash"]
    assert before.startswith("$argon2id$") and "m=1024,t=1,p=1" in before
    async with browser(app) as c:
        assert (await sign_in(c, user["email"])).status_code == 303
    async with app.state.uow(read_only=True) as uow:
        after = (await uow.users.get(user["id"]))["password_hash"]
    p = app.state.passwords
    assert f"m={p.memory_kib},t={p.time_cost},p={p.parallelism}" in after
    async with browser(app) as c:  # the new hash still opens the door
        assert (await sign_in(c, user["email"])).status_code == 303


async def test_weak_passwords_are_refused(app_client) -> None:
    r = await app_client.post(f"{API}/users", json={
        "name": "弱", "email": f"{ref().lower()}@example.com", "password": "short"})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "too_short"


def test_a_default_secret_key_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="DINGDAN_SECRET_KEY"):
        Settings(env="production")
    with pytest.raises(ValidationError):
        Settings(env="production", secret_key="too short")
    assert Settings(env="production", secret_key="x" * 40).env == "production"
    assert Settings(env="development").secret_key.get_secret_value()


# --- API tokens -----------------------------------------------------------------------------

async def test_a_token_is_shown_once_and_stored_as_a_digest(app_client) -> None:
    r = await app_client.post(f"{API}/tokens", json={"name": "erp", "roles": ["integration"]})
    assert r.status_code == 201
    issued = r.json()
    listed = (await app_client.get(f"{API}/tokens")).json()
    mine = next(t for t in listed if t["id"] == issued["id"])
    assert "token" not in mine and mine["prefix"] == issued["token"][:10]
    async with app_client.app.state.uow(read_only=True) as uow:
        row = await uow.tokens.get(issued["id"])
    assert row["token_hash"] == hashlib.sha256(issued["token"].encode()).hexdigest()
    assert issued["token"] not in str(row)
    assert api_tokens.c.token_hash.unique


async def test_a_token_works_until_it_expires(app_client, clock) -> None:
    r = await app_client.post(f"{API}/tokens", json={
        "name": "temp", "roles": ["viewer"], "expires_in_days": 1})
    token = r.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await app_client.get(f"{API}/me", headers=auth)).status_code == 200
    clock.advance(days=1)
    r = await app_client.get(f"{API}/me", headers=auth)
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"


async def test_a_revoked_token_stops_working(app_client) -> None:
    r = await app_client.post(f"{API}/tokens", json={"name": "gone", "roles": ["viewer"]})
    token, token_id = r.json()["token"], r.json()["id"]
    auth = {"Authorization": f"Bearer {token}"}
    assert (await app_client.get(f"{API}/orders", headers=auth)).status_code == 200
    assert (await app_client.post(f"{API}/tokens/{token_id}/revoke")).status_code == 204
    assert (await app_client.get(f"{API}/orders", headers=auth)).status_code == 401
    listed = (await app_client.get(f"{API}/tokens")).json()
    assert next(t for t in listed if t["id"] == token_id)["revoked_at"] is not None


async def test_a_token_s_roles_limit_what_it_may_do(app_client) -> None:
    cat = await seed_catalogue(app_client)
    r = await app_client.post(f"{API}/tokens", json={"name": "shop", "roles": ["integration"]})
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await app_client.post(f"{API}/users", headers=auth, json={
        "name": "x", "email": f"{ref().lower()}@example.com"})
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    r = await app_client.get(f"{API}/stock", params={"sku": cat["skus"]["A"]}, headers=auth)
    assert r.status_code == 200


async def test_integration_tokens_need_a_role_and_roles_must_exist(app_client) -> None:
    r = await app_client.post(f"{API}/tokens", json={"name": "none"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "roles"
    r = await app_client.post(f"{API}/tokens", json={"name": "x", "roles": ["emperor"]})
    assert r.status_code == 422


# --- pages ----------------------------------------------------------------------------------

async def test_an_admin_manages_people_tokens_and_reads_the_audit_log_in_pages(
        app: Any, admin_browser) -> None:
    c, me = admin_browser
    field = {"csrftoken": c.cookies["csrftoken"]}
    assert (await c.get("/people")).status_code == 200
    email = f"{ref().lower()}@example.com"
    r = await c.post("/people", data={**field, "name": "钱七", "email": email,
                                      "roles": ["reviewer"], "password": "first password"})
    assert r.status_code == 303
    page = (await c.get(r.headers["location"])).text
    user_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert "钱七" in page
    r = await c.post(f"/people/{user_id}", data={**field, "name": "钱七", "email": email,
                                                "roles": ["reviewer", "finance"], "version": 1})
    assert r.status_code == 200 and 'role="status"' in r.text
    r = await c.post("/tokens", data={**field, "name": "page-token", "roles": ["viewer"],
                                      "expires_days": "7"})
    shown = re.search(r"dd_[A-Za-z0-9_-]{40,}", r.text)
    assert r.status_code == 200 and shown
    assert r.headers["cache-control"] == "no-store"
    r = await c.get("/tokens")
    assert "page-token" in r.text and shown.group(0) not in r.text  # shown once only
    r = await c.get("/audit", params={"user_id": str(me["id"])})
    assert r.status_code == 200
    assert "user.update" in r.text and "token.issue" in r.text


async def test_people_pages_are_refused_to_roles_without_people_manage(app: Any) -> None:
    user = await person(app, roles=("customer_service",))
    async with browser(app) as c:
        await sign_in(c, user["email"])
        for path in ("/people", "/tokens", "/audit"):
            r = await c.get(path)
            assert r.status_code == 403, path
        assert (await c.get("/account/password")).status_code == 200
