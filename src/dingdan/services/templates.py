"""Notification templates: the packaged defaults, operators' overrides, and rendering.

Defaults live in ``dingdan/templates/notifications/{language}/{kind}.j2`` with three blocks:
``subject``, ``text`` (an email's body) and ``short`` (SMS and push). An email's HTML part is
the language's ``_email.html.j2`` layout around the text, unless an override gives its own
HTML. Overrides (one per kind × channel × language) are edited by people, so they are
compiled and rendered in a bounded sandbox (``services.template_sandbox``: no internals, and
bounded in size, steps and time), and their HTML is auto-escaped. A failing override raises
TemplateInvalid (422 ``TEMPLATE_INVALID``); the worker then sends the packaged default.

What templates see of the customer is what the reader may see: messages to staff (role
mailboxes) and previews by people without ``pii.read`` get the context masked like every
order read (``domain.privacy.mask_payload``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, Undefined
from markupsafe import Markup, escape

from dingdan.domain import lifecycle, sla
from dingdan.domain.errors import FieldError, TemplateInvalid
from dingdan.domain.lifecycle import Status
from dingdan.domain.money import Money
from dingdan.domain.notifications import (
    CUSTOMER_KINDS,
    STAFF_KINDS,
    Channel,
    Kind,
    tracking_url,
)
from dingdan.domain.portal import link_expiry, sign_link
from dingdan.domain.privacy import mask_payload
from dingdan.services.template_sandbox import BoundedSandbox

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "notifications"
LANGUAGES = ("zh-CN", "en")
# The parts each channel uses; webhooks and the broker carry the raw event, untemplated.
CHANNEL_PARTS: Mapping[str, tuple[str, ...]] = {
    Channel.EMAIL: ("subject", "text", "html"),
    Channel.SMS: ("text",),
    Channel.WEBPUSH: ("subject", "text"),
}
_BLOCK = re.compile(r"{%-?\s*block\s+(\w+)\s*-?%}(.*?){%-?\s*endblock\s*-?%}", re.S)
_URL = re.compile(r"https?://[^\s<>\"'）)]+")
_FOOTER = {"zh-CN": "此邮件由系统自动发送，请勿直接回复。",
           "en": "This message was sent automatically."}
_BUTTON = {"zh-CN": "查看订单", "en": "View your order"}
_TRACK = {"zh-CN": "查询物流", "en": "Track your parcel"}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None
    text: str
    html: str | None


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """What an editor shows and saves for one kind × channel × language."""

    subject: str | None
    text: str
    html: str | None  # None: the standard layout around the text


def _linkify(value: Any) -> Markup:
    text = str(escape(value))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', text))


class Renderer:
    """Renders one message; holds compiled templates (cheap to keep, safe to share)."""

    def __init__(self, template_dir: Path = TEMPLATE_DIR) -> None:
        loader = FileSystemLoader(str(template_dir))
        self._files = Environment(loader=loader, autoescape=False, trim_blocks=True,
                                  lstrip_blocks=True, undefined=Undefined)
        self._layout = Environment(loader=loader, autoescape=True, trim_blocks=True,
                                   lstrip_blocks=True)
        self._layout.filters["linkify"] = _linkify
        self._sandbox_text = BoundedSandbox(autoescape=False, trim_blocks=True,
                                            lstrip_blocks=True)
        self._sandbox_html = BoundedSandbox(autoescape=True, trim_blocks=True,
                                            lstrip_blocks=True)
        self._compiled: dict[tuple[str, int], Template] = {}
        self._dir = template_dir

    # -- sources ------------------------------------------------------------------------

    def default_source(self, kind: str, channel: str, language: str) -> TemplateSource:
        path = self._dir / language / f"{kind}.j2"
        blocks = {name: body.strip("\n") for name, body in
                  _BLOCK.findall(path.read_text(encoding="utf-8"))}
        if channel == Channel.EMAIL:
            return TemplateSource(blocks.get("subject"), blocks.get("text", ""), None)
        if channel == Channel.WEBPUSH:
            return TemplateSource(blocks.get("subject"), blocks.get("short", ""), None)
        return TemplateSource(None, blocks.get("short") or blocks.get("text", ""), None)

    def check(self, source: TemplateSource, context: Mapping[str, Any] | None = None,
              language: str = "en") -> None:
        """Raise TemplateInvalid naming each part that does not compile — or, given a
        ``context`` (a sample order), that fails or passes a bound when rendered with it."""
        problems: list[FieldError] = []
        for part, env in (("subject", self._sandbox_text), ("text", self._sandbox_text),
                          ("html", self._sandbox_html)):
            value = getattr(source, part)
            if value is None:
                continue
            try:
                template = self._compile(env, value, part)
                if context is not None:
                    env.render_checked(template, {**context, "lang": language}, part)
            except TemplateInvalid as exc:
                problems.extend(exc.details)
        if problems:
            raise TemplateInvalid({"reason": problems[0].message}, problems)

    # -- rendering ----------------------------------------------------------------------

    def render(self, kind: str, channel: str, language: str, context: Mapping[str, Any],
               override: TemplateSource | None = None) -> Rendered:
        """Render with the override if there is one, else the packaged default."""
        if language not in LANGUAGES:
            language = "en"
        ctx = {**context, "lang": language}
        if override is not None:
            subject = self._sandboxed(self._sandbox_text, override.subject, ctx, "subject")
            text = self._sandboxed(self._sandbox_text, override.text, ctx, "text") or ""
            html = self._sandboxed(self._sandbox_html, override.html, ctx, "html")
        else:
            template = self._files.get_template(f"{language}/{kind}.j2")
            blocks = {name: _squeeze("".join(fn(template.new_context(dict(ctx)))))
                      for name, fn in template.blocks.items()}
            short = blocks.get("short") or blocks.get("text", "")
            subject = blocks.get("subject")
            text = blocks.get("text", "") if channel == Channel.EMAIL else short
            html = None
        if channel != Channel.EMAIL:
            return Rendered(subject if channel == Channel.WEBPUSH else None, text, None)
        subject = (subject or "").replace("\n", " ").strip()
        if html is None:
            html = self._wrap(subject, text, ctx, language)
        return Rendered(subject, text, html)

    def _compile(self, env: BoundedSandbox, source: str, part: str) -> Template:
        key = (source, id(env))
        template = self._compiled.get(key)
        if template is None:
            if len(self._compiled) > 500:
                self._compiled.clear()
            template = self._compiled[key] = env.compile_checked(source, part)
        return template

    def _sandboxed(self, env: BoundedSandbox, source: str | None, ctx: Mapping[str, Any],
                   part: str) -> str | None:
        if source is None:
            return None
        return _squeeze(env.render_checked(self._compile(env, source, part), ctx, part))

    def _wrap(self, subject: str, text: str, ctx: Mapping[str, Any], language: str) -> str:
        paragraphs = [p.splitlines() for p in re.split(r"\n\s*\n", text) if p.strip()]
        order = ctx.get("order") or {}
        tracking = order.get("tracking_url")
        button_url = tracking or order.get("url")
        return self._layout.get_template(f"{language}/_email.html.j2").render(
            subject=subject, paragraphs=paragraphs, lang=language,
            button_url=button_url if ctx.get("audience") == "customer" else None,
            button_label=(_TRACK if tracking else _BUTTON)[language], footer=_FOOTER[language])


def _squeeze(text: str) -> str:
    """Trim and fold runs of blank lines that conditional blocks leave behind."""
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render_context(payload: Mapping[str, Any], *, kind: str, audience: str, language: str,
                   base_url: str, tz: tzinfo, masked: bool | None = None,
                   link_key: bytes | None = None) -> dict[str, Any]:
    """What templates see, from an outbox payload: ``order``, ``event``, ``alert``, ``digest``
    and ``name``. Times are shown in the business time zone.

    ``masked`` (by default: for staff, whose messages go to role mailboxes) masks the
    customer's phone and email and the address's phone and street, as order reads do for
    people without ``pii.read``; a customer sees their own data.

    ``link_key`` signs the customer's link to their page (``/track/{number}?t=…``, valid
    for ``domain.portal.LINK_LIFETIME`` from the event), so it opens without a lookup."""
    if masked is None:
        masked = audience != "customer"
    if masked:
        payload = mask_payload(payload)
    order: dict[str, Any] = dict(payload.get("order") or {})
    data: dict[str, Any] = dict(payload.get("data") or {})
    customer = order.get("customer") or {}
    number = order.get("number") or payload.get("order_number") or ""
    status = str(order.get("status"))
    if status in Status.__members__.values():
        order["status_label"] = lifecycle.label(Status(status), language)
    if isinstance(order.get("total"), int) and order.get("currency"):
        order["total_display"] = Money(order["total"], order["currency"]).format()
    order["tracking_url"] = tracking_url(order.get("carrier"), order.get("tracking_number"))
    base = base_url.rstrip("/")
    order["url"] = f"{base}/track/{number}"
    sent_at = _moment(payload.get("occurred_at"))
    if link_key and number and sent_at is not None:
        order["url"] += "?t=" + sign_link(link_key, number, link_expiry(sent_at))
    order["admin_url"] = f"{base}/orders/{number}"
    event = {"type": payload.get("type"), "reason": payload.get("reason"),
             "at": _local(payload.get("occurred_at"), tz), "data": data}
    after = data.get("after") or {}
    if payload.get("type") == "order.address_changed" and after:
        keys = ("ship_province", "ship_city", "ship_district", "ship_street")
        event["new_address"] = " ".join(str(after[k]) for k in keys if after.get(k))
    alert = dict(data) if str(payload.get("type", "")).startswith("alert.") else {}
    if alert:
        stage = str(alert.get("stage"))
        if stage in sla.Stage.__members__.values():
            alert["stage_label"] = sla.LABELS[sla.Stage(stage)].get(language, stage)
        alert["deadline"] = _local(alert.get("deadline"), tz)
    digest = dict(data) if payload.get("type") == "staff.dead_letters" else {}
    if digest:
        digest["since"] = _local(digest.get("since"), tz)
        digest["until"] = _local(digest.get("until"), tz)
        digest["url"] = f"{base}/dead-letters"
    return {"order": order, "event": event, "alert": alert, "digest": digest,
            "name": customer.get("name") or "", "kind": kind, "audience": audience}


def message_params(payload: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Flat string parameters of a message (SMS providers fill approved templates with them;
    Aliyun takes only flat strings), plus the event type the adapters route by."""
    order = context.get("order") or {}
    params = {"type": payload.get("type"), "event_id": payload.get("event_id"),
              "kind": context.get("kind"), "order_number": order.get("number"),
              "name": context.get("name"), "status": order.get("status_label"),
              "total": order.get("total_display"), "carrier": order.get("carrier"),
              "tracking_number": order.get("tracking_number"),
              "tracking_url": order.get("tracking_url"), "url": order.get("url")}
    return {k: str(v) for k, v in params.items() if v not in (None, "")}


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _local(value: Any, tz: tzinfo) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def kinds_and_channels() -> list[tuple[Kind, str]]:
    """Every (kind, channel) an editor lists: customers on all channels, staff by email."""
    pairs = [(k, str(c)) for k in CUSTOMER_KINDS for c in CHANNEL_PARTS]
    pairs += [(k, str(Channel.EMAIL)) for k in STAFF_KINDS]
    return pairs
