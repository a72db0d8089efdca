"""Tracking: the carriers' push callbacks, a parcel's history, subscriptions, exceptions.

The callbacks are open to the internet and answer only a correctly signed push (401
otherwise, nothing written), in the provider's own answer format: Kuaidi100
``{"result": true, "returnCode": "200", "message": "成功"}``, SF Express
``{"return_code": "0000", "return_msg": "成功"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request

from dingdan.adapters.carriers import kuaidi100, sf
from dingdan.services import tracking as svc
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep, app_settings, uow_factory
from dingdan.web.errors import problem_responses
from dingdan.web.schemas_tracking import (
    Kuaidi100Answer,
    ParcelHistory,
    SfAnswer,
    SubscriptionOut,
    TrackingAlert,
)

router = APIRouter(tags=["tracking"], responses=problem_responses(400, 401, 422))

PushText = Annotated[str, Form(min_length=1, max_length=200_000)]


@router.post("/carrier-callbacks/kuaidi100", response_model=Kuaidi100Answer,
             responses=problem_responses(404))
async def kuaidi100_push(request: Request, param: PushText,
                         sign: Annotated[str, Form(min_length=1, max_length=64)],
                         ) -> dict[str, Any]:
    """Kuaidi100's subscription push (form ``param``, ``sign`` = MD5(param + salt))."""
    salt = app_settings(request).kuaidi100_salt
    await svc.receive_kuaidi100_push(param, sign, salt.get_secret_value() if salt else None,
                                     uow_factory(request))
    return kuaidi100.OK_ANSWER


@router.post("/carrier-callbacks/sf-express", response_model=SfAnswer,
             responses=problem_responses(404))
async def sf_route_push(request: Request, msgData: PushText,
                        timestamp: Annotated[str, Form(min_length=1, max_length=20,
                                                       pattern=r"^[0-9]+$")],
                        msgDigest: Annotated[str, Form(min_length=1, max_length=64)],
                        ) -> dict[str, Any]:
    """SF Express's route push (form ``msgData``, ``timestamp``, ``msgDigest``)."""
    word = app_settings(request).sf_check_word
    await svc.receive_sf_push(msgData, timestamp, msgDigest,
                              word.get_secret_value() if word else None, uow_factory(request))
    return sf.OK_ANSWER


@router.get("/orders/{number}/tracking", response_model=ParcelHistory,
            responses=problem_responses(404))
async def parcel_history(number: str, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    """The parcel's carrier, tracking number, subscriptions and every scan, newest first."""
    return await svc.parcel_history(number, uow, actor=actor)


@router.post("/orders/{number}/tracking-subscriptions", status_code=202,
             response_model=SubscriptionOut, responses=problem_responses(404, 409))
async def subscribe(number: str, uow: UowDep, actor: ActorDep) -> dict[str, Any]:
    """Have Kuaidi100 push this order's scans to us (sent by the worker; asking twice is
    harmless)."""
    return await svc.request_subscription(number, uow, actor=actor)


@router.get("/tracking/exceptions", response_model=list[TrackingAlert])
async def tracking_exceptions(uow: ReadUowDep, actor: ActorDep) -> list[dict[str, Any]]:
    """Parcels in trouble: silent for 48 h, failed delivery, returning, exception, or a
    carrier status never seen before."""
    return await svc.tracking_exceptions(uow, actor=actor)
