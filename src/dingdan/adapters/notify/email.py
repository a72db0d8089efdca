"""Email channel: SMTP with aiosmtplib, STARTTLS or implicit TLS as configured.

Every message has a text part and, when the message has one, an HTML alternative. Its
``Message-ID`` is derived from the event id and the recipient, so the same notification is
recognisably the same mail on every retry, and ``Dingdan-Event-Id`` carries the event id
for receivers that de-duplicate. Answers map onto :class:`SendResult` like this: a 5xx for
the recipient gives up (the address does not exist or refuses us); everything else — 4xx,
refused connections, timeouts, a dropped connection, authentication or sender refusals (a
set-up problem an operator fixes) — is retried by the worker.

Connections are pooled (``pool_size`` per sender) and reused across messages; a reused
connection that turns out to be closed is replaced once, at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import Literal

import aiosmtplib

from dingdan.adapters.notify.port import Message, SendResult

TlsMode = Literal["starttls", "tls", "none"]


def message_id(event_id: str, recipient: str, domain: str) -> str:
    """``<event-id.recipient-digest@domain>``: stable across retries, distinct per recipient."""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]
    return f"<{event_id}.{digest}@{domain}>"


def build_email(message: Message, from_addr: str, date: datetime | None = None) -> EmailMessage:
    """The MIME message: text, plus an HTML alternative when the message has HTML."""
    _name, address = parseaddr(from_addr)
    domain = address.rpartition("@")[2] or "localhost"
    mail = EmailMessage(policy=SMTP_POLICY)
    mail["From"] = from_addr
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Message-ID"] = message_id(message.event_id, message.recipient, domain)
    mail["Date"] = format_datetime(date or datetime.now(UTC))
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    mail["Dingdan-Event-Id"] = message.event_id
    for name, value in message.headers.items():
        if name.lower() not in ("from", "to", "subject", "message-id", "date"):
            mail[name] = value
    mail.set_content(message.text or "", subtype="plain", charset="utf-8")
    if message.html:
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
    return mail


def tls_context(ca_file: Path | None, validate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if not validate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def classify(exc: Exception) -> SendResult:
    """Map an aiosmtplib error onto a send result (see the module docstring)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [e.code for e in exc.recipients]
        detail = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)[:500]
        if codes and all(500 <= c < 600 for c in codes):
            return SendResult.give_up(f"recipient refused: {detail}", codes[0])
        return SendResult.retry(f"recipient deferred: {detail}", codes[0] if codes else None)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
        return SendResult.retry(f"SMTP {code}: {exc.message}"[:500], code)
    return SendResult.retry(f"{type(exc).__name__}: {exc}"[:500])


class EmailSender:
    channel = "email"

    def __init__(self, *, host: str, port: int, from_addr: str, tls: TlsMode = "starttls",
                 username: str | None = None, password: str | None = None,
                 timeout: float = 30.0, context: ssl.SSLContext | None = None,
                 pool_size: int = 4) -> None:
        self.host = host
        self.port = port
        self.from_addr = from_addr
        self.tls = tls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._context = context or ssl.create_default_context()
        self._envelope_from = parseaddr(from_addr)[1] or from_addr
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self._slots = asyncio.Semaphore(max(1, pool_size))
        self._closed = False

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host, port=self.port, timeout=self._timeout,
            use_tls=self.tls == "tls", start_tls=self.tls == "starttls",
            tls_context=self._context, username=self._username, password=self._password)

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._client()
        await client.connect()
        return client

    async def send(self, message: Message) -> SendResult:
        if not getaddresses([message.recipient])[0][1]:
            return SendResult.give_up(f"not an email address: {message.recipient!r}")
        mail = build_email(message, self.from_addr)
        async with self._slots:
            reused = True
            try:
                client = self._idle.get_nowait()
            except asyncio.QueueEmpty:
                reused = False
                try:
                    client = await self._connect()
                except Exception as exc:
                    return classify(exc)
            for attempt in (1, 2):
                try:
                    _errors, response = await client.send_message(
                        mail, sender=self._envelope_from, recipients=[message.recipient])
                except aiosmtplib.SMTPServerDisconnected as exc:
                    await _close(client)
                    if not (reused and attempt == 1):
                        return classify(exc)
                    try:  # an idle connection the server had closed: one fresh try
                        client = await self._connect()
                    except Exception as exc2:
                        return classify(exc2)
                    continue
                except Exception as exc:
                    await _close(client)
                    return classify(exc)
                self._park(client)
                return SendResult.sent(response[:200], 250)
        return SendResult.retry("unreachable")  # pragma: no cover

    def _park(self, client: aiosmtplib.SMTP) -> None:
        if self._closed or not client.is_connected:
            return
        self._idle.put_nowait(client)

    async def close(self) -> None:
        self._closed = True
        while not self._idle.empty():
            await _close(self._idle.get_nowait())


async def _close(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except Exception:
        client.close()
