"""Where Dingdan may send: outbound URLs and the addresses behind them. Pure.

A webhook URL or a browser's push endpoint is chosen by someone outside the company, yet the
request leaves from inside its network. Without a rule, such a URL reaches the network's own
services — the cloud metadata service at 169.254.169.254, an admin console on 127.0.0.1, a
database on 10.0.0.5 — and the reply comes back in the delivery log (server-side request
forgery). This module decides, with no I/O:

- whether a URL is acceptable at all: http or https, a host, no user name or password
  (:func:`parse_url`);
- which address a numeric host names, in every form a resolver accepts — ``2130706433``,
  ``0x7f000001``, ``0177.0.0.1``, ``127.1``, ``[::ffff:127.0.0.1]`` (:func:`numeric_host`);
- whether an address or a host name is one Dingdan may connect to
  (:meth:`OutboundPolicy.address_refusal`, :meth:`OutboundPolicy.name_refusal`): only
  globally routable unicast addresses, unless the operator's allow-list says otherwise.

Resolving names, and checking the address a connection is actually made to (so a name that
resolves somewhere else by the time of sending gains nothing), is
``dingdan.adapters.netguard``'s job. :func:`excerpt` is how much of a receiver's answer is
kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_network,
)
from urllib.parse import urlsplit

from dingdan.domain.errors import FieldError, UrlNotAllowed

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


class Refusal(StrEnum):
    """Why a URL or an address is refused; the value is the stable ``reason`` param."""

    SCHEME = "scheme"
    CREDENTIALS = "credentials"
    NO_HOST = "no_host"
    BAD_HOST = "bad_host"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link_local"
    SHARED = "shared"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    METADATA = "metadata"
    INTERNAL_NAME = "internal_name"


REFUSAL_TEXT: dict[Refusal, tuple[str, str]] = {  # (en, zh-CN)
    Refusal.SCHEME: ("only http and https URLs", "只能是 http 或 https 地址"),
    Refusal.CREDENTIALS: ("no user name or password in the URL", "地址中不能带用户名或密码"),
    Refusal.NO_HOST: ("the URL names no host", "地址中没有主机"),
    Refusal.BAD_HOST: ("not a valid host", "主机名无效"),
    Refusal.LOOPBACK: ("a loopback address", "回环地址"),
    Refusal.PRIVATE: ("a private network address", "内网地址"),
    Refusal.LINK_LOCAL: ("a link-local address (cloud metadata lives there)",
                         "链路本地地址（云元数据服务所在）"),
    Refusal.SHARED: ("a carrier-grade NAT address (100.64.0.0/10)",
                     "运营商级 NAT 地址（100.64.0.0/10）"),
    Refusal.UNSPECIFIED: ("the unspecified address", "未指定地址"),
    Refusal.MULTICAST: ("a multicast address", "组播地址"),
    Refusal.RESERVED: ("a reserved, non-public address", "保留的非公网地址"),
    Refusal.METADATA: ("a cloud metadata service", "云元数据服务"),
    Refusal.INTERNAL_NAME: ("an internal host name", "内部主机名"),
}


def refuse(refusal: Refusal, loc: str = "url") -> UrlNotAllowed:
    """The error for a refused URL: ``reason`` is the :class:`Refusal`, with its text in both
    languages for the problem document. What a name resolved to is not told (an internal
    address is nobody's business outside)."""
    en, zh = REFUSAL_TEXT[refusal]
    return UrlNotAllowed({"reason": refusal.value, "reason_text": en, "reason_zh": zh},
                         [FieldError(loc, "url_not_allowed", f"not allowed: {en}")])


# Names that reach the cloud's instance metadata (credentials!) on the major clouds, besides
# 169.254.169.254 itself: GCP, AWS, Tencent Cloud. Any name under these suffixes is internal
# by construction (RFC 6761 .localhost, mDNS .local, GCP/AWS .internal, Kubernetes).
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata",
                            "instance-data", "instance-data.ec2.internal",
                            "metadata.tencentyun.com"})
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".svc", ".cluster.local",
                     ".home.arpa")
_SHARED = IPv4Network("100.64.0.0/10")  # RFC 6598; Alibaba Cloud's metadata is 100.100.100.200
_PRIVATE = (IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"),
            IPv4Network("192.168.0.0/16"), IPv6Network("fc00::/7"),
            IPv6Network("fec0::/10"))  # fec0::/10: the deprecated IPv6 site-local range
_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))  # RFC 6052, 8215
_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


@dataclass(frozen=True, slots=True)
class OutboundUrl:
    scheme: str  # "http" | "https"
    host: str  # lower-case ASCII (IDNA), no brackets, no trailing dot
    port: int
    address: IPAddress | None  # the host as an address, when it is one


