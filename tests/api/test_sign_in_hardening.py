"""Sign-in under attack, sessions that end on the server, and CSRF tokens bound to their
session (issue 15: items 12, 15, 16)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from endpoints import API
from test_auth import PASSWORD, browser, person, sign_in

from conftest import ref
from dingdan.services import users
from dingdan.services.users import OPERATOR


@pytest.fixture
async def app(app_client: httpx.AsyncClient) -> Any:
    return app_client.app  # type: ignore[attr-defined]


def client_at(app: Any, address: str) -> httpx.AsyncClient:
    """A browser at a given address (the ASGI scope's client)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://dingdan.test",
                             headers={"User-Agent": "Mozilla/5.0 (test browser)"})


async def _failures(app: Any, user_id: int) -> int:
    async with app.state.uow(read_only=True) as uow:
        row = await uow.users.get(user_id)
    return int(row["failed_attempts"])


# --- limits ---------------------------------------------------------------------------------

async def test_a_spray_over_20_accounts_from_one_address_is_stopped_after_the_limit(
        app: Any) -> None:
    people = [await person(app) for _ in range(20)]
    async with client_at(app, "198.51.100.20") as attacker:
        answers = [await sign_in(attacker, p["email"], "Spring2026!") for p in people]
    assert [r.status_code for r in answers] == [401] * 10 + [429] * 10
    for r in answers[10:]:
        assert 'data-code="TOO_MANY_ATTEMPTS"' in r.text
        assert 0 < int(r.headers["retry-after"]) <= 60
    # past the limit no password was checked: the last ten accounts saw no failure
    assert [await _failures(app, p["id"]) for p in people[10:]] == [0] * 10
    assert [await _failures(app, p["id"]) for p in people[:10]] == [1] * 10
    async with client_at(app, "198.51.100.21") as elsewhere:  # another address is not held
        assert (await sign_in(elsewhere, people[-1]["email"])).status_code == 303


async def test_the_owner_signs_in_from_a_clean_address_while_the_guesser_is_held(
        app: Any) -> None:
    owner = await person(app)
    async with client_at(app, "198.51.100.30") as attacker:
        for _ in range(5):
            assert (await sign_in(attacker, owner["email"], "guess guess")).status_code == 401
        held = await sign_in(attacker, owner["email"])  # even the right password now
        assert held.status_code == 429 and "retry-after" in held.headers
    async with client_at(app, "198.51.100.31") as second_attacker:
        # the account is under attack: an address that has failed on it is held at once...
        assert (await sign_in(second_attacker, owner["email"], "guess 2")).status_code == 401
        assert (await sign_in(second_attacker, owner["email"])).status_code == 429
    async with client_at(app, "203.0.113.5") as owner_desk:
        # ...but the owner, who has not failed, still gets in
        r = await sign_in(owner_desk, owner["email"])
        assert r.status_code == 303
        assert (await owner_desk.get(f"{API}/me")).json()["id"] == str(owner["id"])


