"""Rates and rate shopping. Pure: callers pass the rate rows, the parcel and the time.

Chinese carriers publish zone rates per (origin province, destination province): 首重, a
price for the first weight (usually 1 kg), and 续重, a price for each further step (usually
1 kg) or part of one. Heavier parcels may fall in other weight bands with prices of their
own; the bands of one lane must cover the weights from 0 without gaps or overlaps
(:func:`check_rows` names the rows that break that). A parcel is charged on the greater of
its actual weight and its volumetric weight — length × width × height over the carrier's
divisor — plus the carrier's surcharge for a remote destination (偏远地区附加费).

Rate shopping (:func:`choose`) takes every eligible service's quote and picks the cheapest
that keeps the order's deliver-by promise (the fastest on a tie); when none keeps it, the
fastest (cheapest on a tie), said so. The choice and every alternative are recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RateRow:
    service: str  # "SF/standard": the carrier's code and the service's
    origin: str
    destination: str
    min_weight_g: int  # from, inclusive
    max_weight_g: int  # to, exclusive
    first_weight_g: int
    first_price: int  # minor units
    step_g: int
    step_price: int
    currency: str
    transit_days: int | None = None  # this lane's promise, if not the service's
    row_no: int = 0  # where it came from (the spreadsheet's row), for reports


@dataclass(frozen=True, slots=True)
class RowProblem:
    row_no: int
    field: str
    code: str
    message: str


MAX_WEIGHT_G = 1_000_000  # a tonne: beyond any parcel service


def check_rows(rows: Sequence[RateRow]) -> list[RowProblem]:
    """Every problem of a rate table, row by row: bad values, and bands of one lane that
    leave a gap (starting at 0 g) or overlap."""
    problems: list[RowProblem] = []
    lanes: dict[tuple[str, str, str], list[RateRow]] = defaultdict(list)
    for r in rows:
        bad = _bad_values(r)
        problems.extend(bad)
        if not bad:
            lanes[(r.service, r.origin, r.destination)].append(r)
    for (service, origin, destination), band in lanes.items():
        band.sort(key=lambda r: (r.min_weight_g, r.row_no))
        lane = f"{service} {origin}→{destination}"
        expected_from = 0
        previous: RateRow | None = None
        for r in band:
            if r.min_weight_g > expected_from:
                after = f" after row {previous.row_no}" if previous else ""
                problems.append(RowProblem(r.row_no, "min_weight", "gap",
                                           f"{lane}: nothing covers {expected_from}-"
                                           f"{r.min_weight_g} g{after}"))
            elif r.min_weight_g < expected_from and previous is not None:
                problems.append(RowProblem(r.row_no, "min_weight", "overlap",
                                           f"{lane}: overlaps row {previous.row_no} "
                                           f"({r.min_weight_g}-{expected_from} g)"))
            if previous is None or r.max_weight_g > expected_from:
                expected_from, previous = r.max_weight_g, r
    return sorted(problems, key=lambda p: (p.row_no, p.field))


def _bad_values(r: RateRow) -> list[RowProblem]:
    out: list[RowProblem] = []

    def bad(field: str, code: str, message: str) -> None:
        out.append(RowProblem(r.row_no, field, code, message))

    if not r.service or not r.origin or not r.destination:
        bad("lane", "required", "carrier, service, origin and destination are required")
    if not 0 <= r.min_weight_g < r.max_weight_g <= MAX_WEIGHT_G:
        bad("max_weight", "out_of_range", "weights must rise: 0 ≤ from < to ≤ 1000 kg")
    if r.first_weight_g <= 0:
        bad("first_weight", "out_of_range", "the first weight (首重) must be above 0")
    if r.step_g <= 0:
        bad("step_weight", "out_of_range", "the step (续重) must be above 0")
    if r.first_price < 0 or r.step_price < 0:
        bad("price", "out_of_range", "prices cannot be negative")
    if r.transit_days is not None and not 0 <= r.transit_days <= 60:
        bad("transit_days", "out_of_range", "transit days: 0-60")
    return out


def volumetric_weight_g(length_mm: int, width_mm: int, height_mm: int, divisor: int) -> int:
    """L×W×H (cm) / divisor, in kg — in grams that is mm³ / divisor, rounded up."""
    return -(-(length_mm * width_mm * height_mm) // divisor)


def chargeable_weight_g(actual_g: int, dims_mm: tuple[int, int, int] | None,
                        divisor: int) -> int:
    if dims_mm is None:
        return actual_g
    return max(actual_g, volumetric_weight_g(*dims_mm, divisor))


def price_of(row: RateRow, weight_g: int) -> int:
    """首重 plus each 续重 step or part of one."""
    extra = max(0, weight_g - row.first_weight_g)
    return row.first_price + -(-extra // row.step_g) * row.step_price


def find_row(rows: Iterable[RateRow], origin: str, destination: str,
             weight_g: int) -> RateRow | None:
    for r in rows:
        if r.origin == origin and r.destination == destination \
                and r.min_weight_g <= weight_g < r.max_weight_g:
            return r
    return None


@dataclass(frozen=True, slots=True)
class Service:
    id: int
    key: str  # "SF/standard"
    carrier: str
    name_zh: str
    name_en: str
    transit_days: int
    volumetric_divisor: int
    cod: bool = False
    insured: bool = False
    cold_chain: bool = False


@dataclass(frozen=True, slots=True)
class Needs:
    """What the order asks of a service (rules: cash on delivery, insurance, cold chain)."""

    cod: bool = False
    insured: bool = False
    cold_chain: bool = False


@dataclass(frozen=True, slots=True)
class Quote:
    service_id: int
    service: str
    carrier: str
    price: int
    currency: str
    weight_g: int  # chargeable
    surcharge: int
    transit_days: int
    promised_at: datetime


def quote(service: Service, rows: Iterable[RateRow], origin: str, destination: str,
          actual_g: int, dims_mm: tuple[int, int, int] | None, surcharge: int,
          now: datetime) -> Quote | None:
    """The service's price and promise for this parcel, or None if its table has no row."""
    weight = chargeable_weight_g(actual_g, dims_mm, service.volumetric_divisor)
    row = find_row(rows, origin, destination, weight)
    if row is None:
        return None
    days = row.transit_days if row.transit_days is not None else service.transit_days
    return Quote(service.id, service.key, service.carrier, price_of(row, weight) + surcharge,
                 row.currency, weight, surcharge, days, now + timedelta(days=days))


