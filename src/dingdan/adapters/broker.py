"""Broker channel: every order event published to NATS JetStream, for other systems.

Channel ``"nats"``. The subject is ``<prefix>.<event type>`` (``dingdan.events.order.shipped``)
unless a message names one in ``recipient``; the payload is the event (``message.data``) as
JSON. The event id goes in the ``Nats-Msg-Id`` header, so JetStream drops a re-publish of the
same event inside the stream's duplicate window (a worker killed between publishing and
recording the delivery does no harm); consumers can de-duplicate on it beyond that window.

The stream (``Settings.nats_stream``, subjects ``<prefix>.>``) is created on first use if it
does not exist; an existing stream's configuration is the operator's and is left alone.
The connection is opened on first send and reconnects a few times by itself; after that it
is opened again by the next send. While the server is away, sends answer "retry".
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import Header, StorageType, StreamConfig

from dingdan.adapters.notify._common import event_type_of, json_bytes
from dingdan.adapters.notify.port import Message, SendResult

_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")


class NatsSender:
    channel = "nats"

    def __init__(self, url: str, *, stream: str = "DINGDAN_EVENTS",
                 subject_prefix: str = "dingdan.events", duplicate_window: float = 2 * 3600,
                 timeout: float = 5.0, connect_timeout: float = 2.0) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix.rstrip(".")
        self.duplicate_window = duplicate_window  # seconds JetStream remembers a msg id
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._lock: asyncio.Lock | None = None

    def subject_for(self, event_type: str) -> str:
        return f"{self.subject_prefix}.{event_type}"

    async def _jetstream(self) -> JetStreamContext:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._nc is None or self._nc.is_closed:
                self._nc = await nats.connect(
                    self.url, connect_timeout=self.connect_timeout, allow_reconnect=True,
                    max_reconnect_attempts=3, reconnect_time_wait=0.5,
                    error_cb=_quiet, disconnected_cb=_quiet_event,
                    reconnected_cb=_quiet_event, closed_cb=_quiet_event)
                self._js = self._nc.jetstream(timeout=self.timeout)
                self._stream_ready = False
            assert self._js is not None
            if not self._stream_ready:
                await self._ensure_stream(self._js)
                self._stream_ready = True
            return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            try:
                await js.add_stream(StreamConfig(
                    name=self.stream, subjects=[f"{self.subject_prefix}.>"],
                    storage=StorageType.FILE, duplicate_window=self.duplicate_window))
            except nats.js.errors.BadRequestError:
                await js.stream_info(self.stream)  # another worker made it first

    async def send(self, message: Message) -> SendResult:
        event_type = event_type_of(message)
        subject = message.recipient or self.subject_for(event_type)
        if not _TOKEN.match(subject) or (not event_type and not message.recipient):
            return SendResult.give_up(f"no valid subject for event type {event_type!r}")
        headers = {Header.MSG_ID.value: message.event_id, "Dingdan-Event-Type": event_type,
                   "Content-Type": "application/json"}
        try:
            js = await self._jetstream()
            ack = await js.publish(subject, json_bytes(message.data), headers=headers)
        except nats.js.errors.NoStreamResponseError:
            self._stream_ready = False  # stream deleted under us: make it again next time
            return SendResult.retry(f"no stream answered on {subject}")
        except nats.errors.MaxPayloadError as exc:
            return SendResult.give_up(f"event too large for the server: {exc}")
        except nats.js.errors.BadRequestError as exc:
            return SendResult.give_up(f"JetStream refused the message: {exc}")
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            return SendResult.retry(f"{type(exc).__name__}: {exc}"[:500])
        dup = " duplicate" if ack.duplicate else ""
        return SendResult.sent(f"{ack.stream}#{ack.seq}{dup}")

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()


async def _quiet(exc: Exception) -> None:
    # Connection trouble is reported through the send results; nats-py would log each one.
    return None


async def _quiet_event(*_: Any) -> None:
    return None
