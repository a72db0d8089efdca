"""Notification pages: the dead-letter list (replay one or in bulk), the template editor (list,
override, preview with sample data, revert), webhook subscriptions, SLA settings with the
holiday calendar, and the alert centre.

Every read and change goes through the services (``services.notifications``,
``template_editor``, ``webhooks``, ``sla``), which check permissions; the pages only hide
buttons a person may not use. Settings pages need ``settings.write`` (managers, admins).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from dingdan.domain.errors import DomainError, FieldError, ValidationFailed
from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission, can
from dingdan.services import notifications as notes
from dingdan.services import sla, webhooks
from dingdan.services import template_editor as editor
from dingdan.services.templates import TemplateSource
from dingdan.web.deps import app_settings, outbound_guard, template_renderer, working_calendar
from dingdan.web.ui import error_response, redirect, render
from dingdan.web.ui.deps import PageActor, read_uow, write_uow

router = APIRouter()

OptText = Annotated[str | None, Form(max_length=100_000)]


# -- dead letters ------------------------------------------------------------------------------


async def _dead_context(request: Request, actor: Actor, channel: str) -> dict[str, Any]:
    rows = await notes.dead_letters(read_uow(request), actor, channel=channel or None, limit=200)
    return {"rows": rows, "channel": channel,
            "may_replay": can(actor, Permission.SETTINGS_WRITE)}


@router.get("/dead-letters")
async def dead_letters_page(request: Request, actor: PageActor) -> Response:
    channel = (request.query_params.get("channel") or "").strip()[:32]
    try:
        ctx = await _dead_context(request, actor, channel)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/dead_letters.html", ctx, actor=actor)


@router.post("/dead-letters/{delivery_id}/replay")
async def replay_one(delivery_id: int, request: Request, actor: PageActor) -> Response:
    try:
        await notes.replay_one(delivery_id, write_uow(request), actor)
        ctx = await _dead_context(request, actor, "")
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "dead.replayed"
    return render(request, "ui/dead_letters.html", ctx, actor=actor)


@router.post("/dead-letters/replay")
async def replay_bulk(request: Request, actor: PageActor,
                      ids: Annotated[list[int] | None, Form()] = None,
                      channel: Annotated[str | None, Form(max_length=32)] = None,
                      everything: Annotated[str | None, Form()] = None) -> Response:
    """The ticked dead letters, or (``everything``) all of them, of a channel if one is set."""
    try:
        if everything:
            cmd = notes.ReplayDeadLetters(actor, channel=channel or None)
        else:
            cmd = notes.ReplayDeadLetters(actor, ids=ids or [])
        await notes.replay_dead_letters(cmd, write_uow(request))
        ctx = await _dead_context(request, actor, "")
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "dead.replayed"
    return render(request, "ui/dead_letters.html", ctx, actor=actor)


# -- the template editor -----------------------------------------------------------------------


@router.get("/settings/templates")
async def templates_page(request: Request, actor: PageActor) -> Response:
    try:
        rows = await editor.list_templates(read_uow(request), actor, template_renderer(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/templates.html", {"rows": rows}, actor=actor)


def _key(kind: str, channel: str, language: str) -> editor.TemplateKey:
    return editor.TemplateKey(kind, channel, language)


async def _template_context(request: Request, actor: Actor,
                            key: editor.TemplateKey) -> dict[str, Any]:
    tpl = await editor.get_template(key, read_uow(request), actor, template_renderer(request))
    return {"tpl": tpl, "key": key, "preview": None,
            "may_edit": can(actor, Permission.SETTINGS_WRITE)}


@router.get("/settings/templates/{kind}/{channel}/{language}")
async def template_page(kind: str, channel: str, language: str, request: Request,
                        actor: PageActor) -> Response:
    try:
        ctx = await _template_context(request, actor, _key(kind, channel, language))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/template_edit.html", ctx, actor=actor)


@router.post("/settings/templates/{kind}/{channel}/{language}")
async def save_template(kind: str, channel: str, language: str, request: Request,
                        actor: PageActor, text: Annotated[str, Form(max_length=20_000)] = "",
                        subject: Annotated[str | None, Form(max_length=500)] = None,
                        html: OptText = None,
                        expected_version: Annotated[int | None, Form()] = None) -> Response:
    key = _key(kind, channel, language)
    try:
        await editor.put_template(key, TemplateSource(subject or None, text, html or None),
                                  write_uow(request), actor, template_renderer(request),
                                  expected_version)
        ctx = await _template_context(request, actor, key)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.saved"
    return render(request, "ui/template_edit.html", ctx, actor=actor)


@router.post("/settings/templates/{kind}/{channel}/{language}/revert")
async def revert_template(kind: str, channel: str, language: str, request: Request,
                          actor: PageActor) -> Response:
    key = _key(kind, channel, language)
    try:
        await editor.revert_template(key, write_uow(request), actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, f"/settings/templates/{kind}/{channel}/{language}")


@router.post("/settings/templates/{kind}/{channel}/{language}/preview")
async def preview_template(kind: str, channel: str, language: str, request: Request,
                           actor: PageActor,
                           text: Annotated[str | None, Form(max_length=20_000)] = None,
                           subject: Annotated[str | None, Form(max_length=500)] = None,
                           html: OptText = None,
                           order_number: Annotated[str | None, Form(max_length=32)] = None,
                           ) -> Response:
    """Render the form's text (or, without it, the saved template) for sample data."""
    source = TemplateSource(subject or None, text, html or None) if text else None
    s = app_settings(request)
    try:
        shown = await editor.preview(_key(kind, channel, language), source, read_uow(request),
                                     actor, template_renderer(request), base_url=s.public_base_url,
                                     tz=working_calendar(request).tz,
                                     order_number=(order_number or "").strip() or None)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/_template_preview.html", {"preview": shown}, actor=actor)


