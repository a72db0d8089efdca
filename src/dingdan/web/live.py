"""Live pages: order changes pushed to browsers over server-sent events.

Every status change, note or edit is an ``order_events`` row written in the change's own
transaction. One follower task per server process learns of new rows and a :class:`Hub`
fans them out to the open streams of that process:

- PostgreSQL: ``LISTEN dingdan_orders``; migration 0005's trigger NOTIFYs at commit, so every
  process behind the load balancer hears every change, whichever process or worker made it.
  After a (re)connect the follower catches up from the table, so a dropped connection
  loses nothing.
- SQLite (one process): the follower polls the newest event id every half second.

The follower starts with the first watcher and runs until shutdown. Each SSE message carries
the event id; a browser that reconnects sends ``Last-Event-ID`` and is replayed what it missed.
Streams end after a few minutes (the browser reconnects at once), so a server can always
shut down.

Endpoints: ``/live/orders`` (any order changed; the list and home pages) and
``/live/orders/{number}`` (one order; the order page, and later the customer portal).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from dingdan.services import backoffice as bo
from dingdan.services import queries
from dingdan.store.listen import listening
from dingdan.store.uow import UnitOfWork
from dingdan.web.ui.deps import PageActor

log = structlog.get_logger("dingdan.live")

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0  # then the browser reconnects (with Last-Event-ID)
COALESCE_SECONDS = 0.3  # the list refreshes once for a burst of changes
RETRY_MS = 1000
QUEUE_SIZE = 1000
# Event ids a hub remembers having published, to drop what it hears twice (NOTIFY and the
# catch-up read). A set, not a high-water mark: on PostgreSQL ids are drawn at insert and
# transactions commit in any order, so id 41 may be heard after 42 — and must not be dropped
# (bench/status_page.py lost changes under intake until this was a set).
SEEN = 10_000


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    number: str
    type: str
    to_status: str | None


class Hub:
    """Fans order changes out to this process's open streams."""

    def __init__(self, uows: Callable[..., UnitOfWork], database_url: str) -> None:
        self._uows = uows
        self._url = database_url
        self._queues: set[asyncio.Queue[Change]] = set()
        self._task: asyncio.Task[None] | None = None
        self.last_id = 0
        self._seen: set[int] = set()
        self._seen_order: collections.deque[int] = collections.deque()

    @property
    def uses_notify(self) -> bool:
        return self._url.startswith("postgresql")

    def read_uow(self) -> UnitOfWork:
        return self._uows(read_only=True)

    async def subscribe(self) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue(QUEUE_SIZE)
        if self._task is None or self._task.done():
            self.last_id = await bo.last_event_id(self.read_uow())
            self._task = asyncio.create_task(self._follow(), name="dingdan-live")
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._queues.discard(queue)

    def publish(self, change: Change) -> None:
        if change.id in self._seen or change.id <= self.last_id - SEEN:
            return  # heard twice (NOTIFY and catch-up), or older than anything remembered
        self._seen.add(change.id)
        self._seen_order.append(change.id)
        if len(self._seen_order) > SEEN:
            self._seen.discard(self._seen_order.popleft())
        self.last_id = max(self.last_id, change.id)
        for queue in list(self._queues):
            if queue.full():  # a stalled reader loses its oldest news, never blocks others
                queue.get_nowait()
            queue.put_nowait(change)

    async def catch_up(self) -> None:
        while True:
            rows = await bo.events_after(self.last_id, self.read_uow())
            for row in rows:
                self.publish(Change(row["id"], row["number"], row["type"], row["to_status"]))
            if len(rows) < 500:
                return

    async def _follow(self) -> None:
        while True:
            try:
                if self.uses_notify:
                    await self._listen()
                else:
                    await self.catch_up()
                    await asyncio.sleep(POLL_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry, never kill the server
                log.warning("live follower error; retrying", error=repr(exc))
                await asyncio.sleep(1.0)

    async def _listen(self) -> None:
        async with listening(self._url) as notes:
            await self.catch_up()  # what committed before LISTEN took effect
            async for payload in notes:
                data: dict[str, Any] = orjson.loads(payload)
                if data.get("number"):
                    self.publish(Change(int(data["id"]), data["number"], data["type"],
                                        data.get("to_status")))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._queues.clear()


def _message(event: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {orjson.dumps(data).decode()}\n\n".encode()


async def changes(hub: Hub, number: str | None, last_event_id: int | None,
                  ) -> AsyncIterator[list[Change]]:
    """Batches of changes (one order's, or all), replaying those after ``last_event_id``."""
    queue = await hub.subscribe()
    try:
        if last_event_id is not None and last_event_id < hub.last_id:
            missed = [Change(r["id"], r["number"], r["type"], r["to_status"])
                      for r in await bo.events_after(last_event_id, hub.read_uow())
                      if r["id"] <= hub.last_id]
            missed = [c for c in missed if number is None or c.number == number]
            if missed:
                yield missed
        loop = asyncio.get_running_loop()
        end = loop.time() + STREAM_SECONDS
        while loop.time() < end:
            try:
                first = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield []
                continue
            batch = [first]
            if number is None:  # a burst of changes refreshes the list once
                await asyncio.sleep(COALESCE_SECONDS)
                while not queue.empty():
                    batch.append(queue.get_nowait())
            batch = [c for c in batch if number is None or c.number == number]
            if batch:
                yield batch
    finally:
        hub.unsubscribe(queue)


async def _sse(hub: Hub, event: str, number: str | None,
               last_event_id: int | None) -> AsyncIterator[bytes]:
    yield f"retry: {RETRY_MS}\n: live\n\n".encode()
    async for batch in changes(hub, number, last_event_id):
        if not batch:
            yield b": keep-alive\n\n"
            continue
        data = [{"number": c.number, "type": c.type, "to_status": c.to_status} for c in batch]
        yield _message(event, data, batch[-1].id)


def stream_response(hub: Hub, event: str, number: str | None,
                    last_event_id: str | None) -> StreamingResponse:
    last = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    return StreamingResponse(_sse(hub, event, number, last), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def hub_of(request: Request) -> Hub:
    hub: Hub | None = getattr(request.app.state, "live", None)
    if hub is None:
        hub = request.app.state.live = Hub(request.app.state.uow,
                                           request.app.state.settings.database_url)
    return hub


router = APIRouter(prefix="/live")


# ``after``: the newest event id the page was rendered with, so a change made between the
# render and the stream's start is not missed; a reconnect's Last-Event-ID takes precedence.

@router.get("/orders")
async def all_orders(request: Request, actor: PageActor, after: str | None = None,
                     last_event_id: str | None = Header(None)) -> StreamingResponse:
    """``orders-changed`` whenever any order changes (a burst is one message)."""
    return stream_response(hub_of(request), "orders-changed", None, last_event_id or after)


@router.get("/orders/{number}")
async def one_order(number: str, request: Request, actor: PageActor, after: str | None = None,
                    last_event_id: str | None = Header(None)) -> StreamingResponse:
    """``order-changed`` whenever this order changes."""
    # 404 for an unknown order, or one this person may not see
    await queries.get_order(number, request.app.state.uow(read_only=True), actor=actor)
    return stream_response(hub_of(request), "order-changed", number, last_event_id or after)


async def stop(app: Any) -> None:
    """End this process's follower at shutdown (the app's lifespan calls it)."""
    hub: Hub | None = getattr(app.state, "live", None)
    if hub is not None:
        await hub.stop()