def _normalised(r: httpx.Response, login: str) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers and body with the parts that differ by nature taken out: the CSRF
    token (each session has its own), its cookie, the request id, and the login as typed
    (echoed back)."""
    body = re.sub(r"[0-9a-f]{64}", "TOKEN", r.text).replace(login, "LOGIN")
    headers = [(k, v) for k, v in r.headers.items()
               if k not in ("set-cookie", "date", "x-request-id")]
    return r.status_code, headers, body


async def test_unknown_wrong_and_held_accounts_get_byte_identical_answers(app: Any) -> None:
    known = await person(app)
    unknown = f"{ref().lower()}@example.com"
    async with client_at(app, "198.51.100.40") as a, client_at(app, "198.51.100.41") as b:
        wrong = await sign_in(a, known["email"], "not the password")
        nobody = await sign_in(b, unknown, "not the password")
        assert wrong.status_code == 401
        assert _normalised(wrong, known["email"]) == _normalised(nobody, unknown)
        for _ in range(4):
            await sign_in(a, known["email"], "not the password")
            await sign_in(b, unknown, "not the password")
        held_known = await sign_in(a, known["email"], "not the password")
        held_unknown = await sign_in(b, unknown, "not the password")
        assert held_known.status_code == 429
        assert _normalised(held_known, known["email"]) == _normalised(held_unknown, unknown)


async def test_a_deactivated_account_answers_like_a_wrong_password(app: Any) -> None:
    gone = await person(app, roles=("viewer",))
    await users.set_active(users.SetActive(gone["id"], False, OPERATOR), app.state.uow())
    async with client_at(app, "198.51.100.50") as c:
        r = await sign_in(c, gone["email"])
        assert r.status_code == 401 and 'data-code="BAD_CREDENTIALS"' in r.text


# --- sessions -------------------------------------------------------------------------------

async def test_a_cookie_copied_before_sign_out_does_not_work_after_it(app: Any) -> None:
    user = await person(app)
    async with browser(app) as c:
        assert (await sign_in(c, user["email"])).status_code == 303
        copied = dict(c.cookies)
        assert (await c.get(f"{API}/me")).status_code == 200
        r = await c.post("/logout", data={"csrftoken": c.cookies["csrftoken"]})
        assert r.status_code == 303
    async with browser(app) as thief:
        thief.cookies.update(copied)
        assert (await thief.get(f"{API}/me")).status_code == 401
        page = await thief.get("/orders")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_each_sign_in_is_a_row_on_the_server_holding_only_a_digest(app: Any) -> None:
    from sqlalchemy import select

    from dingdan.store.tables_people import user_sessions

    user = await person(app)
    async with browser(app) as c:
        await sign_in(c, user["email"])
        await c.post("/logout", data={"csrftoken": c.cookies["csrftoken"]})
    async with app.state.uow(read_only=True) as uow:
        rows = [dict(r._mapping) for r in await uow.conn.execute(
            select(user_sessions).where(user_sessions.c.user_id == user["id"]))]
    assert len(rows) == 1
    row = rows[0]
    assert len(row["id"]) == 64 and row["revoked_at"] is not None
    assert row["user_agent"] == "Mozilla/5.0 (test browser)" and row["ip"] == "127.0.0.1"
    assert row["expires_at"] > row["created_at"]


async def test_a_session_ends_when_it_expires_on_the_server(app: Any, clock: Any) -> None:
    user = await person(app)
    async with browser(app) as c:
        await sign_in(c, user["email"])
        clock.advance(hours=11)
        assert (await c.get(f"{API}/me")).status_code == 200
        clock.advance(hours=1, seconds=1)  # past DINGDAN_SESSION_MAX_AGE_SECONDS (12 h)
        assert (await c.get(f"{API}/me")).status_code == 401


# --- CSRF bound to the session ------------------------------------------------------------------

async def test_a_csrf_token_from_another_session_is_refused(app: Any) -> None:
    user = await person(app)
    body = {"code": ref("W"), "name": "仓", "region": "上海"}
    async with browser(app) as a, browser(app) as b:
        await sign_in(a, user["email"])
        await sign_in(b, user["email"])
        token_a = a.cookies["csrftoken"]
        # B's request with A's token, even with A's token planted as B's cookie too
        b.cookies.set("csrftoken", token_a, domain="dingdan.test")
        r = await b.post(f"{API}/warehouses", json=body, headers={"x-csrftoken": token_a})
        assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
        r = await b.post("/logout", data={"csrftoken": token_a})
        assert r.status_code == 403
        assert (await b.get(f"{API}/me")).status_code == 200  # still signed in
        r = await a.post(f"{API}/warehouses", json=body, headers={"x-csrftoken": token_a})
        assert r.status_code == 201, r.text


async def test_a_sign_in_form_from_another_visitor_is_refused(app: Any) -> None:
    """Login CSRF: an attacker's own sign-in form (with their pre-session's token) posted
    from the victim's browser does not sign the victim in to the attacker's account."""
    mallory = await person(app)
    async with browser(app) as attacker, browser(app) as victim:
        page = await attacker.get("/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
        assert token
        await victim.get("/login")  # the victim has a pre-session of their own
        r = await victim.post("/login", data={"login": mallory["email"], "password": PASSWORD,
                                              "csrftoken": token.group(1)})
        assert r.status_code == 403 and r.json()["code"] == "CSRF_FAILED"
        assert (await victim.get(f"{API}/me")).status_code == 401


async def test_the_csrf_token_changes_with_the_session(app: Any) -> None:
    user = await person(app)
    async with browser(app) as c:
        await c.get("/login")
        before = c.cookies["csrftoken"]
        await sign_in(c, user["email"])
        after = c.cookies["csrftoken"]
        assert before != after
        r = await c.post(f"{API}/warehouses", json={"code": ref("W"), "name": "仓",
                                                    "region": "上海"},
                         headers={"x-csrftoken": before})
        assert r.status_code == 403
