"""The worker's channel registry: channel name -> Sender, built from settings.

The other channels come from :func:`dingdan.adapters.notify.registry.build_senders` (webhooks
look their URL and secret up in the database at send time); email is added here.
"""

from __future__ import annotations

from dingdan.adapters.notify.email import EmailSender, tls_context
from dingdan.adapters.notify.port import Sender
from dingdan.adapters.notify.registry import build_senders
from dingdan.services.webhooks import WebhookTargetLookup
from dingdan.settings import Settings
from dingdan.store.uow import UnitOfWorkFactory


def build_email_sender(settings: Settings) -> EmailSender | None:
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return EmailSender(host=settings.smtp_host, port=settings.smtp_port,
                       from_addr=settings.smtp_from, tls=settings.smtp_tls,
                       username=settings.smtp_user, password=password,
                       timeout=settings.smtp_timeout_seconds,
                       context=tls_context(settings.smtp_ca_file, settings.smtp_validate_certs),
                       pool_size=settings.smtp_pool_size)


def build_channels(settings: Settings, uows: UnitOfWorkFactory) -> dict[str, Sender]:
    senders = build_senders(settings, webhook_targets=WebhookTargetLookup(uows))
    email = build_email_sender(settings)
    if email is not None:
        senders["email"] = email
    return senders
