"""The OpenAPI document lists every error an operation can answer, and the docs page works
offline: it loads only assets served by Dingdan itself, never a CDN."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

API = "/api/v1"
# The order core's endpoints: each needs a token, and one with a key in its path can be 404.
CORE = tuple(f"{API}/{p}" for p in ("orders", "products", "warehouses", "stock"))
# Operations that can answer 409: a conflict of version, idempotency or uniqueness, an
# illegal transition, or insufficient stock.
CAN_CONFLICT = re.compile(
    r"^(post /api/v1/orders|post /api/v1/orders/\{number\}/(?!notes$)[a-z-]+"
    r"|put /api/v1/orders/\{number\}/(contact|shipping-address)"
    r"|(post|patch) /api/v1/(products|warehouses)(/\{\w+\})?)$")


async def openapi(client):
    r = await client.get(f"{API}/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, op


def resolve(doc, schema):
    ref = schema.get("$ref", "")
    assert ref.startswith("#/components/schemas/"), schema
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]


async def test_every_api_route_is_in_the_openapi_document(app_client):
    doc = await openapi(app_client)
    documented = {(m.upper(), p) for m, p, _ in operations(doc)}
    for route in app_client.app.routes:
        if isinstance(route, APIRoute) and route.path.startswith(API) and route.include_in_schema:
            for method in route.methods:
                assert (method, route.path) in documented


async def test_every_operation_documents_its_problem_responses(app_client):
    doc = await openapi(app_client)
    checked = 0
    for method, path, op in operations(doc):
        name = f"{method} {path}"
        responses = op["responses"]
        core = path.startswith(CORE)
        if core:
            assert op.get("security"), f"{name} does not say it needs a token"
        wanted = {"401", "422"} if op.get("security") else {"422"}
        if core and "{" in path:
            wanted.add("404")
        if CAN_CONFLICT.match(name):
            wanted.add("409")
        if "requestBody" in op:
            wanted.add("400")
        assert wanted <= set(responses), f"{name} does not document {wanted - set(responses)}"
        for status in sorted(s for s in responses if s.startswith("4")):
            content = responses[status].get("content", {})
            assert "application/problem+json" in content, f"{name} {status}"
            problem = resolve(doc, content["application/problem+json"].get("schema", {}))
            assert {"type", "title", "status", "code", "detail", "errors"} <= set(
                problem["properties"]), f"{name} {status} is not a problem document"
        checked += 1
    assert checked >= 33  # orders (21), catalogue (8), stock (4), and what came later


async def test_the_problem_schema_says_what_a_field_error_is(app_client):
    doc = await openapi(app_client)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "code", "detail"}
    field = resolve(doc, problem["properties"]["errors"]["items"])
    assert set(field["properties"]) == {"loc", "code", "message"}


async def test_creating_an_order_documents_the_idempotency_key_header(app_client):
    doc = await openapi(app_client)
    params = doc["paths"][f"{API}/orders"]["post"]["parameters"]
    assert [p["name"] for p in params if p["in"] == "header"] == ["idempotency-key"]


async def test_the_docs_page_loads_only_local_assets(app_client):
    r = await app_client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert not re.search(r"(https?:)?//[\w.-]+\.[a-z]{2,}", html, re.I), "the page names a host"
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert len(assets) >= 3
    for asset in assets:
        assert asset.startswith(("/static/vendor/", "/static/app/")), asset
        got = await app_client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.content) > 100, asset
    assert f"{API}/openapi.json" in html


async def test_the_docs_page_and_the_document_need_no_token(app_client):
    headers = {"Authorization": ""}
    assert (await app_client.get("/docs", headers=headers)).status_code == 200
    assert (await app_client.get(f"{API}/openapi.json", headers=headers)).status_code == 200

