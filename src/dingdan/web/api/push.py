"""Web push for the customer portal: the VAPID public key, subscribe and unsubscribe, and the
service worker script (``/sw.js``, served from the site root so it may control every page).

Subscribing is open to the customer who proves the order is theirs (``order_number`` and the
phone or email on it; limited per address and per order, 429 with ``Retry-After`` past it)
and to signed-in callers who may read personal data; see ``dingdan.services.push``. The
endpoint must pass the outbound guard (422 ``URL_NOT_ALLOWED``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from dingdan.adapters.notify.webpush import application_server_key, load_vapid_key
from dingdan.domain.errors import NotFound
from dingdan.domain.events import Actor
from dingdan.services import push as svc
from dingdan.settings import Settings
from dingdan.web.auth import client_address
from dingdan.web.deps import GuardDep, PushThrottleDep, UowDep, current_actor
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Line

router = APIRouter(prefix="/push", tags=["web push"], responses=problem_responses(400, 422))
assets = APIRouter()

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "sw.js"
_optional_bearer = HTTPBearer(auto_error=False)


async def optional_actor(request: Request, creds: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_optional_bearer)]) -> Actor | None:
    """The signed-in caller, if the request carries a token (a bad token is still a 401)."""
    if creds is None:
        return None
    return await current_actor(request, creds)


class PushKeys(BaseModel):
    p256dh: Annotated[Line, Field(max_length=200)]
    auth: Annotated[Line, Field(max_length=100)]


class PushSubscriptionIn(BaseModel):
    """The browser's ``PushSubscription.toJSON()``."""

    endpoint: Annotated[Line, Field(max_length=900)]
    keys: PushKeys
    expirationTime: Annotated[float, Field(ge=0, le=1e15)] | None = None  # the browser's name


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscription: PushSubscriptionIn
    order_number: Annotated[Line | None, Field(max_length=32)] = None
    contact: Annotated[Line | None, Field(
        max_length=254, description="phone or email on the order (customers' proof)")] = None
    customer_key: Annotated[Line | None, Field(
        max_length=254, description="follow every order of this email or phone "
                                    "(signed-in callers only)")] = None


class SubscribedOut(BaseModel):
    id: int
    endpoint: str
    order_number: str | None
    customer_key: str | None


class VapidKeyOut(BaseModel):
    public_key: str = Field(description="applicationServerKey for PushManager.subscribe()")


@router.get("/vapid-public-key", response_model=VapidKeyOut, responses=problem_responses(404))
async def vapid_public_key(request: Request) -> dict[str, str]:
    settings: Settings = request.app.state.settings
    if not settings.vapid_key_file.is_file():
        raise NotFound({"kind": "VAPID key", "key": str(settings.vapid_key_file.name)})
    return {"public_key": application_server_key(load_vapid_key(settings.vapid_key_file))}


@router.post("/subscriptions", status_code=201, response_model=SubscribedOut,
             responses=problem_responses(401, 403, 404, 429))
async def subscribe(body: SubscribeIn, request: Request, uow: UowDep,
                    actor: Annotated[Actor | None, Depends(optional_actor)],
                    guard: GuardDep, throttle: PushThrottleDep) -> Any:
    return await svc.subscribe_push(svc.SubscribePush(
        subscription=body.subscription.model_dump(), order_number=body.order_number,
        customer_key=body.customer_key, contact=body.contact, actor=actor,
        user_agent=request.headers.get("user-agent"),
        client_address=client_address(request)), uow, guard=guard, throttle=throttle)


@router.delete("/subscriptions", status_code=204, responses=problem_responses(404))
async def unsubscribe(uow: UowDep, endpoint: Annotated[Line, Query(max_length=900)]) -> Response:
    await svc.unsubscribe_push(endpoint, uow)
    return Response(status_code=204)


@assets.get("/sw.js", include_in_schema=False)
async def service_worker() -> FileResponse:
    return FileResponse(SERVICE_WORKER, media_type="text/javascript",
                        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})
