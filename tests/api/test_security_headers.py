"""Security headers on every response (pages, API, errors, static files) and templates that
need no inline script or style, so the Content-Security-Policy can forbid them."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from endpoints import API

from dingdan.settings import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "dingdan" / "web" / "templates"


def directives(csp: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secured(r: httpx.Response) -> None:
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"], csp
    assert csp["script-src"] == ["'self'"], csp  # no 'unsafe-inline', no 'unsafe-eval'
    assert "'unsafe-inline'" not in csp["style-src"], csp
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


async def test_pages_api_answers_errors_and_assets_carry_the_security_headers(
        app_client: httpx.AsyncClient) -> None:
    anonymous = {"Authorization": ""}
    login = await app_client.get("/login", headers=anonymous)
    assert login.status_code == 200
    redirect = await app_client.get("/orders", headers=anonymous)
    assert redirect.status_code == 303
    api = await app_client.get(f"{API}/orders")
    assert api.status_code == 200
    missing = await app_client.get(f"{API}/orders/DD-NOPE")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    no_route = await app_client.get("/no/such/route")
    assert no_route.status_code == 404
    refused = await app_client.get(f"{API}/orders", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    docs = await app_client.get("/docs")
    asset = await app_client.get("/static/app/app.js")
    for r in (login, redirect, api, missing, no_route, refused, docs, asset):
        assert_secured(r)
        assert "strict-transport-security" not in r.headers  # plain HTTP here


async def test_over_https_browsers_are_told_to_stay_on_https(settings: Settings,
                                                              clock: object) -> None:
    from dingdan.web.app import create_app

    app = create_app(settings.model_copy(update={"https": True}), clock)  # type: ignore[arg-type]
    async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://dingdan.test") as c:
        r = await c.get("/login")
    assert_secured(r)
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_templates_carry_no_inline_script_handler_or_style() -> None:
    """What the CSP would refuse in a browser: inline <script> blocks, on…= handlers, hx-on
    (htmx evaluates it), javascript: URLs and style attributes."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        html = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"\shx-on",
                        r"javascript:", r"\sstyle\s*=", r"<style"):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}"
                      for m in re.finditer(pattern, html, re.I)]
    assert not found, found


async def test_the_docs_page_starts_swagger_from_a_file_not_an_inline_script(
        app_client: httpx.AsyncClient) -> None:
    html = (await app_client.get("/docs")).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), html
    init = await app_client.get("/static/app/swagger-init.js")
    assert init.status_code == 200 and "SwaggerUIBundle(" in init.text
