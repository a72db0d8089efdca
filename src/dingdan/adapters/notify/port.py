"""The one port every outbound channel implements.

A channel adapter turns a rendered :class:`Message` into a real protocol exchange (SMTP, an
SMS provider's HTTP API, Web Push, a webhook POST, a broker publish) and reports the
outcome as a :class:`SendResult`. Adapters never raise for delivery failures: they return
``ok=False`` and say whether a retry could help (``permanent=False``). Retries, back-off,
dead letters and de-duplication are the worker's business, not the adapter's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Message:
    event_id: str  # stable across retries; receivers de-duplicate by it
    channel: str  # "email" | "sms" | "webpush" | "webhook" | "nats"
    recipient: str  # email address, E.164 phone, push subscription JSON, URL, subject
    subject: str | None = None
    text: str = ""
    html: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # template params / body / payload
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    permanent: bool = False  # True: retrying cannot help (bad address, 4xx from a webhook)
    detail: str = ""
    response_code: int | None = None

    @classmethod
    def sent(cls, detail: str = "", response_code: int | None = None) -> SendResult:
        return cls(True, False, detail, response_code)

    @classmethod
    def retry(cls, detail: str, response_code: int | None = None) -> SendResult:
        return cls(False, False, detail, response_code)

    @classmethod
    def give_up(cls, detail: str, response_code: int | None = None) -> SendResult:
        return cls(False, True, detail, response_code)


class Sender(Protocol):
    """One outbound channel."""

    channel: str

    async def send(self, message: Message) -> SendResult: ...

    async def close(self) -> None: ...
