"""The composition root of the outbound channels: channel name → :class:`Sender`, from settings.

For the worker (``dingdan.workers``)::

    senders = build_senders(settings, webhook_targets=WebhookTargetLookup(uows))
    senders["email"] = EmailSender(...)     # the email channel is built where it lives
    try:
        result = await senders[row["channel"]].send(message)
    finally:
        await close_senders(senders)

A channel is present only when it is configured; a delivery for a missing channel should be
failed over or dead-lettered by the caller. How each channel reads a :class:`Message`:

=========  ==================================  =============================================
channel    ``recipient``                       what else it reads
=========  ==================================  =============================================
sms        E.164 phone (``+8613800138000``)    ``data``: template parameters; event type
                                               (``headers["Dingdan-Event-Type"]`` or
                                               ``data["type"]``) picks the Aliyun template;
                                               ``text`` for the generic HTTP provider
webpush    PushSubscription JSON               ``subject`` (title), ``text`` (body),
                                               ``data["url"]`` (opened on click),
                                               ``headers["Urgency"]``
webhook    subscription id (``"12"``, or       ``data``: the outbox payload, sent as the body;
           ``"12@replay-…"``)                  event type as above
nats       ``""`` (subject from the event      ``data``: the outbox payload
           type) or an explicit subject
=========  ==================================  =============================================

Every sender keys de-duplication on ``Message.event_id`` (Aliyun ``OutId``, the
``Idempotency-Key`` of the HTTP SMS gateway, ``Dingdan-Event-Id``, ``Nats-Msg-Id``).
Web push 404/410 and webhook 410 mean "gone": forget the subscription
(``services.push.forget_push_subscriptions``, ``services.webhooks.forget_gone_subscription``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from dingdan.adapters.broker import NatsSender
from dingdan.adapters.netguard import OutboundGuard
from dingdan.adapters.notify.port import Sender
from dingdan.adapters.notify.sms import AliyunSmsSender, HttpSmsSender
from dingdan.adapters.notify.webhook import WebhookSender, WebhookTargets
from dingdan.adapters.notify.webpush import WebPushSender, load_vapid_key
from dingdan.settings import Settings


class ChannelMisconfigured(ValueError):
    """A channel is asked for but its settings are incomplete (said at start-up, not at 3 a.m.)."""


def outbound_guard(settings: Settings) -> OutboundGuard:
    """The rule for URLs that outsiders choose (webhooks, push endpoints): no internal
    address, except what ``DINGDAN_OUTBOUND_ALLOW`` admits."""
    return OutboundGuard.allowing(settings.outbound_allow)


def build_senders(settings: Settings, *,
                  webhook_targets: WebhookTargets | None = None) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    guard = outbound_guard(settings)
    sms = build_sms_sender(settings)
    if sms is not None:
        senders["sms"] = sms
    if settings.vapid_key_file.is_file():
        senders["webpush"] = WebPushSender(load_vapid_key(settings.vapid_key_file),
                                           settings.vapid_subject, ttl=settings.push_ttl_seconds,
                                           guard=guard)
    if webhook_targets is not None:
        senders["webhook"] = WebhookSender(webhook_targets,
                                           timeout=settings.webhook_timeout_seconds, guard=guard)
    if settings.nats_url:
        senders["nats"] = NatsSender(settings.nats_url, stream=settings.nats_stream,
                                     subject_prefix=settings.nats_subject_prefix)
    return senders


def build_sms_sender(settings: Settings) -> AliyunSmsSender | HttpSmsSender | None:
    provider = settings.sms_provider
    if provider is None:
        provider = ("aliyun" if settings.aliyun_access_key_id
                    else "http" if settings.sms_http_url else None)
    if provider == "aliyun":
        secret = settings.aliyun_access_key_secret
        if not (settings.aliyun_access_key_id and secret and settings.aliyun_sms_sign_name):
            raise ChannelMisconfigured("Aliyun SMS needs DINGDAN_ALIYUN_ACCESS_KEY_ID, "
                                       "DINGDAN_ALIYUN_ACCESS_KEY_SECRET and "
                                       "DINGDAN_ALIYUN_SMS_SIGN_NAME")
        if not settings.aliyun_sms_templates:
            raise ChannelMisconfigured('Aliyun SMS needs DINGDAN_ALIYUN_SMS_TEMPLATES, e.g. '
                                       '{"order.shipped": "SMS_123", "*": "SMS_456"}')
        return AliyunSmsSender(access_key_id=settings.aliyun_access_key_id,
                               access_key_secret=secret.get_secret_value(),
                               sign_name=settings.aliyun_sms_sign_name,
                               templates=settings.aliyun_sms_templates,
                               endpoint=settings.aliyun_sms_endpoint,
                               region=settings.aliyun_sms_region,
                               timeout=settings.sms_timeout_seconds)
    if provider == "http":
        key = settings.sms_http_key
        if not (settings.sms_http_url and key):
            raise ChannelMisconfigured("the HTTP SMS provider needs DINGDAN_SMS_HTTP_URL and "
                                       "DINGDAN_SMS_HTTP_KEY")
        return HttpSmsSender(url=settings.sms_http_url, api_key=key.get_secret_value(),
                             timeout=settings.sms_timeout_seconds)
    return None


async def close_senders(senders: Mapping[str, Sender]) -> None:
    await asyncio.gather(*(s.close() for s in senders.values()), return_exceptions=True)
