"""A crash (an exception nobody expected) is answered fast and logged cheaply and safely.

The route that crashes is added by the test; the request carries what an attacker or a
careless log would spill: a bearer token, a session cookie, a password form field, and an
order with a customer's name, phone, email and address. The log must hold none of them, no
local variable of the crashing frame, and the request id; the answer is a problem document
with the request id and ``Connection: close`` (issue 15, items 1, 2 and 17).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import Body, FastAPI, Form
from sqlalchemy import text

from dingdan.services.tokens import issue_token
from dingdan.services.users import OPERATOR
from dingdan.settings import Settings
from dingdan.store.engine import make_engine
from dingdan.web.app import create_app

SENTINEL = "LOCAL-ONLY-7Q2X"  # the value of a local variable of the crashing function
TOKEN_PREFIX = "Bearer "
COOKIE = "dingdan_session=SESSION-COOKIE-4K9Z"
PASSWORD = "Hunter2-PASSWORD-8W"
ORDER = {"customer": {"name": "张三丰-NAME", "phone": "+8613800138123",
                      "email": "zhang.sanfeng@example.com"},
         "shipping_address": {"street": "幸福路 88 号-STREET", "recipient": "李四-RECIPIENT"},
         "notes": "ORDER-BODY-NOTE-5T"}


def _crashing_routes(app: FastAPI, settings: Settings) -> None:
    async def explode_json(order: dict[str, Any] = Body()) -> None:
        sentinel_local = SENTINEL
        raise RuntimeError(f"boom after {len(order)} keys, {len(sentinel_local)}")

    async def explode_form(login: str = Form(), password: str = Form()) -> None:
        sentinel_local = SENTINEL
        raise RuntimeError(f"boom after {len(login) + len(password)}, {len(sentinel_local)}")

    async def explode_in_sql() -> None:
        engine = make_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table WHERE x = :v"),
                                   {"v": ORDER["notes"]})
        finally:
            await engine.dispose()

    app.add_api_route("/api/v1/_test/explode", explode_json, methods=["POST"])
    app.add_api_route("/api/v1/_test/explode-sql", explode_in_sql, methods=["POST"])
    app.add_api_route("/_test/explode-form", explode_form, methods=["POST"])


@asynccontextmanager
async def crashing_app(settings: Settings, *, server_sees_errors: bool = False,
                       ) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    app = create_app(settings)
    _crashing_routes(app, settings)
    async with LifespanManager(app) as manager:
        issued = await issue_token("crash", app.state.uow(), roles=["admin"], actor=OPERATOR)
        # Answer like a server would (Starlette re-raises after its own 500 page), unless the
        # test wants to see what reaches the server.
        transport = httpx.ASGITransport(app=manager.app,
                                        raise_app_exceptions=server_sees_errors)
        async with httpx.AsyncClient(transport=transport, base_url="http://dingdan.test") as c:
            r = await c.get("/login")  # a browser's first visit: the CSRF cookie
            assert r.status_code == 200, r.text
            yield c, issued.token


async def _crash(client: httpx.AsyncClient, token: str, kind: str,
                 request_id: str | None = None) -> httpx.Response:
    headers = {"Authorization": TOKEN_PREFIX + token, "Cookie":
               f"{COOKIE}; csrftoken={client.cookies['csrftoken']}",
               "x-csrftoken": client.cookies["csrftoken"], "Accept-Language": "en"}
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    if kind == "json":
        return await client.post("/api/v1/_test/explode", json=ORDER, headers=headers)
    if kind == "sql":  # the database refuses a statement: its parameters are order data
        return await client.post("/api/v1/_test/explode-sql", json=ORDER, headers=headers)
    return await client.post("/_test/explode-form", headers=headers,
                             data={"login": "admin@example.com", "password": PASSWORD})


def _leaks(text: str, token: str) -> list[str]:
    secrets = [token, COOKIE.split("=")[1], PASSWORD, SENTINEL,
               "+8613800138123", "zhang.sanfeng@example.com", "张三丰", "幸福路", "李四",
               "ORDER-BODY-NOTE-5T", "admin@example.com"]
    return [s for s in secrets if s in text]


@pytest.mark.parametrize("kind", ["json", "form", "sql"])
async def test_a_crash_is_answered_with_a_problem_and_logged_without_secrets(
        settings, capsys, fresh_logging, kind) -> None:
    async with crashing_app(settings) as (client, token):
        capsys.readouterr()
        r = await _crash(client, token, kind, request_id="req-crash-0001")
    logged = "".join(capsys.readouterr())

    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "INTERNAL_ERROR"
    assert "req-crash-0001" in body["detail"]
    assert body["params"] == {"request_id": "req-crash-0001"}
    assert r.headers["x-request-id"] == "req-crash-0001"
    assert r.headers["connection"] == "close"

    assert "unhandled error" in logged
    assert ("no_such_table" if kind == "sql" else "RuntimeError: boom after") in logged
    assert logged.count("unhandled error") == 1, "logged once"
    assert "req-crash-0001" in logged
    assert _leaks(logged, token) == []


async def test_a_crash_does_not_reach_the_server(settings) -> None:
    """An exception that reaches uvicorn is logged a second time and the connection reset
    (issue 15, item 17); the app keeps it."""
    async with crashing_app(settings, server_sees_errors=True) as (client, token):
        for kind in ("json", "form", "sql"):
            r = await _crash(client, token, kind)
            assert r.status_code == 500 and r.headers["connection"] == "close"


async def test_in_production_a_crash_is_one_json_line_with_the_request_id(
        settings, capsys, fresh_logging) -> None:
    production = settings.model_copy(update={"env": "production",
                                              "secret_key": settings.secret_key.__class__(
                                                  "p" * 48)})
    async with crashing_app(production) as (client, token):
        capsys.readouterr()
        r = await _crash(client, token, "json")
    out, err = capsys.readouterr()
    request_id = r.headers["x-request-id"]
    records = [json.loads(line) for line in (out + err).splitlines() if line.strip()]
    crashes = [rec for rec in records if rec.get("event") == "unhandled error"]
    assert len(crashes) == 1, records
    crash = crashes[0]
    assert crash["level"] == "error"
    assert crash["request_id"] == request_id
    assert crash["path"] == "/api/v1/_test/explode"
    assert "RuntimeError: boom after" in crash["exception"]
    assert _leaks(out + err, token) == []
    assert r.json()["params"] == {"request_id": request_id}


async def test_every_response_carries_a_request_id_and_a_sane_one_is_kept(app_client) -> None:
    mine = await app_client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.19:2"})
    assert mine.headers["x-request-id"] == "lb-7f3a.19:2"
    made = await app_client.get("/healthz")
    other = await app_client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-request-id"] != other.headers["x-request-id"]
    for insane in (b"a b", b"x" * 200, b"<script>", "id\u00e9".encode("latin-1"), b"\"q\""):
        r = await app_client.get("/healthz", headers={"X-Request-ID": insane})
        assert r.headers["x-request-id"].encode() != insane
        assert len(r.headers["x-request-id"]) == 32


async def test_a_log_line_written_during_a_request_has_its_request_id(
        settings, capsys, fresh_logging) -> None:
    async with crashing_app(settings) as (client, _token):
        capsys.readouterr()
        # A refused CSRF check (a sign-in without the form's token) logs a warning from
        # inside the request.
        r = await client.post("/login", data={"login": "a@example.com", "password": "x"},
                              headers={"X-Request-ID": "req-csrf-0002"})
    assert r.status_code == 403
    lines = [ln for ln in "".join(capsys.readouterr()).splitlines() if "csrf refused" in ln]
    assert len(lines) == 1 and "req-csrf-0002" in lines[0]


def test_the_app_never_serves_starlette_s_debug_page() -> None:
    app = create_app(Settings(env="test", database_url="sqlite+aiosqlite:///:memory:"))
    assert app.debug is False