# -- webhook subscriptions ---------------------------------------------------------------------


async def _webhooks_context(request: Request, actor: Actor) -> dict[str, Any]:
    return {"rows": await webhooks.list_subscriptions(actor, read_uow(request)), "secret": None}


@router.get("/settings/webhooks")
async def webhooks_page(request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _webhooks_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/webhooks.html", ctx, actor=actor)


@router.post("/settings/webhooks")
async def create_webhook(request: Request, actor: PageActor,
                         url: Annotated[str, Form(max_length=2000)],
                         event_types: Annotated[str, Form(max_length=2000)] = "*",
                         description: Annotated[str | None, Form(max_length=400)] = None,
                         ) -> Response:
    """Answers with the list and the new secret, shown this once."""
    types = tuple(t for t in event_types.replace(",", " ").split() if t)[:50]
    try:
        made = await webhooks.create_subscription(webhooks.CreateSubscription(
            url=url.strip(), event_types=types or ("*",), actor=actor,
            description=description or None), write_uow(request),
            guard=outbound_guard(request))
        ctx = await _webhooks_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx.update(secret=made.secret, made=made.subscription, flash="common.saved")
    return render(request, "ui/webhooks.html", ctx, actor=actor)


@router.post("/settings/webhooks/{subscription_id}/active")
async def set_webhook_active(subscription_id: int, request: Request, actor: PageActor,
                             active: Annotated[str, Form()] = "0") -> Response:
    try:
        await webhooks.update_subscription(subscription_id, {"active": active == "1"}, None,
                                           actor, write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/settings/webhooks")


@router.post("/settings/webhooks/{subscription_id}/delete")
async def delete_webhook(subscription_id: int, request: Request, actor: PageActor) -> Response:
    try:
        await webhooks.delete_subscription(subscription_id, actor, write_uow(request))
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/settings/webhooks")


# -- SLA settings and the holiday calendar -----------------------------------------------------


async def _sla_context(request: Request, actor: Actor) -> dict[str, Any]:
    return {"policies": await sla.get_policies(read_uow(request), actor),
            "days": await sla.list_days(read_uow(request), actor),
            "may_edit": can(actor, Permission.SETTINGS_WRITE)}


@router.get("/settings/sla")
async def sla_page(request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _sla_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/sla.html", ctx, actor=actor)


@router.post("/settings/sla/{stage}")
async def save_policy(stage: str, request: Request, actor: PageActor,
                      minutes: Annotated[int, Form(gt=0)],
                      warn_minutes: Annotated[int, Form(ge=0)],
                      role: Annotated[str, Form(min_length=1, max_length=32)],
                      working_time: Annotated[str | None, Form()] = None,
                      active: Annotated[str | None, Form()] = None,
                      expected_version: Annotated[int | None, Form()] = None) -> Response:
    try:
        await sla.put_policy(stage, sla.PolicyFields(minutes, working_time == "1", warn_minutes,
                                                     role.strip(), active == "1"),
                             write_uow(request), actor, expected_version)
        ctx = await _sla_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.saved"
    return render(request, "ui/sla.html", ctx, actor=actor)


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(details=[FieldError("day", "date_parsing", "YYYY-MM-DD")]) \
            from None


@router.post("/settings/holidays")
async def add_day(request: Request, actor: PageActor,
                  day: Annotated[str, Form(max_length=10)],
                  name: Annotated[str, Form(max_length=100)] = "",
                  kind: Annotated[str, Form(pattern="^(holiday|workday)$")] = "holiday",
                  ) -> Response:
    try:
        await sla.put_day(_day(day), kind, name.strip(), write_uow(request), actor)
        ctx = await _sla_context(request, actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    ctx["flash"] = "common.saved"
    return render(request, "ui/sla.html", ctx, actor=actor)


@router.post("/settings/holidays/{day}/delete")
async def remove_day(day: str, request: Request, actor: PageActor) -> Response:
    try:
        await sla.delete_day(_day(day), write_uow(request), actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/settings/sla")


# -- the alert centre --------------------------------------------------------------------------


async def _alerts_context(request: Request, actor: Actor, show_all: bool) -> dict[str, Any]:
    rows = await sla.list_alerts(read_uow(request), actor, open_only=not show_all, limit=200)
    return {"rows": rows, "show_all": show_all,
            "may_acknowledge": can(actor, Permission.ORDER_NOTE)}


@router.get("/alerts")
async def alerts_page(request: Request, actor: PageActor) -> Response:
    try:
        ctx = await _alerts_context(request, actor, request.query_params.get("all") == "1")
    except DomainError as exc:
        return error_response(request, exc, actor)
    return render(request, "ui/alerts.html", ctx, actor=actor)


@router.post("/alerts/centre/{alert_id}/acknowledge")
async def acknowledge(alert_id: int, request: Request, actor: PageActor) -> Response:
    """Acknowledge from the alert centre (the home page has its own, answering its panel)."""
    try:
        await sla.acknowledge_alert(alert_id, write_uow(request), actor)
    except DomainError as exc:
        return error_response(request, exc, actor)
    return redirect(request, "/alerts")
