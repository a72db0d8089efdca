"""Notifications, dead letters, SLAs and alerts: what the worker did for an order, what it
could not deliver (and replaying it), service-level settings and the holiday calendar, the
alert centre, customer preferences and the template editor."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, Strict

from dingdan.domain.notifications import Channel
from dingdan.domain.sla import MAX_POLICY_MINUTES
from dingdan.services import notifications as svc
from dingdan.services import sla as sla_svc
from dingdan.services import template_editor as editor
from dingdan.services.templates import TemplateSource
from dingdan.web.deps import (
    ActorDep,
    ReadUowDep,
    UowDep,
    app_settings,
    template_renderer,
    working_calendar,
)
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Bool, Id, IdPath, IdQuery, Line, LineQuery, Moment, Text, Version

router = APIRouter(tags=["notifications"], responses=problem_responses(400, 401, 403, 422))
ONE = problem_responses(404)
WRITE = problem_responses(404, 409)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Name = Annotated[Line, Field(min_length=1, max_length=64)]  # a kind, a channel: "*", "email"
PolicyMinutes = Annotated[int, Strict(), Field(gt=0, le=MAX_POLICY_MINUTES)]


class MessageOut(BaseModel):
    """One message to one recipient on one channel (the delivery log)."""

    id: int
    event_id: str
    event_type: str
    kind: str
    audience: str
    channel: str
    recipient: str = Field(description="masked")
    order_number: str | None
    language: str
    status: str = Field(description="pending, sent, dead or failed_over (a fallback took over)")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    response_code: int | None
    fallback_of: int | None
    created_at: datetime
    sent_at: datetime | None
    dead_at: datetime | None


class ReplayIn(_In):
    ids: list[Id] | None = Field(None, max_length=10_000, description="these dead letters")
    channel: Line | None = Field(None, max_length=32,
                                 description="or all dead letters of this channel…")
    kind: Line | None = Field(None, max_length=64)
    dead_from: Moment | None = Field(None, description="…that died in [from, to)")
    dead_to: Moment | None = None


class ReplayOut(BaseModel):
    replayed: int
    ids: list[int]


class StageOut(BaseModel):
    stage: str
    state: str = Field(description="ok, at_risk or breached")
    started_at: datetime
    at_risk_at: datetime
    deadline: datetime
    overdue: bool
    role: str
    promise: bool = Field(description="the deadline is the promise made to the customer")


class AlertOut(BaseModel):
    id: int
    order_number: str
    stage: str
    kind: str
    role: str
    deadline: datetime
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None


class OrderSlaOut(BaseModel):
    number: str
    status: str
    now: datetime
    overdue: bool
    stages: list[StageOut]
    alerts: list[AlertOut]


class PolicyIn(_In):
    minutes: PolicyMinutes = Field(description="the limit, in working or wall-clock minutes")
    working_time: Bool = Field(description="count only working hours (calendar)")
    warn_minutes: Annotated[int, Strict(), Field(ge=0, le=MAX_POLICY_MINUTES)] = Field(
        description="at risk this long before the deadline")
    role: Line = Field(min_length=1, max_length=32, description="who is alerted")
    active: Bool = True
    expected_version: Version | None = None


class PolicyOut(BaseModel):
    stage: str
    label: dict[str, str]
    minutes: int
    working_time: bool
    warn_minutes: int
    role: str
    active: bool
    customized: bool
    version: int


class DayIn(_In):
    kind: str = Field(pattern="^(holiday|workday)$",
                      description="holiday: a weekday off; workday: a weekend day worked (调休)")
    name: Line = Field(min_length=1, max_length=100, examples=["国庆节"])


class DayOut(BaseModel):
    day: date
    kind: str
    name: str


class PreferencesIn(_In):
    language: Line | None = Field(None, max_length=8, examples=["zh-CN"])
    tier: Line = Field("standard", min_length=1, max_length=32, examples=["vip"])
    channels: dict[Name, list[Name]] = Field(
        default_factory=dict, max_length=50,
        description="kind (or *) -> channels in order of preference",
        examples=[{"*": ["email"], "out_for_delivery": ["sms", "email"]}])
    opt_outs: list[Name] = Field(default_factory=list, max_length=50,
                                 examples=[["in_transit"]])
    quiet_hours: Line | None = Field(None, max_length=32, examples=["22:00-08:00"])
    timezone: Line | None = Field(None, max_length=64, examples=["Asia/Shanghai"])
    expected_version: Version | None = None


class PreferencesOut(BaseModel):
    contact: str
    language: str | None
    tier: str
    channels: dict[str, list[str]]
    opt_outs: list[str]
    quiet_hours: str | None
    timezone: str | None
    version: int
    updated_at: datetime | None


class TemplateOut(BaseModel):
    kind: str
    channel: str
    language: str
    label: str
    parts: list[str]
    subject: str | None
    text: str
    html: str | None = Field(description="null: the standard layout around the text")
    overridden: bool
    version: int
    updated_by: str | None
    updated_at: datetime | None


class TemplateDetail(TemplateOut):
    default: TemplateOut


class TemplateIn(_In):
    subject: Line | None = Field(None, max_length=500)
    text: Text = Field(max_length=20_000)
    html: Text | None = Field(None, max_length=100_000)
    expected_version: Version | None = None


class PreviewIn(_In):
    kind: Line = Field(max_length=64)
    channel: Line = Field(max_length=32)
    language: Line = Field(max_length=8)
    subject: Line | None = Field(None, max_length=500, description="omit to preview the "
                                 "current template")
    text: Text | None = Field(None, max_length=20_000)
    html: Text | None = Field(None, max_length=100_000)
    order_number: Line | None = Field(None, max_length=32,
                                      description="render with this order's data")


class PreviewOut(BaseModel):
    subject: str | None
    text: str
    html: str | None


# -- messages and dead letters ---------------------------------------------------------------


@router.get("/orders/{number}/messages", response_model=list[MessageOut], responses=ONE,
            summary="Every message sent (or tried) about an order")
async def order_messages(number: str, uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.order_messages(number, uow, actor)


@router.get("/orders/{number}/sla", response_model=OrderSlaOut, responses=ONE,
            summary="Where an order stands against its service levels (overdue or not)")
async def order_sla(number: str, request: Request, uow: ReadUowDep,
                    actor: ActorDep) -> dict[str, Any]:
    return await sla_svc.order_sla(number, uow, actor, working_calendar(request))


@router.get("/dead-letters", response_model=list[MessageOut],
            summary="Messages that could not be delivered, newest first")
async def dead_letters(uow: ReadUowDep, actor: ActorDep, channel: LineQuery = None,
                       kind: LineQuery = None, order: LineQuery = None,
                       before_id: IdQuery = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    return await svc.dead_letters(uow, actor, channel=channel, kind=kind, order_number=order,
                                  before_id=before_id, limit=limit)


@router.post("/dead-letters/{delivery_id}/replay", status_code=202, response_model=ReplayOut,
             responses=ONE, summary="Send one dead letter again (same event id)")
async def replay_one(delivery_id: IdPath, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    await svc.replay_one(delivery_id, uow, actor)
    return {"replayed": 1, "ids": [delivery_id]}


@router.post("/dead-letters/replay", status_code=202, response_model=ReplayOut,
             summary="Send dead letters again in bulk: by ids, or by channel, kind and time")
async def replay_bulk(body: ReplayIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    ids = await svc.replay_dead_letters(svc.ReplayDeadLetters(
        actor, ids=body.ids, channel=body.channel, kind=body.kind, dead_from=body.dead_from,
        dead_to=body.dead_to), uow)
    return {"replayed": len(ids), "ids": ids}


# -- SLA settings, calendar, alerts ----------------------------------------------------------


@router.get("/sla/policies", response_model=list[PolicyOut], summary="Service level per stage")
async def get_policies(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await sla_svc.get_policies(uow, actor)


@router.put("/sla/policies/{stage}", response_model=PolicyOut, responses=WRITE,
            summary="Change a stage's service level")
async def put_policy(stage: str, body: PolicyIn, uow: UowDep, actor: ActorDep,
                     ) -> dict[str, Any]:
    return await sla_svc.put_policy(stage, sla_svc.PolicyFields(
        body.minutes, body.working_time, body.warn_minutes, body.role, body.active), uow,
        actor, body.expected_version)


@router.get("/sla/holidays", response_model=list[DayOut],
            summary="Holidays and make-up working days of the working calendar")
async def list_days(uow: ReadUowDep, actor: ActorDep,
                    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                    ) -> list[dict[str, Any]]:
    return await sla_svc.list_days(uow, actor, year)


@router.put("/sla/holidays/{day}", response_model=DayOut, summary="Mark a day")
async def put_day(day: date, body: DayIn, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await sla_svc.put_day(day, body.kind, body.name, uow, actor)


@router.delete("/sla/holidays/{day}", status_code=204, responses=ONE,
               summary="Make a day ordinary again")
async def delete_day(day: date, uow: UowDep, actor: ActorDep) -> Response:
    await sla_svc.delete_day(day, uow, actor)
    return Response(status_code=204)


@router.get("/alerts", response_model=list[AlertOut], summary="The alert centre, newest first")
async def list_alerts(uow: ReadUowDep, actor: ActorDep, order: LineQuery = None,
                      open_only: Annotated[bool, Query(alias="open",
                                                       description="only unresolved")] = False,
                      kind: LineQuery = None, stage: LineQuery = None,
                      before_id: IdQuery = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    return await sla_svc.list_alerts(uow, actor, order_number=order, open_only=open_only,
                                     kind=kind, stage=stage, before_id=before_id, limit=limit)


@router.post("/alerts/{alert_id}/acknowledge", status_code=204, responses=ONE,
             summary="Say someone is on it")
async def acknowledge(alert_id: IdPath, uow: UowDep, actor: ActorDep) -> Response:
    await sla_svc.acknowledge_alert(alert_id, uow, actor)
    return Response(status_code=204)


# -- customer preferences --------------------------------------------------------------------

Contact = Annotated[str, Path(max_length=254, description="the customer's email or phone")]


@router.get("/notification-preferences/{contact}", response_model=PreferencesOut,
            summary="A customer's notification preferences (defaults if none)")
async def get_preferences(contact: Contact, uow: ReadUowDep, actor: ActorDep,
                          ) -> dict[str, Any]:
    return await svc.get_preferences(contact, uow, actor)


@router.put("/notification-preferences/{contact}", response_model=PreferencesOut,
            responses=WRITE, summary="Set a customer's channels, opt-outs, quiet hours, tier")
async def put_preferences(contact: Contact, body: PreferencesIn, uow: UowDep,
                          actor: ActorDep) -> dict[str, Any]:
    return await svc.put_preferences(contact, svc.PreferenceFields(
        body.language, body.tier, body.channels, body.opt_outs, body.quiet_hours,
        body.timezone), uow, actor, body.expected_version)


# -- templates -------------------------------------------------------------------------------

ChannelPath = Annotated[str, Path(examples=[Channel.EMAIL.value])]


@router.get("/notification-templates", response_model=list[TemplateOut],
            summary="Every template (kind × channel × language) and whether it is overridden")
async def list_templates(request: Request, uow: ReadUowDep,
                         actor: ActorDep) -> list[dict[str, Any]]:
    return await editor.list_templates(uow, actor, template_renderer(request))


@router.get("/notification-templates/{kind}/{channel}/{language}",
            response_model=TemplateDetail, responses=ONE)
async def get_template(kind: str, channel: ChannelPath, language: str, request: Request,
                       uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await editor.get_template(editor.TemplateKey(kind, channel, language), uow, actor,
                                     template_renderer(request))


@router.put("/notification-templates/{kind}/{channel}/{language}",
            response_model=TemplateOut, responses=WRITE,
            summary="Override a template (Jinja2, sandboxed; must compile)")
async def put_template(kind: str, channel: ChannelPath, language: str, body: TemplateIn,
                       request: Request, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    return await editor.put_template(editor.TemplateKey(kind, channel, language),
                                     TemplateSource(body.subject, body.text, body.html), uow,
                                     actor, template_renderer(request), body.expected_version)


@router.delete("/notification-templates/{kind}/{channel}/{language}", status_code=204,
               responses=ONE, summary="Drop the override; the packaged default applies")
async def revert_template(kind: str, channel: ChannelPath, language: str, uow: UowDep,
                          actor: ActorDep) -> Response:
    await editor.revert_template(editor.TemplateKey(kind, channel, language), uow, actor)
    return Response(status_code=204)


@router.post("/notification-templates/preview", response_model=PreviewOut, responses=ONE,
             summary="Render a template for a sample (or real) order; nothing is sent")
async def preview(body: PreviewIn, request: Request, uow: ReadUowDep,
                  actor: ActorDep) -> dict[str, Any]:
    source = None
    if body.text is not None:
        source = TemplateSource(body.subject, body.text, body.html)
    s = app_settings(request)
    return await editor.preview(editor.TemplateKey(body.kind, body.channel, body.language),
                                source, uow, actor, template_renderer(request),
                                base_url=s.public_base_url,
                                tz=working_calendar(request).tz, order_number=body.order_number)
