"""The order list's filters: read from a query string, turned into a ``ListQuery``, written
back into links (sorting, paging, export, saved views)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from dingdan.domain.lifecycle import Status
from dingdan.services.queries import SORTABLE, ListQuery

SORT_COLUMNS = ("number", "placed_at", "total", "updated_at")
PAGE_SIZES = (25, 50, 100, 200)
_KEYS = ("status", "channel", "placed_from", "placed_to", "province", "warehouse", "tag", "q",
         "sort", "limit")


@dataclass
class OrderFilters:
    status: list[str] = field(default_factory=list)
    channel: str = ""
    placed_from: str = ""  # YYYY-MM-DD, the merchant's day
    placed_to: str = ""  # inclusive
    province: str = ""
    warehouse: str = ""  # code
    tag: str = ""
    q: str = ""  # number, phone, name or SKU
    sort: str = "-placed_at"
    limit: int = 50
    cursor: str = ""

    @classmethod
    def from_params(cls, params: QueryParams) -> OrderFilters:
        def one(key: str) -> str:
            return (params.get(key) or "").strip()[:200]

        sort = one("sort") or "-placed_at"
        if sort.lstrip("-") not in SORTABLE:
            sort = "-placed_at"
        try:
            limit = int(one("limit") or 50)
        except ValueError:
            limit = 50
        return cls(
            status=[s for s in params.getlist("status") if s in Status.__members__.values()],
            channel=one("channel"), placed_from=_valid_date(one("placed_from")),
            placed_to=_valid_date(one("placed_to")), province=one("province"),
            warehouse=one("warehouse"), tag=one("tag"), q=one("q"), sort=sort,
            limit=limit if limit in PAGE_SIZES else 50, cursor=one("cursor"))

    def params(self, **overrides: Any) -> dict[str, Any]:
        """The filters as query parameters (no cursor unless given), for links."""
        out: dict[str, Any] = {k: getattr(self, k) for k in _KEYS}
        if out["sort"] == "-placed_at":
            out["sort"] = None
        if out["limit"] == 50:
            out["limit"] = None
        out.update(overrides)
        return out

    def sort_link(self, column: str) -> str:
        """The sort a column header links to: descending first, then flip."""
        return column if self.sort == f"-{column}" else f"-{column}"

    def to_query(self, tz: ZoneInfo, warehouse_ids: dict[str, int],
                 search: Mapping[str, str] | None = None) -> ListQuery:
        """``search``: what the search box's text was classified as (one indexed filter:
        number, phone, sku, name, or q for a phone's last digits)."""
        s = dict(search) if search is not None else ({"q": self.q} if self.q else {})
        wid = warehouse_ids.get(self.warehouse) if self.warehouse else None
        if self.warehouse and wid is None:
            wid = -1  # unknown warehouse: nothing matches
        return ListQuery(
            status=tuple(self.status), channel=self.channel or None,
            placed_from=_day(self.placed_from, tz), placed_to=_day(self.placed_to, tz, 1),
            province=self.province or None, tag=self.tag or None, number=s.get("number"),
            phone=s.get("phone"), sku=s.get("sku"), name=s.get("name"), q=s.get("q"),
            warehouse_id=wid, sort=self.sort, limit=self.limit, cursor=self.cursor or None)


def _valid_date(s: str) -> str:
    try:
        return date.fromisoformat(s).isoformat() if s else ""
    except ValueError:
        return ""


def _day(s: str, tz: ZoneInfo, plus_days: int = 0) -> datetime | None:
    if not s:
        return None
    return datetime.combine(date.fromisoformat(s) + timedelta(days=plus_days), time(0), tzinfo=tz)