def eligible(service: Service, needs: Needs) -> bool:
    return ((service.cod or not needs.cod) and (service.insured or not needs.insured)
            and (service.cold_chain or not needs.cold_chain))


@dataclass(frozen=True, slots=True)
class Choice:
    chosen: Quote | None
    alternatives: tuple[Quote, ...]  # every other quote, cheapest first
    keeps_promise: bool
    reason: str


def choose(quotes: Sequence[Quote], deliver_by: datetime | None) -> Choice:
    """The cheapest quote that keeps ``deliver_by`` (fastest on a tie); else the fastest."""
    if not quotes:
        return Choice(None, (), False, "no service has a rate for this parcel")
    by_price = sorted(quotes, key=lambda q: (q.price, q.promised_at, q.service))
    keeping = [q for q in by_price if deliver_by is None or q.promised_at <= deliver_by]
    if keeping:
        chosen = keeping[0]
        reason = ("cheapest service" if deliver_by is None
                  else "cheapest service that keeps the deliver-by promise")
        kept = True
    else:
        chosen = min(quotes, key=lambda q: (q.promised_at, q.price, q.service))
        reason = "no service keeps the deliver-by promise: the fastest"
        kept = False
    return Choice(chosen, tuple(q for q in by_price if q is not chosen), kept, reason)
