"""Customers: list and search, one customer with contacts, history and orders, edits (tier,
credit limit, blocklist, notes) and merging two records of one customer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from dingdan.domain.money import MAX_AMOUNT
from dingdan.services import customers as svc
from dingdan.web.deps import ActorDep, ReadUowDep, UowDep, get_read_uow
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Bool, Id, IdPath, Line, LineQuery, Text, Version

router = APIRouter(prefix="/customers", tags=["customers"],
                   responses=problem_responses(400, 401, 403, 422))
ONE = problem_responses(404)
WRITE = problem_responses(404, 409)


class CustomerPublic(BaseModel):
    id: int
    kind: str
    name: str
    company: str | None
    phone: str | None = Field(description="masked without pii.read")
    email: str | None = Field(description="masked without pii.read")
    tier: str
    credit_limit: int | None = Field(description="minor units; null: no credit terms")
    blocked: bool
    blocked_reason: str | None
    notes: str | None
    merged_into: int | None
    version: int
    created_at: datetime
    updated_at: datetime


class Contact(BaseModel):
    kind: str
    value: str


class History(BaseModel):
    orders: int
    paid_orders: int
    cancelled_orders: int
    lifetime_value: int = Field(description="sum of paid orders, minor units")
    open_exposure: int = Field(description="unpaid, not cancelled orders, minor units")


class CustomerOrder(BaseModel):
    number: str
    status: str
    payment_status: str
    total: int
    currency: str
    placed_at: datetime
    channel: str


class CustomerDetail(CustomerPublic):
    contacts: list[Contact]
    history: History
    orders: list[CustomerOrder]


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[Line | None, Field(min_length=1, max_length=200)] = None
    company: Annotated[Line | None, Field(max_length=200)] = None
    kind: Annotated[Line | None, Field(max_length=16, examples=["person", "company"])] = None
    tier: Annotated[Line | None, Field(max_length=16, examples=["standard", "trusted", "vip"])
                    ] = None
    credit_limit: Annotated[int | None, Field(strict=True, ge=0, le=MAX_AMOUNT)] = None
    blocked: Bool | None = None
    blocked_reason: Annotated[Line | None, Field(max_length=400)] = None
    notes: Annotated[Text | None, Field(max_length=4000)] = None
    expected_version: Version | None = Field(None, description="refuse if changed since read")


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_customer: Id = Field(description="the duplicate record; its orders and contacts move")


@router.get("", response_model=list[CustomerPublic], summary="List and search customers")
async def list_customers(uow: ReadUowDep, actor: ActorDep,
                         q: Annotated[LineQuery, Query(description="name, company, phone or "
                                                                   "email")] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50,
                         ) -> list[dict[str, Any]]:
    return await svc.list_customers(q, limit, uow, actor=actor)


@router.get("/{customer_id}", response_model=CustomerDetail, responses=ONE)
async def get_customer(customer_id: IdPath, uow: ReadUowDep, actor: ActorDep) -> dict[str, Any]:
    return await svc.get_customer(customer_id, uow, actor=actor)


@router.patch("/{customer_id}", response_model=CustomerDetail, responses=WRITE,
              summary="Change tier, credit limit, blocklist, notes (customer.write)")
async def update_customer(customer_id: IdPath, body: CustomerUpdate, uow: UowDep,
                          request: Request, actor: ActorDep) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"expected_version"})
    await svc.update_customer(svc.UpdateCustomer(customer_id, changes, actor,
                                                 body.expected_version), uow)
    return await svc.get_customer(customer_id, get_read_uow(request), actor=actor)


@router.post("/{customer_id}/merge", response_model=CustomerDetail, responses=WRITE,
             summary="Merge a duplicate record into this one (orders and contacts move)")
async def merge_customer(customer_id: IdPath, body: MergeIn, uow: UowDep, request: Request,
                         actor: ActorDep) -> dict[str, Any]:
    await svc.merge_customers(svc.MergeCustomers(customer_id, body.from_customer, actor), uow)
    return await svc.get_customer(customer_id, get_read_uow(request), actor=actor)
