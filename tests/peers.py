"""Real local peers for adapter tests: an HTTP server on a free port in a background thread.

The server is the standard library's ``ThreadingHTTPServer``, so it shares no code with the
adapters under test (they use httpx). Each test gives it a handler that sees the request and
answers ``(status, headers, body)``; every request is recorded.

    with LocalHttpServer(handler) as peer:
        sender = SomeSender(url=peer.url("/hook"))
        ...
        await wait_until(lambda: len(peer.requests) == 1)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from dingdan.adapters.netguard import OutboundGuard

# The peers listen on loopback, which the outbound guard refuses unless allowed: senders in
# tests get ``loopback_guard()``, and the test settings ``outbound_allow=LOOPBACK``.
LOOPBACK = ("127.0.0.0/8", "::1")


def loopback_guard() -> OutboundGuard:
    return OutboundGuard.allowing(LOOPBACK)


@dataclass
class Request:
    method: str
    path: str  # without the query
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))


Answer = tuple[int, dict[str, str], bytes]
Handler = Callable[[Request], Answer]


class LocalHttpServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(self.command, parts.path, parts.query,
                              {k.lower(): v for k, v in self.headers.items()}, body)
                with outer._lock:
                    outer.requests.append(req)
                try:
                    status, headers, payload = outer.handler(req)
                except Exception as exc:  # a bug in the test's handler: say so, loudly
                    status, headers, payload = 599, {}, repr(exc).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> LocalHttpServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


async def wait_until(predicate: Callable[[], bool], within: float = 5.0,
                     what: str = "condition") -> None:
    """Poll ``predicate`` until it holds, failing after ``within`` seconds (never a bare sleep)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.01)


def json_answer(status: int, body: bytes) -> Answer:
    return status, {"Content-Type": "application/json"}, body
