"""The outbound rules (dingdan.domain.outbound): which hosts and addresses Dingdan may send to,
in every spelling a resolver accepts. Pure: no network."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

import pytest

from dingdan.domain.errors import UrlNotAllowed
from dingdan.domain.outbound import (
    OutboundPolicy,
    Refusal,
    address_refusal,
    excerpt,
    name_refusal,
    numeric_host,
    parse_url,
)
from dingdan.settings import Settings

R = Refusal


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
    ("0X7F.0.0.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"), ("0", "0.0.0.0"), ("169.254.43518", "169.254.169.254"),
    ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"), ("127.0.0.1.", "127.0.0.1"),
    ("[::1]", "::1"), ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("fe80::1%eth0", "fe80::1"),
])
def test_every_spelling_of_a_numeric_host_is_the_address_a_resolver_would_use(
        host: str, address: str) -> None:
    assert numeric_host(host) == ip_address(address)
    if "." in host and ":" not in host:  # the C library agrees (inet_aton, as getaddrinfo)
        assert IPv4Address(socket.inet_aton(host.rstrip("."))) == ip_address(address)


@pytest.mark.parametrize("host", ["1.2.3.999", "1.2.3.4.5", "256.1", "08.0.0.1", "1.0x", "0x"])
def test_a_host_that_ends_in_a_number_but_is_no_address_is_refused(host: str) -> None:
    with pytest.raises(ValueError):
        numeric_host(host)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.example", "0x7f.example"])
def test_names_are_names(host: str) -> None:
    assert numeric_host(host) is None


@pytest.mark.parametrize(("address", "refusal"), [
    ("127.0.0.1", R.LOOPBACK), ("127.9.9.9", R.LOOPBACK), ("::1", R.LOOPBACK),
    ("10.0.0.1", R.PRIVATE), ("172.16.5.4", R.PRIVATE), ("172.31.255.255", R.PRIVATE),
    ("192.168.1.1", R.PRIVATE), ("fd00::1", R.PRIVATE), ("fc00::1", R.PRIVATE),
    ("fec0::1", R.PRIVATE),
    ("169.254.169.254", R.LINK_LOCAL), ("fe80::1", R.LINK_LOCAL),
    ("100.64.0.1", R.SHARED), ("100.100.100.200", R.SHARED),
    ("0.0.0.0", R.UNSPECIFIED), ("::", R.UNSPECIFIED),
    ("224.0.0.1", R.MULTICAST), ("ff02::1", R.MULTICAST),
    ("192.0.2.1", R.RESERVED), ("240.0.0.1", R.RESERVED), ("255.255.255.255", R.RESERVED),
    ("198.18.0.1", R.RESERVED), ("2001:db8::1", R.RESERVED),
    # IPv6 spellings of IPv4 addresses: mapped, compatible, 6to4, NAT64
    ("::ffff:127.0.0.1", R.LOOPBACK), ("::ffff:169.254.169.254", R.LINK_LOCAL),
    ("::10.0.0.1", R.PRIVATE), ("2002:7f00:1::", R.LOOPBACK), ("2002:a9fe:a9fe::1", R.LINK_LOCAL),
    ("64:ff9b::7f00:1", R.LOOPBACK), ("64:ff9b::a00:1", R.PRIVATE),
])
def test_internal_addresses_are_refused_by_default(address: str, refusal: Refusal) -> None:
    assert address_refusal(ip_address(address)) is refusal


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111",
                                     "::ffff:8.8.8.8", "2002:808:808::1"])
def test_public_unicast_addresses_are_allowed(address: str) -> None:
    assert address_refusal(ip_address(address)) is None


@pytest.mark.parametrize(("name", "refusal"), [
    ("metadata.google.internal", R.METADATA), ("METADATA.GOOGLE.INTERNAL.", R.METADATA),
    ("metadata", R.METADATA), ("instance-data.ec2.internal", R.METADATA),
    ("localhost", R.LOOPBACK), ("app.localhost", R.LOOPBACK),
    ("redis", R.INTERNAL_NAME), ("printer.local", R.INTERNAL_NAME),
    ("db.c.project.internal", R.INTERNAL_NAME), ("api.default.svc", R.INTERNAL_NAME),
])
def test_internal_host_names_are_refused_before_they_are_resolved(name: str,
                                                                  refusal: Refusal) -> None:
    assert name_refusal(name) is refusal
    assert name_refusal("erp.example.com") is None


@pytest.mark.parametrize(("url", "refusal"), [
    ("file:///etc/passwd", R.SCHEME), ("gopher://127.0.0.1:6379/_INFO", R.SCHEME),
    ("ftp://example.com/", R.SCHEME), ("http://user@example.com/", R.CREDENTIALS),
    ("http://user:pw@example.com/", R.CREDENTIALS), ("http:///path", R.NO_HOST),
    ("http://1.2.3.999/", R.BAD_HOST), ("http://[::1/", R.BAD_HOST),
    ("http://example.com:99999/", R.BAD_HOST),
])
def test_only_http_urls_with_a_host_and_no_credentials_parse(url: str, refusal: Refusal) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        parse_url(url)
    assert caught.value.params["reason"] == refusal.value
    assert caught.value.details[0].loc == "url"


def test_a_parsed_url_knows_its_port_and_literal_address() -> None:
    url = parse_url("https://0x7f000001/hook")
    assert (url.scheme, url.host, url.port, url.address) == (
        "https", "127.0.0.1", 443, IPv4Address("127.0.0.1"))
    named = parse_url("http://ERP.Example.COM.:8080/x")
    assert (named.host, named.port, named.address) == ("erp.example.com", 8080, None)
    assert parse_url("http://[::1]/").address == IPv6Address("::1")


def test_the_allow_list_admits_networks_and_names_and_nothing_else() -> None:
    policy = OutboundPolicy.from_entries(["10.20.0.0/16", "::1", "erp.corp.example",
                                          "*.lan.example", " "])
    assert policy.address_refusal(ip_address("10.20.3.4")) is None
    assert policy.address_refusal(ip_address("::ffff:10.20.3.4")) is None
    assert policy.address_refusal(ip_address("::1")) is None
    assert policy.address_refusal(ip_address("10.21.0.1")) is R.PRIVATE
    assert policy.address_refusal(ip_address("127.0.0.1")) is R.LOOPBACK
    # an allowed name may resolve to any address
    assert policy.address_refusal(ip_address("192.168.1.1"), "erp.corp.example") is None
    assert policy.address_refusal(ip_address("192.168.1.1"), "a.b.lan.example") is None
    assert policy.address_refusal(ip_address("192.168.1.1"), "lan.example") is R.PRIVATE
    assert policy.name_refusal("erp.corp.example") is None
    # with networks allowed, internal names are resolved and their addresses decide…
    assert policy.name_refusal("localhost") is None
    assert policy.name_refusal("db.corp.internal") is None
    # …but a metadata name never is, and without networks nothing internal is looked up
    assert policy.name_refusal("metadata.google.internal") is R.METADATA
    assert OutboundPolicy().name_refusal("localhost") is R.LOOPBACK
    with pytest.raises(ValueError, match="not an address"):
        OutboundPolicy.from_entries(["10.0.0.0/8", "not a host!"])


def test_a_receivers_answer_is_kept_as_a_short_printable_excerpt() -> None:
    body = "Forbidden\r\n\x00\x1b[31m" + "root:x:0:0:root:/root:/bin/bash\n" * 300
    kept = excerpt(body)
    assert len(kept) <= 200 and kept.startswith("Forbidden [31mroot:x:0:0")
    assert kept.isprintable() and kept.endswith("…")
    assert excerpt("  short\n answer ") == "short answer"


def test_the_senders_get_the_guard_of_the_settings_and_production_allows_nothing_internal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dingdan.adapters.notify.registry import build_senders
    from dingdan.adapters.notify.webhook import StaticTargets, WebhookSender

    monkeypatch.delenv("DINGDAN_OUTBOUND_ALLOW", raising=False)
    assert Settings().outbound_allow == []
    monkeypatch.setenv("DINGDAN_OUTBOUND_ALLOW", '["10.20.0.0/16", "erp.corp.example"]')
    settings = Settings(vapid_key_file=tmp_path / "none.pem")
    sender = build_senders(settings, webhook_targets=StaticTargets({}))["webhook"]
    assert isinstance(sender, WebhookSender)
    policy = sender.guard.policy
    assert policy.address_refusal(ip_address("10.20.1.1")) is None
    assert policy.allows_name("erp.corp.example")
    assert policy.address_refusal(ip_address("10.21.1.1")) is R.PRIVATE
    monkeypatch.setenv("DINGDAN_OUTBOUND_ALLOW", '["not a host!"]')
    with pytest.raises(ValueError, match="not an address"):
        Settings()
