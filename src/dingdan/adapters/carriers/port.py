"""What a carrier adapter gives the services: the scans of one parcel, as the carrier said
them (code, text, place, time). Normalising the code is the domain's (``domain.tracking``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class CarrierProtocolError(ValueError):
    """A push or an answer that does not follow the provider's documented format."""


@dataclass(frozen=True, slots=True)
class Scan:
    code: str  # the carrier's status or operation code, as sent
    text: str  # the carrier's own words (context / remark)
    place: str | None
    occurred_at: datetime  # aware, UTC


@dataclass(frozen=True, slots=True)
class ParcelUpdate:
    """One push (or query answer) about one parcel."""

    tracking_number: str
    carrier: str  # the provider's carrier code (``shunfeng``, ``SF``…)
    scans: tuple[Scan, ...]
    finished: bool = False  # the provider stops tracking it (Kuaidi100 ``shutdown``)
