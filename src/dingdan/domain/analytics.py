"""Order KPIs from the event log. Pure: callers pass the order, its events and the time zone.

The timeline is the source of truth. :func:`measure` folds one order's events into its
:class:`Measures` (when it entered and left each status, whether it shipped and was
delivered on time against its own promises, whether it was cancelled). Only what the log has
*closed* is measured — a stay in a status counts once the order has left it — so an order's
measures never depend on the time they are computed at, and a read model built up in steps
equals one built at once.

:func:`contribution` turns an order's measures into the counts it adds to the read model:
one row of daily counts keyed by (day placed, warehouse, province, channel, carrier,
currency), and one row per completed stay keyed by (day placed, warehouse, status, duration
bucket). :func:`delta` is what to add when an order's measures change (new minus old), so the
read model is refreshed order by order and never recomputed; sums of those rows answer the
dashboard (:func:`kpis`, :func:`stage_summary`).

Percentiles of stage durations come from fixed buckets (:data:`BUCKET_EDGES`): a p90 of
"≤ 4 h" says the bucket the 90th percentile falls in, exactly, whatever the volume.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from dingdan.domain.errors import ErrorCollector
from dingdan.domain.lifecycle import Status
from dingdan.domain.regions import code_of

# Upper edges of the duration buckets, in seconds; the last bucket is open.
BUCKET_EDGES: tuple[int, ...] = (
    5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 12 * 3600, 86400,
    2 * 86400, 3 * 86400, 5 * 86400, 7 * 86400, 14 * 86400)

# The daily counts, in the order of the read model's columns.
DAILY_FIELDS: tuple[str, ...] = (
    "orders", "revenue", "cancelled", "shipped", "ship_promised", "shipped_on_time",
    "delivered", "deliver_promised", "delivered_on_time", "lead_n", "lead_seconds")

# The statuses an order waits in (a stay in a terminal status is not a wait).
WAITING: tuple[Status, ...] = tuple(s for s in Status
                                    if s not in (Status.COMPLETED, Status.CANCELLED))


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the KPIs read of an order besides its events (current values)."""

    order_id: int
    warehouse_id: int
    placed_at: datetime
    province: str  # as written on the address
    channel: str
    currency: str
    total: int  # minor units
    carrier: str | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An event of the order's timeline, as the KPIs read it (in the log's order)."""

    to_status: str | None  # None: no status change (a note, an address change)
    at: datetime


@dataclass(frozen=True, slots=True)
class Stay:
    status: Status
    start: datetime
    end: datetime | None  # None: the order is still there

    def seconds(self, until: datetime | None = None) -> int:
        end = self.end or until
        return 0 if end is None else max(0, int((end - self.start).total_seconds()))


@dataclass(frozen=True, slots=True)
class Measures:
    """One order's figures, from its events alone. Equal measures, equal contributions."""

    order_id: int
    day: date  # the day it was placed, in the business's time zone
    warehouse_id: int
    province: str  # GB/T 2260 code
    channel: str
    carrier: str  # "" until shipped
    currency: str
    total: int
    cancelled: bool
    shipped_at: datetime | None
    delivered_at: datetime | None
    on_time_ship: bool | None  # None: not shipped, or no ship-by promise
    on_time_deliver: bool | None
    stays: tuple[tuple[str, int], ...]  # (status, seconds) of every closed stay, in order
    lead_seconds: int | None  # placed to delivered


def stays(events: Iterable[Event]) -> list[Stay]:
    """The order's stays in each status, in order; the last one open."""
    out: list[Stay] = []
    for e in events:
        if e.to_status is None:
            continue
        if out:
            last = out[-1]
            out[-1] = Stay(last.status, last.start, e.at)
        out.append(Stay(Status(e.to_status), e.at, None))
    return out


