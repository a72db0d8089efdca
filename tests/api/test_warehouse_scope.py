"""Warehouse scope on every read of one order: a person limited to some warehouses gets 404
NOT_FOUND for an order of another warehouse on every ``/orders/{number}…`` read — the API's
(driven from the OpenAPI document, so a new sub-read is covered without a new test) and the
pages' (driven from the app's routes) — exactly as on ``/orders/{number}`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from api_support import assert_problem
from starlette.routing import Route

from people_support import World

API = "/api/v1"
# Pages that stream (server-sent events): asked only for the refused order (they would not end).
STREAMS = ("/live/",)


def _order_reads_in_openapi(app: Any) -> list[str]:
    """Every GET of the API whose path names one order by its number (and nothing else: a
    label of an order is scoped by its own tests, tests/api/test_labels.py)."""
    return sorted(path for path, ops in app.openapi()["paths"].items()
                  if "get" in ops and path.startswith(f"{API}/orders/{{number}}")
                  and path.count("{") == 1)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes, prefix + r.include_context.prefix)
        elif isinstance(r, Route):
            yield prefix + r.path, set(r.methods or ())


def _order_pages(app: Any) -> list[str]:
    """Every GET page (not the API) whose path names one order by its number."""
    return sorted(path for path, methods in _routes(app.routes)
                  if "GET" in methods and "{number}" in path and not path.startswith(API)
                  and not path.startswith(NOT_ORDER_NUMBERS))


# Pages whose {number} is not an order's: an after-sales case's or a complaint's (scoped by
# tests/web/test_aftersales_pages.py), and the customer's own page (no staff session there:
# tests/web/test_portal.py).
NOT_ORDER_NUMBERS = ("/aftersales/", "/complaints/", "/track/")


async def _scoped_clients(app_client, role_client) -> tuple[World, Any, str, str]:
    world = await World.create(app_client.app.state.uow)
    staff = await role_client("warehouse", warehouses=[world.warehouse])
    ours = await world.place()
    theirs = await world.place(in_other=True)
    return world, staff, ours, theirs


async def test_every_order_read_of_the_api_is_404_for_another_warehouse(app_client, role_client):
    _, staff, ours, theirs = await _scoped_clients(app_client, role_client)
    paths = _order_reads_in_openapi(app_client.app)
    assert {f"{API}/orders/{{number}}", f"{API}/orders/{{number}}/sla",
            f"{API}/orders/{{number}}/messages"} <= set(paths)
    for path in paths:
        mine = await staff.get(path.replace("{number}", ours))
        # Seen: 200, or "not found" of something else the order lacks (an EDI ship notice
        # of an order that came from no EDI partner) — never the order itself.
        assert mine.status_code == 200 or (
            mine.status_code == 404 and mine.json()["params"].get("kind") != "order"), (
            path, mine.text)
        other = await staff.get(path.replace("{number}", theirs))
        assert_problem(other, 404, "NOT_FOUND")
        assert other.json()["params"].get("kind") == "order", (path, other.text)


async def test_every_order_page_is_404_for_another_warehouse(app_client, role_client):
    _, staff, ours, theirs = await _scoped_clients(app_client, role_client)
    paths = _order_pages(app_client.app)
    assert {"/orders/{number}", "/orders/{number}/messages"} <= set(paths)
    for path in paths:
        if not any(s in path for s in STREAMS):
            mine = await staff.get(path.replace("{number}", ours))
            assert mine.status_code == 200, (path, mine.text[:300])
        other = await staff.get(path.replace("{number}", theirs))
        assert other.status_code == 404, (path, other.status_code, other.text[:300])
