"""Live updates: every order change reaches this process's hub (and every other process's,
on PostgreSQL) within two seconds, and a reconnecting page is replayed what it missed."""

from __future__ import annotations

import asyncio

from dingdan.web.live import Hub, changes
from web.conftest import place, walk


def _hub(office) -> Hub:
    settings = office.app.state.settings
    return Hub(office.app.state.uow, settings.database_url)


async def _next_for(queue: asyncio.Queue, number: str, within: float = 2.0):
    async def wait():
        while True:
            change = await queue.get()
            if change.number == number:
                return change
    return await asyncio.wait_for(wait(), within)


async def test_a_change_made_through_the_api_reaches_the_hub(office, admin, catalogue):
    number = await place(admin, catalogue["skus"]["A"])
    hub = _hub(office)
    try:
        queue = await hub.subscribe()
        await walk(admin, number, "pay")
        change = await _next_for(queue, number)
        assert change.type == "order.paid" and change.to_status == "paid"
        await admin.post(f"/api/v1/orders/{number}/notes", json={"note": "hi"})
        assert (await _next_for(queue, number)).type == "order.note_added"
    finally:
        await hub.stop()


async def test_every_process_hears_every_change(office, admin, catalogue):
    """Two hubs stand for two server processes (on PostgreSQL each LISTENs on its own)."""
    number = await place(admin, catalogue["skus"]["A"])
    one, two = _hub(office), _hub(office)
    try:
        q1, q2 = await one.subscribe(), await two.subscribe()
        await walk(admin, number, "cancel")
        for q in (q1, q2):
            assert (await _next_for(q, number)).to_status == "cancelled"
    finally:
        await one.stop()
        await two.stop()


async def test_a_reconnecting_stream_is_replayed_what_it_missed(office, admin, catalogue):
    number = await place(admin, catalogue["skus"]["A"])
    hub = _hub(office)
    try:
        queue = await hub.subscribe()
        await walk(admin, number, "pay")
        seen = await _next_for(queue, number)
        await walk(admin, number, "submit-review")
        await _next_for(queue, number)
        stream = changes(hub, number, seen.id)
        batch = await asyncio.wait_for(anext(stream), 2)
        assert [c.type for c in batch] == ["order.submitted_for_review"]
        await stream.aclose()
    finally:
        await hub.stop()


async def test_a_per_order_stream_only_carries_that_order(office, admin, catalogue):
    mine = await place(admin, catalogue["skus"]["A"])
    other = await place(admin, catalogue["skus"]["A"])
    hub = _hub(office)
    try:
        stream = changes(hub, mine, None)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.1)
        await walk(admin, other, "pay")
        await walk(admin, mine, "cancel")
        batch = await asyncio.wait_for(first, 3)
        assert {c.number for c in batch} == {mine}
        await stream.aclose()
    finally:
        await hub.stop()