def parse_url(url: str, loc: str = "url") -> OutboundUrl:
    """Split an outbound URL; :class:`UrlNotAllowed` when it is not http(s) with a host and
    without credentials, or when its host is neither a name nor an address."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:  # a bad port, unbalanced brackets
        raise refuse(Refusal.BAD_HOST, loc) from exc
    if parts.scheme not in ("http", "https"):
        raise refuse(Refusal.SCHEME, loc)
    if parts.username is not None or parts.password is not None:
        raise refuse(Refusal.CREDENTIALS, loc)
    if not host:
        raise refuse(Refusal.NO_HOST, loc)
    try:
        address = numeric_host(host)
        name = _ascii_name(host) if address is None else str(address)
    except ValueError as exc:
        raise refuse(Refusal.BAD_HOST, loc) from exc
    return OutboundUrl(parts.scheme, name, port or (443 if parts.scheme == "https" else 80),
                       address)


def _ascii_name(host: str) -> str:
    name = host.rstrip(".").lower()
    if not name or any(c in name for c in " /\\%@#?[]"):
        raise ValueError(host)
    return name.encode("idna").decode("ascii")  # UnicodeError is a ValueError


def numeric_host(host: str) -> IPAddress | None:
    """The address a host names literally, in any form ``inet_aton`` and browsers accept
    (WHATWG URL "IPv4 parser": 1–4 parts, each decimal, ``0x`` hex or ``0`` octal, the last
    filling the remaining bytes); None for a name. ValueError for a host that ends in a
    number but is no valid address (``1.2.3.999``)."""
    host = host.strip("[]")
    if ":" in host:
        return IPv6Address(host.split("%", 1)[0])  # a zone id (fe80::1%eth0) changes nothing
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # "127.0.0.1." is 127.0.0.1
    if not _NUMBER.match(parts[-1]):
        return None
    if len(parts) > 4:
        raise ValueError(host)
    numbers = [_number(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return IPv4Address(value)


def _number(part: str) -> int:
    if not _NUMBER.match(part):
        raise ValueError(part)
    if part[:2] in ("0x", "0X"):
        return int(part[2:], 16)  # a bare "0x" is refused, as inet_aton refuses it
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # "08" is not octal: ValueError, as inet_aton refuses it
    return int(part)


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (``::ffff:a.b.c.d``),
    IPv4-compatible (``::a.b.c.d``), 6to4 (``2002:AABB:CCDD::``) and NAT64 (``64:ff9b::/96``)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    raw = int(address)
    if raw >> 32 == 0 and raw > 1:  # ::a.b.c.d, but not :: or ::1
        return IPv4Address(raw)
    if any(address in net for net in _NAT64):
        return IPv4Address(raw & 0xFFFFFFFF)
    return None


def address_refusal(address: IPAddress) -> Refusal | None:
    """Why Dingdan may not connect to ``address`` by default; None for a public unicast one."""
    if isinstance(address, IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return address_refusal(inner)
    if address.is_loopback:
        return Refusal.LOOPBACK
    if address.is_unspecified:
        return Refusal.UNSPECIFIED
    if address.is_link_local:
        return Refusal.LINK_LOCAL
    if address.is_multicast:
        return Refusal.MULTICAST
    if isinstance(address, IPv4Address) and address in _SHARED:
        return Refusal.SHARED
    if any(address in net for net in _PRIVATE):
        return Refusal.PRIVATE
    if address.is_reserved or not address.is_global:  # documentation, benchmarking, 240/4…
        return Refusal.RESERVED
    return None


def name_refusal(name: str) -> Refusal | None:
    """Why a host name is refused before it is even resolved; None if it may be looked up."""
    name = name.rstrip(".").lower()
    if name in METADATA_NAMES:
        return Refusal.METADATA
    if name == "localhost" or name.endswith(".localhost"):
        return Refusal.LOOPBACK
    if "." not in name or name.endswith(INTERNAL_SUFFIXES):
        return Refusal.INTERNAL_NAME  # single labels resolve through the local search list
    return None


@dataclass(frozen=True)
class OutboundPolicy:
    """The default rule plus the operator's allow-list for receivers on premises.

    ``allow`` entries are addresses or networks (``10.20.0.0/16``, ``::1``) and host names
    (``erp.corp.example``, or ``*.corp.example`` for every name under it). An allowed name
    may resolve anywhere; an allowed network admits the addresses in it, whatever the name.
    """

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> OutboundPolicy:
        """ValueError names an entry that is neither an address, a network nor a host name."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            name = entry.lower().rstrip(".")
            bare = name.removeprefix("*.")
            if not bare or not re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", bare):
                raise ValueError(f"{raw!r} is not an address, a network or a host name")
            hosts.add(name)
        return cls(tuple(networks), frozenset(hosts))

    def allows_name(self, name: str) -> bool:
        name = name.rstrip(".").lower()
        return name in self.hosts or any(
            h.startswith("*.") and name.endswith(h[1:]) for h in self.hosts)

    def allows_address(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address) and (inner := embedded_ipv4(address)) is not None:
            candidates.append(inner)
        return any(a in net for a in candidates for net in self.networks
                   if a.version == net.version)

    def address_refusal(self, address: IPAddress, name: str | None = None) -> Refusal | None:
        """Why ``address`` (reached by ``name``, if by one) is refused; None if allowed."""
        if (name is not None and self.allows_name(name)) or self.allows_address(address):
            return None
        return address_refusal(address)

    def name_refusal(self, name: str) -> Refusal | None:
        """Metadata names are refused unless allowed by name. Other internal names
        (``localhost``, ``erp.corp.internal``) are refused too — unless the allow-list has
        networks: then they are resolved, and their addresses decide."""
        if self.allows_name(name):
            return None
        refusal = name_refusal(name)
        if refusal is not Refusal.METADATA and self.networks:
            return None
        return refusal

    def check_literal(self, url: OutboundUrl, loc: str = "url") -> None:
        """Refuse what can be told without resolving: an address literal, or a name that is
        internal by itself. Raises :class:`UrlNotAllowed`."""
        if url.address is not None:
            refusal = self.address_refusal(url.address)
        else:
            refusal = self.name_refusal(url.host)
        if refusal is not None:
            raise refuse(refusal, loc)


def excerpt(text: str, limit: int = 200) -> str:
    """What may be kept of a receiver's answer: printable characters, whitespace collapsed,
    at most ``limit`` of them. A receiver's body is not ours to store (it may be an internal
    page, or secrets); the first words usually say why it refused."""
    printable = "".join(c if c.isprintable() else " " for c in text[:limit * 4])
    flat = " ".join(printable.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
