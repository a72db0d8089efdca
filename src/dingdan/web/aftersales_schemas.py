"""Request and response shapes of after-sales cases, refunds, return rules and complaints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from dingdan.domain import aftersales, complaints, refunds
from dingdan.domain.aftersales import CaseStatus, CaseType, Condition, Reason
from dingdan.domain.complaints import Category, Channel, ComplaintStatus
from dingdan.domain.lifecycle import PaymentStatus
from dingdan.domain.money import MAX_AMOUNT
from dingdan.domain.refunds import Method, RefundStatus
from dingdan.web.fields import INT32_MAX, NON_EMPTY_LINE, Bool, Line, Text, Version

MAX_CASE_LINES = 200


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseLineIn(_In):
    line_no: int = Field(ge=1, le=10_000, strict=True, description="the order's line")
    quantity: int = Field(ge=1, le=INT32_MAX, strict=True)


class CaseCreate(_In):
    order_number: Line = Field(max_length=32, json_schema_extra=NON_EMPTY_LINE)
    type: CaseType
    reason: Reason
    lines: list[CaseLineIn] = Field(min_length=1, max_length=MAX_CASE_LINES)
    description: Text | None = Field(None, max_length=2000)
    include_shipping: Bool = False


class CaseActionIn(_In):
    reason: Text | None = Field(None, max_length=1000)
    return_waybill: Line | None = Field(None, max_length=64)
    expected_version: Version | None = None


class InspectedLine(_In):
    line_no: int = Field(ge=1, le=10_000, strict=True)
    condition: Condition


class InspectIn(_In):
    conditions: list[InspectedLine] = Field(min_length=1, max_length=MAX_CASE_LINES)
    reason: Text | None = Field(None, max_length=1000)
    expected_version: Version | None = None


class CaseRefundIn(_In):
    method: Method
    reference: Line | None = Field(None, max_length=128,
                                   description="manual: the transfer's or receipt's reference")
    reason: Text | None = Field(None, max_length=256)


class RefundIn(CaseRefundIn):
    amount: int | None = Field(None, ge=1, le=MAX_AMOUNT, strict=True,
                               description="minor units; left out: all that is left "
                                           "(a cancelled order)")


class ReturnRuleIn(_In):
    window_days: int = Field(ge=0, le=365, strict=True)
    returnable: Bool = True
    note: Line | None = Field(None, max_length=200)


class CaseLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    unit_price: int
    condition: str | None


class CaseEventOut(BaseModel):
    event_id: str
    type: str
    from_status: str | None
    to_status: str | None
    actor: str
    source: str
    reason: str | None
    data: dict[str, Any]
    created_at: datetime


class RefundOut(BaseModel):
    id: int
    request_no: str
    order_number: str
    amount: int
    currency: str
    method: str
    status: RefundStatus
    status_label: str
    reason: str | None
    gateway_reference: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    succeeded_at: datetime | None


class RefundPage(BaseModel):
    items: list[RefundOut]
    next_cursor: str | None


class OrderRefundsOut(BaseModel):
    order_number: str
    payment_status: PaymentStatus
    payment_status_label: str
    currency: str
    paid: int
    refunded: int
    refundable: int
    refunds: list[RefundOut]


class CaseSummary(BaseModel):
    number: str
    order_number: str
    type: CaseType
    type_label: str
    status: CaseStatus
    status_label: str
    reason: Reason
    reason_label: str
    opened_by: str
    refund_amount: int
    currency: str
    version: int
    created_at: datetime
    updated_at: datetime


class CasePublic(CaseSummary):
    description: str | None
    return_waybill: str | None
    include_shipping: bool
    approved_at: datetime | None
    received_at: datetime | None
    inspected_at: datetime | None
    refunded_at: datetime | None
    closed_at: datetime | None
    lines: list[CaseLineOut]
    allowed_actions: list[str]
    timeline: list[CaseEventOut]
    refunds: list[RefundOut]


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class ReturnRuleOut(BaseModel):
    sku_prefix: str
    window_days: int
    returnable: bool
    note: str | None
    version: int
    updated_at: datetime


def refund_out(r: dict[str, Any], lang: str) -> dict[str, Any]:
    return {**r, "status_label": refunds.REFUND.status_label(RefundStatus(r["status"]), lang)}


def case_summary(c: dict[str, Any], lang: str) -> dict[str, Any]:
    return {**c, "type_label": aftersales.label(aftersales.TYPE_LABELS, CaseType(c["type"]),
                                                lang),
            "status_label": aftersales.CASE.status_label(CaseStatus(c["status"]), lang),
            "reason_label": aftersales.label(aftersales.REASON_LABELS, Reason(c["reason"]),
                                             lang)}


def case_public(c: dict[str, Any], lang: str) -> dict[str, Any]:
    return {**case_summary(c, lang), "refunds": [refund_out(r, lang) for r in c["refunds"]]}


def order_refunds_out(o: dict[str, Any], lang: str) -> dict[str, Any]:
    status = PaymentStatus(o["payment_status"])
    return {**o, "payment_status_label": aftersales.label(refunds.PAYMENT_LABELS, status, lang),
            "refunds": [refund_out(r, lang) for r in o["refunds"]]}


# --- complaints -----------------------------------------------------------------------------

class ComplaintCreate(_In):
    order_number: Line = Field(max_length=32, json_schema_extra=NON_EMPTY_LINE)
    category: Category
    channel: Channel
    summary: Line = Field(max_length=400, json_schema_extra=NON_EMPTY_LINE)
    line_nos: list[Annotated[int, Field(ge=1, le=10_000, strict=True)]] = Field(
        default_factory=list, max_length=MAX_CASE_LINES)
    message: Text | None = Field(None, max_length=4000)


class ReplyIn(_In):
    body: Text = Field(min_length=1, max_length=4000)
    internal: Bool = False


class ComplaintActionIn(_In):
    reason: Text | None = Field(None, max_length=1000)
    resolution: Text | None = Field(None, max_length=4000)
    expected_version: Version | None = None


class MessageOut(BaseModel):
    direction: str
    author: str
    body: str
    created_at: datetime


class ComplaintSummary(BaseModel):
    number: str
    order_number: str
    category: Category
    category_label: str
    channel: Channel
    status: ComplaintStatus
    status_label: str
    summary: str
    owner_role: str
    owner_name: str | None
    repeat: bool
    breaches: list[str]
    first_response_due: datetime
    resolution_due: datetime
    first_response_at: datetime | None
    escalated_at: datetime | None
    version: int
    created_at: datetime


class ComplaintPublic(ComplaintSummary):
    line_nos: list[int]
    resolution: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    messages: list[MessageOut]
    timeline: list[CaseEventOut]
    allowed_actions: list[str]


class ComplaintPage(BaseModel):
    items: list[ComplaintSummary]
    next_cursor: str | None


def complaint_summary(c: dict[str, Any], lang: str) -> dict[str, Any]:
    return {**c, "category_label": aftersales.label(complaints.CATEGORY_LABELS,
                                                    Category(c["category"]), lang),
            "status_label": complaints.COMPLAINT.status_label(ComplaintStatus(c["status"]),
                                                              lang)}


class CauseOut(BaseModel):
    category: Category
    category_label: str
    complaints: int


def causes_out(counts: dict[str, int], lang: str) -> list[dict[str, Any]]:
    return [{"category": c, "complaints": counts.get(c.value, 0),
             "category_label": aftersales.label(complaints.CATEGORY_LABELS, c, lang)}
            for c in sorted(Category, key=lambda c: -counts.get(c.value, 0))]
