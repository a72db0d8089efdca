"""Response schemas of tracking (issue 12)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Kuaidi100Answer(BaseModel):
    result: bool
    returnCode: str
    message: str


class SfAnswer(BaseModel):
    return_code: str
    return_msg: str


class TrackingEventOut(BaseModel):
    tracking_number: str
    provider: str
    code: str
    status: str
    known: bool
    text: str
    place: str | None
    occurred_at: datetime
    received_at: datetime
    order_action: str | None


class SubscriptionBrief(BaseModel):
    provider: str
    carrier_code: str
    tracking_number: str
    status: str
    created_at: datetime


class ParcelHistory(BaseModel):
    number: str
    status: str
    carrier: str | None
    tracking_number: str | None
    subscriptions: list[SubscriptionBrief]
    events: list[TrackingEventOut]


class SubscriptionOut(BaseModel):
    number: str
    provider: str
    carrier_code: str
    tracking_number: str
    created: bool


class TrackingAlert(BaseModel):
    id: int
    order_number: str
    kind: str
    role: str
    created_at: datetime
    acknowledged_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    status: str
