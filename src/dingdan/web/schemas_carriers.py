"""Request and response schemas of carriers, rate tables and rate shopping (issue 12)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict

from dingdan.web.fields import Bool, Line, Text
from dingdan.web.schemas import _In

Days = Annotated[int, Strict(), Field(ge=0, le=60)]
Grams = Annotated[int, Strict(), Field(ge=1, le=1_000_000)]
Mm = Annotated[int, Strict(), Field(ge=1, le=10_000)]


class ServiceIn(_In):
    code: Line = Field(min_length=1, max_length=32)
    name_zh: Line = Field(min_length=1, max_length=100)
    name_en: Line = Field(min_length=1, max_length=100)
    transit_days: Days
    cod: Bool = False
    insured: Bool = False
    cold_chain: Bool = False
    active: Bool = True


class SurchargeIn(_In):
    province: Line = Field(min_length=1, max_length=64)
    city: Line | None = Field(None, max_length=64, description="none: the whole province")
    amount: Annotated[int, Strict(), Field(ge=0, le=1_000_000, description="minor units")]


class CarrierIn(_In):
    name_zh: Line = Field(min_length=1, max_length=100)
    name_en: Line = Field(min_length=1, max_length=100)
    volumetric_divisor: Annotated[int, Strict(), Field(ge=1000, le=20000)] = 6000
    kuaidi100_code: Line | None = Field(None, max_length=32)
    international: Bool = False
    check_digit: Line = Field("none", max_length=16, description="none, s10 or luhn")
    active: Bool = True
    services: list[ServiceIn] = Field(default_factory=list, max_length=50)
    remote_surcharges: list[SurchargeIn] | None = Field(
        None, max_length=2000, description="偏远地区附加费; replaces the carrier's when given")


class ServiceOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    transit_days: int
    cod: bool
    insured: bool
    cold_chain: bool
    active: bool


class CarrierOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    kuaidi100_code: str | None
    international: bool
    volumetric_divisor: int
    check_digit: str
    active: bool
    version: int
    services: list[ServiceOut]


class RateImportOut(BaseModel):
    rows: int
    services: list[str]


class RateShopIn(_In):
    weight_g: Grams | None = Field(None, description="weighed at packing; else the products'")
    length_mm: Mm | None = None
    width_mm: Mm | None = None
    height_mm: Mm | None = None
    cod: Bool = False
    insured: Bool = False
    cold_chain: Bool = False


class QuoteOut(BaseModel):
    service: str
    carrier: str
    price: int
    currency: str
    weight_g: int
    surcharge: int
    transit_days: int
    promised_at: datetime


class RateShopOut(BaseModel):
    number: str
    origin: str
    destination: str
    weight_g: int
    deliver_by: datetime | None
    chosen: QuoteOut | None
    keeps_promise: bool
    reason: str
    alternatives: list[QuoteOut]


class RateChoiceOut(BaseModel):
    service: str | None
    price: int | None
    currency: str | None
    promised_at: datetime | None
    keeps_promise: bool
    weight_g: int
    reason: str
    alternatives: list[dict[str, Any]]
    actor: str
    created_at: datetime


class WaybillNumbersIn(_In):
    first: Annotated[int, Strict(), Field(ge=0, le=10**15 - 1)]
    count: Annotated[int, Strict(), Field(ge=1, le=100_000)]
    prefix: Line = Field("", max_length=4)
    suffix: Line = Field("", max_length=4)
    width: Annotated[int, Strict(), Field(ge=1, le=15)] = 8


class WaybillNumbersOut(BaseModel):
    carrier: str
    first: str
    last: str
    added: int
    free: int


class LabelIn(_In):
    size: Literal["100x150", "76x130"] = "100x150"


class LabelOut(BaseModel):
    id: int
    number: str
    carrier: str
    service: str | None
    tracking_number: str
    size: str
    weight_g: int
    status: str
    created_at: datetime
    voided_at: datetime | None
    void_reason: str | None


class VoidIn(_In):
    reason: Text = Field(min_length=1, max_length=400)


class ShippedOut(BaseModel):
    number: str
    version: int
