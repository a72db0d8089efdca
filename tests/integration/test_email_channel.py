"""The email channel against a real SMTP server (aiosmtpd): plain, STARTTLS and implicit
TLS; HTML and text parts; the Message-ID derived from the event id; refusals and outages
mapped onto retry or give-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from dingdan.adapters.notify.email import EmailSender, message_id, tls_context
from dingdan.adapters.notify.port import Message
from smtp_peer import SmtpPeer, free_port, self_signed_cert


def _message(recipient: str = "li.na@example.com", event_id: str = "e-1") -> Message:
    return Message(event_id, "email", recipient, subject="订单 DD1 已发货",
                   text="您的订单 DD1 已发货。\n查询物流：https://example.com/t/1",
                   html="<p>您的订单 <b>DD1</b> 已发货。</p>",
                   headers={"Dingdan-Event-Type": "order.shipped"})


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("smtp-tls"))


async def test_a_message_arrives_with_text_and_html_parts():
    with SmtpPeer() as smtp:
        sender = EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                             from_addr="丁单 <noreply@shop.example>")
        result = await sender.send(_message())
        await sender.close()
    assert result.ok and result.response_code == 250
    [got] = smtp.received
    assert got.rcpt_to == ["li.na@example.com"]
    assert got.mail_from == "noreply@shop.example"
    assert got.message["Subject"] == "订单 DD1 已发货"
    assert got.message["Dingdan-Event-Id"] == "e-1"
    assert got.message["Dingdan-Event-Type"] == "order.shipped"
    assert got.message["Auto-Submitted"] == "auto-generated"
    assert got.message_id == message_id("e-1", "li.na@example.com", "shop.example")
    assert "您的订单 DD1 已发货" in got.part("plain")
    assert "<b>DD1</b>" in got.part("html")


async def test_the_same_event_keeps_its_message_id_and_each_recipient_gets_its_own():
    with SmtpPeer() as smtp:
        sender = EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                             from_addr="noreply@shop.example", pool_size=2)
        for recipient in ("a@example.com", "a@example.com", "b@example.com"):
            assert (await sender.send(_message(recipient))).ok
        await sender.close()
    ids = [r.message_id for r in smtp.received]
    assert ids[0] == ids[1] != ids[2]
    assert smtp.duplicates() == 1 and len(smtp.mailbox()) == 2


async def test_starttls_is_used_when_configured(cert: tuple[Path, Path]):
    with SmtpPeer(tls="starttls", cert=cert) as smtp:
        sender = EmailSender(host="localhost", port=smtp.port, tls="starttls",
                             from_addr="noreply@shop.example",
                             context=tls_context(cert[0], validate=True))
        result = await sender.send(_message())
        await sender.close()
    assert result.ok, result.detail
    assert len(smtp.received) == 1


async def test_implicit_tls_is_used_when_configured(cert: tuple[Path, Path]):
    with SmtpPeer(tls="tls", cert=cert) as smtp:
        sender = EmailSender(host="localhost", port=smtp.port, tls="tls",
                             from_addr="noreply@shop.example",
                             context=tls_context(cert[0], validate=True))
        result = await sender.send(_message())
        await sender.close()
    assert result.ok, result.detail
    assert len(smtp.received) == 1


async def test_an_untrusted_certificate_is_refused_and_retried(cert: tuple[Path, Path]):
    with SmtpPeer(tls="tls", cert=cert) as smtp:
        sender = EmailSender(host="localhost", port=smtp.port, tls="tls",
                             from_addr="noreply@shop.example")  # system CAs only
        result = await sender.send(_message())
        await sender.close()
    assert not result.ok and not result.permanent
    assert smtp.received == []


async def test_a_refused_recipient_gives_up_and_a_deferred_one_retries():
    with SmtpPeer() as smtp:
        smtp.refuse.add("nobody@example.com")
        sender = EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                             from_addr="noreply@shop.example")
        refused = await sender.send(_message("nobody@example.com"))
        smtp.defer = True
        deferred = await sender.send(_message("busy@example.com"))
        smtp.defer = False
        fine = await sender.send(_message("busy@example.com"))  # the pool survived both
        await sender.close()
    assert refused.permanent and refused.response_code == 550
    assert not deferred.ok and not deferred.permanent and deferred.response_code == 451
    assert fine.ok


async def test_an_unreachable_server_is_retried_not_given_up():
    sender = EmailSender(host="127.0.0.1", port=free_port(), tls="none",
                         from_addr="noreply@shop.example", timeout=2)
    result = await sender.send(_message())
    await sender.close()
    assert not result.ok and not result.permanent


async def test_a_connection_the_server_closed_is_replaced_once():
    with SmtpPeer() as smtp:
        sender = EmailSender(host="127.0.0.1", port=smtp.port, tls="none",
                             from_addr="noreply@shop.example", pool_size=1)
        assert (await sender.send(_message("a@example.com"))).ok
        port = smtp.port
    with SmtpPeer(port=port) as smtp2:  # the server restarted: the pooled connection is dead
        result = await sender.send(_message("b@example.com"))
        await sender.close()
    assert result.ok, result.detail
    assert [r.rcpt_to for r in smtp2.received] == [["b@example.com"]]
