"""Bad input on every operation, driven from the OpenAPI document: a new endpoint is covered
without a new test.

For every write operation, each string field of its request body gets NUL, 100 KB, a
right-to-left override, a lone surrogate (escaped in the JSON), an emoji and a zero-width
space; each integer field its bounds ±1 and 2^31, 2^63, 2^64. Every operation gets NUL and
a huge integer in each path and query parameter. Nothing may answer 5xx, and a 4xx changes
nothing. Runs on SQLite, and on PostgreSQL (where NUL matters) when it is configured.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_support import db_state
from endpoints import ENDPOINTS, Ctx, Endpoint

STRINGS = ["a\x00b", "x" * 100_000, "\u202eevil", "\ud800", "😀📦", "a\u200bb"]
BIG = [2**31, 2**63, 2**64, -(2**63) - 1]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _leaves(doc: dict[str, Any], schema: dict[str, Any], path: tuple[Any, ...] = (),
            depth: int = 0) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path into the body, leaf schema) for every string and integer field."""
    schema = _resolve(doc, schema)
    if depth > 6:
        return
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            yield from _leaves(doc, option, path, depth + 1)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from _leaves(doc, sub, (*path, name), depth + 1)
    elif kind == "array":
        yield from _leaves(doc, schema.get("items", {}), (*path, 0), depth + 1)
    elif kind in ("string", "integer"):
        yield path, schema


def _bad_values(leaf: dict[str, Any]) -> list[Any]:
    if leaf["type"] == "string":
        return STRINGS
    bounds = [leaf[k] + d for k in ("minimum", "maximum") if k in leaf for d in (-1, 0, 1)]
    bounds += [leaf["exclusiveMinimum"]] if "exclusiveMinimum" in leaf else []
    return [*bounds, *BIG]


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        items = list(body) if isinstance(body, list) and body else [{}]
        items[0] = _with(items[0], rest, value)
        return items
    out = dict(body) if isinstance(body, dict) else {}
    out[key] = _with(out.get(key, {}), rest, value)
    return out


def _with_path_param(template: str, url: str, name: str, value: str) -> str:
    parts = url.split("/")
    for i, piece in enumerate(template.split("/")):
        if piece == f"{{{name}}}":
            parts[i] = value
    return "/".join(parts)


async def _send(client: httpx.AsyncClient, ep: Endpoint, url: str, body: Any,
                params: dict[str, Any] | None) -> httpx.Response:
    # json.dumps, not httpx's encoder: a lone surrogate goes out escaped, as a client sends it.
    content = None if body is None else json.dumps(body).encode()
    return await client.request(ep.method, url, content=content, params=params,
                                headers={"content-type": "application/json"})


@pytest.mark.slow
async def test_no_bad_input_gives_a_5xx_or_changes_anything(app_client) -> None:
    client = app_client
    doc = client.app.openapi()  # type: ignore[attr-defined]
    ctx = await Ctx.create(client)
    wrong: list[str] = []
    seen: set[str] = set()
    try:
        for ep in ENDPOINTS:
            if f"{ep.method} {ep.path}" in seen:
                continue  # one variant of an endpoint is enough here
            seen.add(f"{ep.method} {ep.path}")
            op = doc["paths"][ep.path][ep.method.lower()]
            call = await ep.make(ctx)
            cases: list[tuple[str, str, Any, dict[str, Any] | None]] = []
            for param in op.get("parameters", []):
                for value in ("\x00", "%00", str(2**64), "9" * 30):
                    if param["in"] == "path":
                        url = _with_path_param(ep.path, call.url, param["name"],
                                               value.replace("\x00", "%00"))
                        cases.append((f"path {param['name']}={value[:8]!r}", url, call.json,
                                      call.params))
                    elif param["in"] == "query":
                        cases.append((f"query {param['name']}={value[:8]!r}", call.url,
                                      call.json, {**(call.params or {}),
                                                  param["name"]: value}))
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if ep.method in WRITES and content:
                for path, leaf in _leaves(doc, content["schema"]):
                    for value in _bad_values(leaf):
                        cases.append((f"body {'.'.join(map(str, path))}={str(value)[:8]!r}",
                                      call.url, _with(call.json or {}, path, value),
                                      call.params))
            before = await db_state(client)
            changed = False
            for label, url, body, params in cases:
                r = await _send(client, ep, url, body, params)
                if r.status_code >= 500:
                    wrong.append(f"{ep.name} {label}: {r.status_code} {r.text[:200]}")
                elif r.status_code >= 400:
                    if await db_state(client) != before:
                        wrong.append(f"{ep.name} {label}: {r.status_code} changed the database")
                        before = await db_state(client)
                else:
                    changed = True
                    if ep.cleanup:
                        await ep.cleanup(ctx, call, r)
                    before = await db_state(client)
            if changed and ep.method in ("PUT", "PATCH") and call.json is not None:
                await client.request(ep.method, call.url, json=call.json)  # put settings back
    finally:
        await ctx.close()
    assert not wrong, f"{len(wrong)} bad answers:\n" + "\n".join(wrong[:60])
