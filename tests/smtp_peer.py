"""A real SMTP server for email tests: aiosmtpd on a free port, in its own thread.

It records every message it accepts (``received``, raw) and keeps a de-duplicating
``mailbox`` keyed by (Message-ID, recipient), the way a receiving system that honours the
event id would. Recipients can be refused (5xx) or deferred (4xx) to test failures;
STARTTLS and implicit TLS use a self-signed certificate made for the test.

    with SmtpPeer() as smtp:
        sender = EmailSender(host="127.0.0.1", port=smtp.port, tls="none", ...)
        ...
        await wait_until(lambda: len(smtp.received) == 1)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def event_id(self) -> str:
        return str(self.message["Dingdan-Event-Id"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content


class _Handler:
    def __init__(self, peer: SmtpPeer) -> None:
        self.peer = peer

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.peer.refuse:
            return "550 5.1.1 no such mailbox"
        if self.peer.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.peer.delay:
            await asyncio.sleep(self.peer.delay)  # a relay that takes its time
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.peer.lock:
            self.peer.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                               message))
        return "250 2.0.0 queued"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpPeer:
    def __init__(self, *, tls: str = "none", cert: tuple[Path, Path] | None = None,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.defer = False
        self.delay = 0.0  # seconds before each message is accepted
        self.lock = threading.Lock()
        kwargs: dict[str, Any] = {}
        if tls != "none":
            assert cert is not None, "TLS needs a certificate"
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                      ready_timeout=10, **kwargs)

    def __enter__(self) -> SmtpPeer:
        self._controller.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._controller.stop()

    # -- what arrived ---------------------------------------------------------------------

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_to]

    def count(self, addresses: set[str] | None = None) -> int:
        with self.lock:
            return sum(1 for r in self.received
                       if addresses is None or set(r.rcpt_to) & addresses)

    def mailbox(self, addresses: set[str] | None = None) -> dict[tuple[str, str], Received]:
        """One message per (Message-ID, recipient): what a de-duplicating receiver keeps."""
        box: dict[tuple[str, str], Received] = {}
        with self.lock:
            for r in self.received:
                for rcpt in r.rcpt_to:
                    if addresses is None or rcpt in addresses:
                        box.setdefault((r.message_id, rcpt), r)
        return box

    def duplicates(self, addresses: set[str] | None = None) -> int:
        """Messages received more than once for the same (Message-ID, recipient)."""
        with self.lock:
            seen = Counter((r.message_id, rcpt) for r in self.received for rcpt in r.rcpt_to
                           if addresses is None or rcpt in addresses)
        return sum(n - 1 for n in seen.values())
