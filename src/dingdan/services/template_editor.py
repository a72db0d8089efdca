"""The template editor's use cases: list, read, override, revert and preview notification
templates (kind × channel × language). Rendering itself is ``services.templates``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from dingdan.domain.errors import ErrorCollector, NotFound, VersionConflict
from dingdan.domain.events import Actor
from dingdan.domain.notifications import CATALOGUE, Kind
from dingdan.domain.permissions import Permission, can
from dingdan.services import queries
from dingdan.services._access import require
from dingdan.services.sla import order_snapshot
from dingdan.services.templates import (
    CHANNEL_PARTS,
    LANGUAGES,
    Renderer,
    TemplateSource,
    kinds_and_channels,
    render_context,
)
from dingdan.store.notification_settings import TemplateRepo
from dingdan.store.uow import UnitOfWork


@dataclass(frozen=True)
class TemplateKey:
    kind: str
    channel: str
    language: str

    def check(self) -> None:
        errors = ErrorCollector()
        pairs = {(k.value, c) for k, c in kinds_and_channels()}
        if self.kind not in {k.value for k in CATALOGUE}:
            errors.add("kind", "unknown_kind", f"no notification kind {self.kind}")
        elif (self.kind, self.channel) not in pairs:
            errors.add("channel", "unknown_channel",
                       f"{self.kind} is not sent on {self.channel}")
        if self.language not in LANGUAGES:
            errors.add("language", "unknown_language", f"one of {', '.join(LANGUAGES)}")
        errors.raise_if_any()


def _public(key: TemplateKey, source: TemplateSource, row: dict[str, Any] | None,
            ) -> dict[str, Any]:
    parts = CHANNEL_PARTS[key.channel]
    return {"kind": key.kind, "channel": key.channel, "language": key.language,
            "label": CATALOGUE[Kind(key.kind)].labels.get(key.language, key.kind),
            "parts": list(parts),
            "subject": source.subject if "subject" in parts else None, "text": source.text,
            "html": source.html if "html" in parts else None,
            "overridden": row is not None, "version": row["version"] if row else 0,
            "updated_by": row["updated_by"] if row else None,
            "updated_at": row["updated_at"] if row else None}


async def list_templates(uow: UnitOfWork, actor: Actor, renderer: Renderer,
                         ) -> list[dict[str, Any]]:
    """Every template an operator can edit, each with its current source."""
    require(actor, Permission.ORDER_READ, "templates", None)
    async with uow:
        rows = {(r["kind"], r["channel"], r["language"]): r
                for r in await TemplateRepo(uow.conn).all()}
    out = []
    for kind, channel in kinds_and_channels():
        for language in LANGUAGES:
            key = TemplateKey(kind.value, channel, language)
            row = rows.get((key.kind, key.channel, key.language))
            out.append(_public(key, _source(key, row, renderer), row))
    return out


def _source(key: TemplateKey, row: dict[str, Any] | None, renderer: Renderer) -> TemplateSource:
    if row is not None:
        return TemplateSource(row["subject"], row["body_text"], row["body_html"])
    return renderer.default_source(key.kind, key.channel, key.language)


async def get_template(key: TemplateKey, uow: UnitOfWork, actor: Actor,
                       renderer: Renderer) -> dict[str, Any]:
    require(actor, Permission.ORDER_READ, "template", key.kind)
    key.check()
    async with uow:
        row = await TemplateRepo(uow.conn).get(key.kind, key.channel, key.language)
    return {**_public(key, _source(key, row, renderer), row),
            "default": _public(key, renderer.default_source(key.kind, key.channel,
                                                            key.language), None)}


async def put_template(key: TemplateKey, source: TemplateSource, uow: UnitOfWork,
                       actor: Actor, renderer: Renderer,
                       expected_version: int | None = None) -> dict[str, Any]:
    """Override a template; it must compile and render a sample order within the sandbox's
    bounds (422 TEMPLATE_INVALID otherwise). Workers pick it up within seconds."""
    require(actor, Permission.SETTINGS_WRITE, "template", key.kind)
    key.check()
    parts = CHANNEL_PARTS[key.channel]
    errors = ErrorCollector()
    if not source.text.strip():
        errors.add("text", "required", "a template needs a body")
    if "subject" in parts and not (source.subject or "").strip():
        errors.add("subject", "required", f"{key.channel} messages need a subject")
    errors.raise_if_any()
    source = TemplateSource(source.subject if "subject" in parts else None, source.text,
                            source.html if "html" in parts else None)
    # It must compile, and render the sample order within the sandbox's bounds.
    sample = _context(key, dict(SAMPLE_ORDER), datetime.now(UTC), SAMPLE_BASE_URL, UTC,
                      masked=True)
    await asyncio.to_thread(renderer.check, source, sample, key.language)
    async with uow:
        repo = TemplateRepo(uow.conn)
        before = await repo.get(key.kind, key.channel, key.language)
        values = {"subject": source.subject, "body_text": source.text,
                  "body_html": source.html, "updated_by": actor.label}
        if not await repo.put(key.kind, key.channel, key.language, values, expected_version,
                              uow.now()):
            raise VersionConflict({"template": f"{key.kind}/{key.channel}/{key.language}"})
        row = await repo.get(key.kind, key.channel, key.language)
        await uow.audit.record(actor, "template.put", "template",
                               f"{key.kind}/{key.channel}/{key.language}", before, values)
        await uow.commit()
    return _public(key, source, row)


async def revert_template(key: TemplateKey, uow: UnitOfWork, actor: Actor) -> None:
    """Drop the override: the packaged default applies again."""
    require(actor, Permission.SETTINGS_WRITE, "template", key.kind)
    key.check()
    async with uow:
        repo = TemplateRepo(uow.conn)
        before = await repo.get(key.kind, key.channel, key.language)
        if before is None or not await repo.delete(key.kind, key.channel, key.language):
            raise NotFound({"kind": "template override",
                            "key": f"{key.kind}/{key.channel}/{key.language}"})
        await uow.audit.record(actor, "template.revert", "template",
                               f"{key.kind}/{key.channel}/{key.language}", before, None)
        await uow.commit()


SAMPLE_BASE_URL = "https://shop.example.com"
SAMPLE_ORDER: dict[str, Any] = {
    "number": "DD261111ABCDEFG", "status": "shipped", "payment_status": "paid",
    "fulfillment_status": "shipped", "channel": "tmall", "external_id": "TM-1001",
    "total": 25900, "currency": "CNY", "carrier": "SF", "tracking_number": "SF1234567890",
    "customer": {"name": "张伟", "phone": "+8613800138000", "email": "zhang.wei@example.com"},
}


async def preview(key: TemplateKey, source: TemplateSource | None, uow: UnitOfWork,
                  actor: Actor, renderer: Renderer, *, base_url: str, tz: tzinfo,
                  order_number: str | None = None) -> dict[str, Any]:
    """Render a template (the given source, else the current one) for a real order or a
    sample one, without sending anything.

    The real order is read like every order read (``queries.get_order``): 404 outside the
    person's warehouses, personal data masked without ``pii.read``. The context is masked
    for such a person, and for a staff message whoever asks, as the message itself would be.
    Rendering runs off the event loop, bounded (``services.template_sandbox``)."""
    require(actor, Permission.ORDER_READ, "template", key.kind)
    key.check()
    if source is not None:
        renderer.check(source)
    order: dict[str, Any] = dict(SAMPLE_ORDER)
    if order_number:
        order = order_snapshot(await queries.get_order(order_number, uow, actor=actor))
    async with uow:
        if source is None:
            row = await TemplateRepo(uow.conn).get(key.kind, key.channel, key.language)
            source = TemplateSource(row["subject"], row["body_text"], row["body_html"]) \
                if row else None
        now = uow.now()
    ctx = _context(key, order, now, base_url, tz,
                   masked=not can(actor, Permission.PII_READ) or _audience(key) != "customer")
    rendered = await asyncio.to_thread(renderer.render, key.kind, key.channel, key.language,
                                       ctx, source)
    return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}


def _audience(key: TemplateKey) -> str:
    return CATALOGUE[Kind(key.kind)].audience.value


def _context(key: TemplateKey, order: dict[str, Any], now: datetime, base_url: str,
             tz: tzinfo, *, masked: bool) -> dict[str, Any]:
    return render_context(_sample_payload(key.kind, order, now), kind=key.kind,
                          audience=_audience(key), language=key.language, base_url=base_url,
                          tz=tz, masked=masked)


def _sample_payload(kind: str, order: dict[str, Any], now: datetime) -> dict[str, Any]:
    event_type = {"cancelled": "order.cancelled", "sla_at_risk": "alert.sla_at_risk",
                  "sla_breached": "alert.sla_breached", "delayed": "alert.sla_breached",
                  "dead_letter": "staff.dead_letters"}.get(kind, f"order.{kind}")
    data: dict[str, Any] = {}
    if event_type.startswith("alert."):
        data = {"stage": "ship", "deadline": now.astimezone(UTC).isoformat(), "role": "warehouse"}
    if event_type == "staff.dead_letters":
        data = {"total": 3, "by_channel": {"email": 2, "sms": 1},
                "since": now.isoformat(), "until": now.isoformat()}
    if kind in _AFTERSALES_SAMPLES:  # issue 13
        event_type, data = _AFTERSALES_SAMPLES[kind]
        data = {**data, "deadline": now.astimezone(UTC).isoformat()}
    return {"event_id": "preview", "type": event_type, "occurred_at": now.isoformat(),
            "order_number": order["number"], "reason": None, "data": data, "order": order}


# Previews of the after-sales kinds (issue 13): an event as its use case writes it.
_CASE_SAMPLE = {"kind": "aftersales", "number": "AS261111A1B2C3D4E5", "from_status": "requested",
                "status": "approved", "status_label": {"zh-CN": "已同意", "en": "Approved"}}
_AFTERSALES_SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "aftersales_update": ("aftersales.approved", {"case": _CASE_SAMPLE}),
    "refunded": ("refund.succeeded", {"case": {**_CASE_SAMPLE, "kind": "refund"},
                                      "amount": 5900, "method": "alipay"}),
    "complaint_reply": ("complaint.replied", {
        "case": {**_CASE_SAMPLE, "kind": "complaint", "number": "CP261111A1B2C3D4E5"},
        "message": "非常抱歉给您带来不便，我们已为您补发。"}),
    "complaint_escalated": ("complaint.sla_breached", {
        "case": {**_CASE_SAMPLE, "kind": "complaint", "number": "CP261111A1B2C3D4E5"},
        "breach": "first_response", "owner": "王芳", "role": "manager"}),
}
