"""The live hub hears each change once, in whatever order transactions committed."""

from __future__ import annotations

import asyncio

from dingdan.web.live import Change, Hub


def _hub() -> tuple[Hub, asyncio.Queue[Change]]:
    hub = Hub(lambda **_: None, "postgresql://unused")  # type: ignore[arg-type,return-value]
    queue: asyncio.Queue[Change] = asyncio.Queue()
    hub._queues.add(queue)
    return hub, queue


def _drain(queue: asyncio.Queue[Change]) -> list[int]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait().id)
    return out


def test_a_change_committed_after_a_newer_one_still_reaches_the_pages():
    hub, queue = _hub()
    for i in (40, 42, 41, 43):  # 41's transaction committed after 42's
        hub.publish(Change(i, "DD1", "order.paid", "paid"))
    assert _drain(queue) == [40, 42, 41, 43]
    assert hub.last_id == 43


def test_a_change_heard_twice_is_published_once():
    hub, queue = _hub()
    for i in (7, 8, 7, 8, 9):  # NOTIFY and the catch-up read both bring 7 and 8
        hub.publish(Change(i, "DD1", "order.paid", "paid"))
    assert _drain(queue) == [7, 8, 9]