def measure(order: OrderFacts, events: Sequence[Event], tz: tzinfo) -> Measures:
    """Fold an order's events into its measures."""
    path = stays(events)
    entered: dict[Status, datetime] = {}
    for s in path:
        entered.setdefault(s.status, s.start)
    shipped = entered.get(Status.SHIPPED)
    delivered = entered.get(Status.DELIVERED)
    cancelled = bool(path) and path[-1].status is Status.CANCELLED
    closed = tuple((s.status.value, s.seconds()) for s in path
                   if s.end is not None and s.status in WAITING)
    return Measures(
        order_id=order.order_id, day=order.placed_at.astimezone(tz).date(),
        warehouse_id=order.warehouse_id, province=code_of(order.province),
        channel=order.channel, carrier=(order.carrier or "") if shipped else "",
        currency=order.currency, total=order.total, cancelled=cancelled,
        shipped_at=shipped, delivered_at=delivered,
        on_time_ship=None if shipped is None or order.ship_by is None
        else shipped <= order.ship_by,
        on_time_deliver=None if delivered is None or order.deliver_by is None
        else delivered <= order.deliver_by,
        stays=closed,
        lead_seconds=None if delivered is None
        else max(0, int((delivered - order.placed_at).total_seconds())))


DailyKey = tuple[date, int, str, str, str, str]  # day, warehouse, province, channel, carrier, cur
StageKey = tuple[date, int, str, int]  # day, warehouse, status, bucket
Counts = tuple[int, ...]


def bucket(seconds: int) -> int:
    """The index of the duration bucket ``seconds`` falls in."""
    for i, edge in enumerate(BUCKET_EDGES):
        if seconds <= edge:
            return i
    return len(BUCKET_EDGES)


def bucket_label(index: int) -> int | None:
    """The bucket's upper edge in seconds (None: the open last bucket)."""
    return BUCKET_EDGES[index] if index < len(BUCKET_EDGES) else None


@dataclass
class Rollup:
    """Rows of the read model: daily counts and stage (count, seconds) per key."""

    daily: dict[DailyKey, list[int]]
    stages: dict[StageKey, list[int]]

    @classmethod
    def empty(cls) -> Rollup:
        return cls({}, {})

    def add(self, other: Rollup, sign: int = 1) -> None:
        for key, counts in other.daily.items():
            row = self.daily.setdefault(key, [0] * len(DAILY_FIELDS))
            for i, v in enumerate(counts):
                row[i] += sign * v
        for skey, pair in other.stages.items():
            srow = self.stages.setdefault(skey, [0, 0])
            srow[0] += sign * pair[0]
            srow[1] += sign * pair[1]

    def pruned(self) -> Rollup:
        """Without rows that add up to nothing (what the store deletes)."""
        return Rollup({k: v for k, v in self.daily.items() if any(v)},
                      {k: v for k, v in self.stages.items() if any(v)})


def contribution(m: Measures) -> Rollup:
    """What one order adds to the read model."""
    delivered = m.delivered_at is not None
    counts = [
        1, 0 if m.cancelled else m.total, int(m.cancelled), int(m.shipped_at is not None),
        int(m.on_time_ship is not None), int(bool(m.on_time_ship)), int(delivered),
        int(m.on_time_deliver is not None), int(bool(m.on_time_deliver)),
        int(m.lead_seconds is not None), m.lead_seconds or 0]
    key: DailyKey = (m.day, m.warehouse_id, m.province, m.channel, m.carrier, m.currency)
    stages: dict[StageKey, list[int]] = {}
    for status, seconds in m.stays:
        row = stages.setdefault((m.day, m.warehouse_id, status, bucket(seconds)), [0, 0])
        row[0] += 1
        row[1] += seconds
    return Rollup({key: counts}, stages)


def delta(old: Measures | None, new: Measures | None) -> Rollup:
    """What to add to the read model when an order's measures go from ``old`` to ``new``."""
    out = Rollup.empty()
    if old == new:
        return out
    if new is not None:
        out.add(contribution(new))
    if old is not None:
        out.add(contribution(old), -1)
    return out.pruned()


def rollup(measures: Iterable[Measures]) -> Rollup:
    """The read model from scratch: every order's contribution summed."""
    out = Rollup.empty()
    for m in measures:
        out.add(contribution(m))
    return out.pruned()


