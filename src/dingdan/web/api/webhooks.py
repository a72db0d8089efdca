"""Webhook subscriptions for integrators: CRUD, the delivery log, replay from a point in time.

The secret is in the answer to create (and to a secret rotation) only; afterwards the API
shows its last four characters. ``docs/webhooks.md`` says how receivers verify signatures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from dingdan.services import webhooks as svc
from dingdan.web.deps import ActorDep, GuardDep, ReadUowDep, UowDep
from dingdan.web.errors import problem_responses
from dingdan.web.fields import INT64_MAX, Bool, IdPath, Line, Moment, Version

router = APIRouter(prefix="/webhooks", tags=["webhooks"],
                   responses=problem_responses(400, 401, 403, 422))
ONE = problem_responses(404)

EventTypes = Annotated[list[Annotated[Line, Field(min_length=1, max_length=64)]],
                       Field(min_length=1, max_length=50,
                             examples=[["order.shipped", "order.delivered"], ["order.*"], ["*"]])]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[Line, Field(max_length=2000, examples=["https://erp.example.com/dingdan"])]
    event_types: EventTypes
    description: Annotated[Line | None, Field(max_length=400)] = None
    active: Bool = True


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[Line | None, Field(max_length=2000)] = None
    event_types: EventTypes | None = None
    description: Annotated[Line | None, Field(max_length=400)] = None
    active: Bool | None = None
    rotate_secret: Bool = Field(False, description="make a new secret (shown once)")
    expected_version: Version | None = Field(None, description="refuse if changed since read")


class WebhookPublic(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    secret_hint: str = Field(description="the secret's last four characters")


class WebhookWithSecret(WebhookPublic):
    secret: str | None = Field(
        None, description="HMAC-SHA256 signing secret; shown only when made or rotated")


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    order_number: str | None
    status: str
    attempts: int
    response_code: int | None
    last_error: str | None
    replay: bool
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    dead_at: datetime | None


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: Moment = Field(description="replay events that happened at or after this")
    until: Moment | None = Field(None, description="…and before this (default: now)")


class ReplayOut(BaseModel):
    subscription_id: int
    since: datetime
    until: datetime | None
    events: int
    queued: int
    recipient: str
    complete: bool
    last_created_at: datetime | None


@router.get("", response_model=list[WebhookPublic])
async def list_webhooks(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    return await svc.list_subscriptions(actor, uow)


@router.post("", status_code=201, response_model=WebhookWithSecret)
async def create_webhook(body: WebhookCreate, uow: UowDep, actor: ActorDep,
                         guard: GuardDep) -> dict[str, Any]:
    made = await svc.create_subscription(svc.CreateSubscription(
        url=body.url, event_types=tuple(body.event_types), actor=actor,
        description=body.description, active=body.active), uow, guard=guard)
    return made.subscription | {"secret": made.secret}


@router.get("/{subscription_id}", response_model=WebhookPublic, responses=ONE)
async def get_webhook(subscription_id: IdPath, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.get_subscription(subscription_id, actor, uow)


@router.patch("/{subscription_id}", response_model=WebhookWithSecret,
              responses=problem_responses(404, 409))
async def update_webhook(subscription_id: IdPath, body: WebhookUpdate, uow: UowDep,
                         actor: ActorDep, guard: GuardDep) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version", "rotate_secret"})
    done = await svc.update_subscription(subscription_id, changes, body.expected_version, actor,
                                         uow, rotate_secret=body.rotate_secret, guard=guard)
    return done.subscription | {"secret": done.secret}


@router.delete("/{subscription_id}", status_code=204, responses=ONE)
async def delete_webhook(subscription_id: IdPath, uow: UowDep, actor: ActorDep) -> Response:
    await svc.delete_subscription(subscription_id, actor, uow)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryOut], responses=ONE)
async def webhook_deliveries(subscription_id: IdPath, uow: ReadUowDep, actor: ActorDep,
                             limit: Annotated[int, Query(ge=1, le=500)] = 100,
                             before: Annotated[int | None, Query(
                                 ge=1, le=INT64_MAX,
                                 description="id of the last delivery seen")] = None,
                             ) -> list[dict[str, Any]]:
    """The delivery log, newest first: status, attempts, response code, last error."""
    return await svc.subscription_deliveries(subscription_id, actor, uow, limit, before)


@router.post("/{subscription_id}/replay", status_code=202, response_model=ReplayOut,
             responses=ONE)
async def replay_webhook(subscription_id: IdPath, body: ReplayIn, uow: UowDep,
                         actor: ActorDep) -> svc.ReplayReport:
    """Deliver again every event since ``since`` with the same event ids (receivers that
    de-duplicate by ``Dingdan-Event-Id`` see each at most once)."""
    return await svc.replay(subscription_id, body.since, actor, uow, body.until)
