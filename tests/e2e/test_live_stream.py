"""The server-sent event streams over a real server: the event format, replay after the id
a page was rendered with, one order's stream, and who may open them."""

from __future__ import annotations

import asyncio
import json

import httpx

from e2e.conftest import Server


class _Lines:
    """One line iterator per response (a response's body can be iterated only once)."""

    def __init__(self, response: httpx.Response) -> None:
        self._it = response.aiter_lines()

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        return await anext(self._it)


async def _events(lines: _Lines, want: int, within: float = 3.0) -> list[dict]:
    events: list[dict] = []
    current: dict = {}

    async def read() -> None:
        async for line in lines:
            if line == "":
                if "event" in current:
                    events.append(dict(current))
                    if len(events) >= want:
                        return
                current.clear()
                continue
            field, _, value = line.partition(": ")
            if field in ("id", "event", "data"):
                current[field] = value

    await asyncio.wait_for(read(), within)
    return events


async def test_an_order_stream_carries_changes_within_two_seconds(server: Server):
    number = await server.place()
    other = await server.place()
    async with server.api() as api, api.stream("GET", f"/live/orders/{number}") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = _Lines(r)
        await asyncio.sleep(0.2)
        await server.act(other, "pay")  # another order: not on this stream
        await server.act(number, "pay")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        changes: list[dict] = []
        while not any(c["type"] == "order.paid" for c in changes):
            (event,) = await _events(lines, 1, within=deadline - loop.time())
            assert event["event"] == "order-changed" and int(event["id"]) > 0
            changes += json.loads(event["data"])
    # (the order's placing may come first: it was committed just before the stream opened)
    assert {c["number"] for c in changes} == {number}
    assert changes[-1] == {"number": number, "type": "order.paid", "to_status": "paid"}


async def test_a_stream_replays_what_happened_after_the_page_was_rendered(server: Server):
    number = await server.place()
    async with server.api() as api:
        async with api.stream("GET", "/live/orders") as r:
            lines = _Lines(r)
            await server.act(number, "pay")
            seen = 0
            while not seen:
                for event in await _events(lines, 1):
                    if {"number": number, "type": "order.paid",
                            "to_status": "paid"} in json.loads(event["data"]):
                        seen = int(event["id"])
        await server.act(number, "cancel")  # while no stream is open
        async with api.stream("GET", f"/live/orders/{number}?after={seen}") as r:
            (event,) = await _events(_Lines(r), 1)
    assert int(event["id"]) > seen
    assert [c["to_status"] for c in json.loads(event["data"])] == ["cancelled"]


async def test_streams_need_someone_signed_in_and_a_known_order(server: Server):
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        r = await anonymous.get("/live/orders")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    async with server.api() as api:
        r = await api.get("/live/orders/DD000000NOSUCH1")
        assert r.status_code == 404