# --- reading the read model --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kpis:
    orders: int
    revenue: int
    cancelled: int
    shipped: int
    ship_promised: int
    shipped_on_time: int
    delivered: int
    deliver_promised: int
    delivered_on_time: int
    lead_n: int
    lead_seconds: int

    @classmethod
    def of(cls, counts: Sequence[int]) -> Kpis:
        return cls(*(int(c) for c in counts))

    @property
    def cancellation_rate(self) -> float | None:
        return _rate(self.cancelled, self.orders)

    @property
    def on_time_ship_rate(self) -> float | None:
        return _rate(self.shipped_on_time, self.ship_promised)

    @property
    def on_time_delivery_rate(self) -> float | None:
        return _rate(self.delivered_on_time, self.deliver_promised)

    @property
    def mean_lead_hours(self) -> float | None:
        return None if not self.lead_n else round(self.lead_seconds / self.lead_n / 3600, 2)

    def as_dict(self) -> dict[str, int | float | None]:
        out: dict[str, int | float | None] = {f: getattr(self, f) for f in DAILY_FIELDS}
        out.update(cancellation_rate=self.cancellation_rate,
                   on_time_ship_rate=self.on_time_ship_rate,
                   on_time_delivery_rate=self.on_time_delivery_rate,
                   mean_lead_hours=self.mean_lead_hours)
        return out


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def kpis(rows: Iterable[Sequence[int]]) -> Kpis:
    """The KPIs of a set of daily rows (each the counts in ``DAILY_FIELDS`` order)."""
    total = [0] * len(DAILY_FIELDS)
    for row in rows:
        for i, v in enumerate(row):
            total[i] += int(v)
    return Kpis.of(total)


@dataclass(frozen=True, slots=True)
class StageFigures:
    status: str
    count: int
    mean_seconds: int
    p50_le_seconds: int | None  # the upper edge of the bucket the median falls in
    p90_le_seconds: int | None  # None: beyond the last edge (more than 14 days)


def stage_summary(rows: Iterable[tuple[str, int, int, int]]) -> list[StageFigures]:
    """Per status: count, mean and bucketed p50/p90 from (status, bucket, count, seconds)."""
    by_status: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for status, b, n, seconds in rows:
        cell = by_status[status].setdefault(int(b), [0, 0])
        cell[0] += int(n)
        cell[1] += int(seconds)
    out = []
    for status in (s.value for s in WAITING):
        buckets = by_status.get(status)
        if not buckets:
            continue
        n = sum(c[0] for c in buckets.values())
        if n <= 0:
            continue
        seconds = sum(c[1] for c in buckets.values())
        out.append(StageFigures(status, n, seconds // n, _quantile(buckets, n, 0.5),
                                _quantile(buckets, n, 0.9)))
    return out


def _quantile(buckets: Mapping[int, list[int]], n: int, q: float) -> int | None:
    need = q * n
    seen = 0
    for b in sorted(buckets):
        seen += buckets[b][0]
        if seen >= need:
            return bucket_label(b)
    return None


# --- where orders wait now: the cohort Gantt ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    status: str
    start: datetime
    end: datetime
    open: bool  # the order is still in this status (the bar runs to now)


def gantt_bars(events: Sequence[Event], now: datetime) -> list[Bar]:
    """An order's stays as bars for a Gantt chart; the current stay runs to ``now``; a
    terminal status is a point, not a bar."""
    bars = []
    for s in stays(events):
        if s.status in (Status.COMPLETED, Status.CANCELLED):
            continue
        end = s.end or max(now, s.start)
        bars.append(Bar(s.status.value, s.start, end, s.end is None))
    return bars


# --- the date range every analytics read takes -----------------------------------------

MAX_RANGE_DAYS = 731  # two years of days: the dashboard's longest view
# Days an order can have been placed on (and no date arithmetic near year 1 or 9999).
EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)


def day_range(start: date | None, end: date | None, today: date,
              default_days: int = 30) -> tuple[date, date]:
    """The inclusive range asked for, defaulting to the last ``default_days`` days; raises
    ``ValidationFailed`` for a range that runs backwards or is longer than two years."""
    errors = ErrorCollector()
    for name, day in (("start", start), ("end", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            errors.add(name, "out_of_range", f"between {EARLIEST} and {LATEST}")
    errors.raise_if_any()
    end = end or today
    start = start or end - timedelta(days=default_days - 1)
    if start > end:
        errors.add("start", "range_backwards", "the range starts after it ends")
    elif (end - start).days + 1 > MAX_RANGE_DAYS:
        errors.add("end", "range_too_long", f"at most {MAX_RANGE_DAYS} days at a time")
    errors.raise_if_any()
    return start, end
