"""The channel registry: which senders settings turn on, and refusals of half a set-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from dingdan.adapters.broker import NatsSender
from dingdan.adapters.notify.registry import (
    ChannelMisconfigured,
    build_senders,
    close_senders,
)
from dingdan.adapters.notify.sms import AliyunSmsSender, HttpSmsSender
from dingdan.adapters.notify.webhook import StaticTargets, WebhookSender
from dingdan.adapters.notify.webpush import WebPushSender, create_vapid_key
from dingdan.settings import Settings


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(vapid_key_file=tmp_path / "missing.pem", **kw)  # type: ignore[arg-type]


async def test_nothing_configured_means_no_channels(tmp_path: Path) -> None:
    assert build_senders(settings(tmp_path)) == {}


async def test_every_configured_channel_gets_its_sender(tmp_path: Path) -> None:
    create_vapid_key(tmp_path / "vapid.pem")
    s = Settings(vapid_key_file=tmp_path / "vapid.pem", aliyun_access_key_id="id",
                 aliyun_access_key_secret="secret", aliyun_sms_sign_name="丁单",
                 aliyun_sms_templates={"*": "SMS_1"}, nats_url="nats://127.0.0.1:4222")
    senders = build_senders(s, webhook_targets=StaticTargets({}))
    try:
        assert {k: type(v) for k, v in senders.items()} == {
            "sms": AliyunSmsSender, "webpush": WebPushSender, "webhook": WebhookSender,
            "nats": NatsSender}
        assert all(v.channel == k for k, v in senders.items())
    finally:
        await close_senders(senders)


async def test_the_generic_sms_gateway_is_chosen_by_its_url(tmp_path: Path) -> None:
    senders = build_senders(settings(tmp_path, sms_http_url="https://sms.example.com/send",
                                     sms_http_key="k"))
    try:
        assert isinstance(senders["sms"], HttpSmsSender)
    finally:
        await close_senders(senders)


@pytest.mark.parametrize("kw", [
    {"aliyun_access_key_id": "id", "aliyun_access_key_secret": "s",
     "aliyun_sms_templates": {"*": "SMS_1"}},  # no sign name
    {"aliyun_access_key_id": "id", "aliyun_access_key_secret": "s",
     "aliyun_sms_sign_name": "丁单"},  # no templates
    {"sms_provider": "http", "sms_http_url": "https://sms.example.com"},  # no key
])
def test_half_a_set_up_is_refused_at_start(tmp_path: Path, kw: dict[str, object]) -> None:
    with pytest.raises(ChannelMisconfigured):
        build_senders(settings(tmp_path, **kw))


def test_templates_and_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DINGDAN_ALIYUN_SMS_TEMPLATES", '{"order.shipped": "SMS_9", "*": "SMS_1"}')
    monkeypatch.setenv("DINGDAN_ALIYUN_ACCESS_KEY_SECRET", "s3cret")
    s = Settings()
    assert s.aliyun_sms_templates == {"order.shipped": "SMS_9", "*": "SMS_1"}
    assert "s3cret" not in repr(s)
