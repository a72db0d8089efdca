"""The outbound-URL guard: resolve, refuse internal addresses, and connect only to the
address that was checked.

Two moments, one rule (``dingdan.domain.outbound.OutboundPolicy``):

- **When a URL is registered** (a webhook, a push subscription), :meth:`OutboundGuard.vet_url`
  refuses what the URL itself says (scheme, credentials, an internal literal or name) and
  what its name resolves to now. A name that does not resolve yet is let through: it reaches
  nothing, and the second moment decides.
- **When a request is sent**, the HTTP client of :func:`guarded_client` resolves the host
  itself, refuses the connection if *any* address is internal, and connects to the checked
  address — never to the name — so a name that resolved to a public address at registration
  and to 127.0.0.1 now (DNS rebinding) is refused. It does this as an httpcore network
  backend, below TLS: the ``Host`` header and the TLS server name stay the URL's host, and
  every connection, redirects and retries included, passes the check.

A refused connection raises :class:`OutboundRefused` (an ``httpx.ConnectError``, so code that
only knows httpx still fails closed); senders give up on it rather than retry.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from ipaddress import ip_address
from typing import Any

import httpcore
import httpx

from dingdan.domain.outbound import (
    REFUSAL_TEXT,
    IPAddress,
    OutboundPolicy,
    OutboundUrl,
    Refusal,
    numeric_host,
    parse_url,
    refuse,
)

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, by the system's resolver, off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


class OutboundRefused(httpx.ConnectError):
    """A connection to an address the policy refuses was not made."""

    def __init__(self, refusal: Refusal, host: str, address: IPAddress | None = None) -> None:
        self.refusal = refusal
        self.host = host
        self.address = address
        at = f" ({address})" if address is not None and str(address) != host else ""
        super().__init__(f"refused to connect to {host}{at}: {REFUSAL_TEXT[refusal][0]}")


class OutboundGuard:
    """The policy plus a resolver (tests give one that answers what they choose)."""

    def __init__(self, policy: OutboundPolicy | None = None, *,
                 resolver: Resolver = system_resolver, resolve_timeout: float = 5.0) -> None:
        self.policy = policy or OutboundPolicy()
        self.resolver = resolver
        self.resolve_timeout = resolve_timeout

    @classmethod
    def allowing(cls, entries: Iterable[str], **kw: Any) -> OutboundGuard:
        return cls(OutboundPolicy.from_entries(entries), **kw)

    def check_url(self, url: str, loc: str = "url") -> OutboundUrl:
        """What can be refused without the network (``UrlNotAllowed``)."""
        parsed = parse_url(url, loc)
        self.policy.check_literal(parsed, loc)
        return parsed

    async def vet_url(self, url: str, loc: str = "url") -> OutboundUrl:
        """The registration check: the URL, and what its name resolves to now
        (``UrlNotAllowed``). Unresolvable names pass; :meth:`addresses` decides at send."""
        parsed = self.check_url(url, loc)
        if parsed.address is not None or self.policy.allows_name(parsed.host):
            return parsed
        try:
            addresses = await asyncio.wait_for(self.resolver(parsed.host, parsed.port),
                                               self.resolve_timeout)
        except (OSError, TimeoutError, UnicodeError):
            return parsed
        for address in addresses:
            refusal = self.policy.address_refusal(address, parsed.host)
            if refusal is not None:
                raise refuse(refusal, loc)
        return parsed

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The connect-time check: the addresses ``host`` stands for now, all allowed, or
        :class:`OutboundRefused`. Resolution failures are ``httpcore`` connect errors (the
        receiver may be back later)."""
        try:
            literal = numeric_host(host)
        except ValueError:
            raise OutboundRefused(Refusal.BAD_HOST, host) from None
        if literal is not None:
            found = [literal]
        else:
            refusal = self.policy.name_refusal(host)
            if refusal is not None:
                raise OutboundRefused(refusal, host)
            try:
                found = await asyncio.wait_for(self.resolver(host, port), self.resolve_timeout)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            if not found:
                raise httpcore.ConnectError(f"{host} has no address")
        for address in found:
            refusal = self.policy.address_refusal(address, None if literal else host)
            if refusal is not None:
                raise OutboundRefused(refusal, host, address)
        return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the guard passed, and
    checks the peer it got is the address it asked for."""

    def __init__(self, guard: OutboundGuard,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int,
                          timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await self.guard.addresses(host, port):
            try:
                stream = await self.inner.connect_tcp(str(address), port, timeout,
                                                      local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the next address, like a browser
                last = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if peer is None or ip_address(str(peer[0]).split("%", 1)[0]) != address:
                await stream.aclose()
                raise OutboundRefused(Refusal.BAD_HOST, host, address)
            return stream
        raise last or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, path: str,
                                  timeout: float | None = None,  # noqa: ASYNC109 (as above)
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused(Refusal.LOOPBACK, path)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and response mapping, error mapping) over a connection
    pool whose every connection goes through :class:`GuardedBackend`. No proxy from the
    environment: a proxy would make the connection for us, past the check."""

    def __init__(self, guard: OutboundGuard, *, verify: ssl.SSLContext | bool = True,
                 limits: httpx.Limits = LIMITS,
                 backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        # httpx builds its pool in __init__ with the default backend and offers no argument
        # for another one; the pool is the documented httpcore API, built the same way.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard, backend))


def guarded_client(guard: OutboundGuard, *, timeout: float = 10.0,
                   follow_redirects: bool = False) -> httpx.AsyncClient:
    """An httpx client for URLs that outsiders chose. ``trust_env=False``: no proxy and no
    ``.netrc`` credentials from the environment."""
    return httpx.AsyncClient(transport=GuardedTransport(guard), timeout=timeout,
                             follow_redirects=follow_redirects, trust_env=False)
