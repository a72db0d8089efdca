"""Erasure on request (PIPL): anonymise a customer's orders (``pii.erase``, admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from dingdan.services.privacy import AnonymiseCustomer, anonymise_customer
from dingdan.web.deps import ActorDep, UowDep
from dingdan.web.errors import problem_responses
from dingdan.web.fields import Line, Text

router = APIRouter(tags=["privacy"], responses=problem_responses(400, 401, 403, 404, 409, 422))


class AnonymiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[Line | None, Field(max_length=32)] = None
    email: Annotated[Line | None, Field(max_length=254)] = None
    reason: Annotated[Text, Field(min_length=1, max_length=500,
                                  description="why: the customer's request and its reference")]


class AnonymiseResult(BaseModel):
    orders: list[str]
    contact_digest: str = Field(description="SHA-256 (first 32 hex) of the contacts erased, "
                                            "as the audit row records them")


@router.post("/privacy/anonymise", response_model=AnonymiseResult,
             summary="Erase a customer's personal data from all their orders (kept: the "
                     "order facts). Refused while one of them is open.")
async def anonymise(body: AnonymiseRequest, uow: UowDep, actor: ActorDep) -> AnonymiseResult:
    done = await anonymise_customer(AnonymiseCustomer(actor, body.reason, body.phone,
                                                      body.email), uow)
    return AnonymiseResult(orders=list(done.orders), contact_digest=done.contact_digest)
