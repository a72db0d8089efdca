"""What the back office derives without a database: the progress stages from the transition
table, the fields each action asks for, the list's filters, money and dates per locale."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from dingdan.domain import lifecycle
from dingdan.domain.lifecycle import Action, Status
from dingdan.web.ui.filters import OrderFilters
from dingdan.web.ui.stages import action_fields, main_path, progress

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)


def _event(to: str, minutes: int) -> dict[str, object]:
    return {"to_status": to, "created_at": T0.replace(minute=minutes)}


def test_the_happy_path_is_read_from_the_transition_table():
    path = main_path()
    assert path[0] is Status.PENDING_PAYMENT and path[-1] is Status.COMPLETED
    assert Status.CANCELLED not in path and Status.ON_HOLD not in path
    for source, target in itertools.pairwise(path):
        assert any(t.source is source and t.target is target for t in lifecycle.TRANSITIONS)
    assert len(path) == 12


def test_progress_marks_done_current_and_to_do_with_times():
    order = {"status": "approved", "held_from": None}
    timeline = [_event("pending_payment", 0), _event("paid", 1), _event("pending_review", 2),
                _event("approved", 3)]
    stages = progress(order, timeline)
    assert [s.state for s in stages[:5]] == ["done", "done", "done", "current", "todo"]
    assert stages[1].at == T0.replace(minute=1)
    assert stages[4].at is None


def test_progress_of_a_cash_on_delivery_order_shows_paid_as_skipped():
    order = {"status": "pending_review", "held_from": None}
    stages = progress(order, [_event("pending_payment", 0), _event("pending_review", 1)])
    assert [s.state for s in stages[:3]] == ["done", "skipped", "current"]


def test_progress_of_held_and_cancelled_orders_shows_where_they_stopped():
    held = progress({"status": "on_hold", "held_from": "pending_review"},
                    [_event("pending_payment", 0), _event("paid", 1), _event("pending_review", 2),
                     _event("on_hold", 3)])
    assert [s.state for s in held[:4]] == ["done", "done", "held", "todo"]
    cancelled = progress({"status": "cancelled", "held_from": None},
                         [_event("pending_payment", 0), _event("cancelled", 1)])
    assert [s.state for s in cancelled[:2]] == ["stopped", "todo"]
    done = progress({"status": "completed", "held_from": None},
                    [_event(s.value, i) for i, s in enumerate(main_path())])
    assert {s.state for s in done} == {"done"}


def test_each_action_asks_for_what_its_use_case_requires():
    assert action_fields(Action.PAY) == ["payment_reference"]
    assert action_fields(Action.SHIP) == ["carrier", "tracking_number"]
    assert action_fields(Action.CANCEL) == ["reason"]
    assert action_fields(Action.HOLD) == ["reason"]
    assert action_fields(Action.APPROVE) == []


def test_filters_become_one_indexed_query_and_days_become_local_midnights():
    f = OrderFilters.from_params(QueryParams(
        "q=138 0013 8000&status=paid&status=bogus&placed_from=2026-11-11&placed_to=2026-11-11"
        "&sort=-total&limit=7&warehouse=SH"))
    assert f.status == ["paid"] and f.sort == "-total" and f.limit == 50
    q = f.to_query(SHANGHAI, {"SH": 3}, {"phone": "+8613800138000"})
    assert q.phone == "+8613800138000" and q.q is None and q.name is None
    assert q.placed_from == datetime(2026, 11, 11, tzinfo=SHANGHAI)
    assert q.placed_to == datetime(2026, 11, 12, tzinfo=SHANGHAI)
    assert q.warehouse_id == 3
    by_number = OrderFilters.from_params(QueryParams("q=dd261111abcdefg&sort=drop table"))
    q = by_number.to_query(SHANGHAI, {}, {"number": "DD261111ABCDEFG"})
    assert q.number == "DD261111ABCDEFG" and q.q is None and q.sort == "-placed_at"
    unknown = OrderFilters.from_params(QueryParams("warehouse=NOPE")).to_query(SHANGHAI, {})
    assert unknown.warehouse_id == -1


def test_filters_round_trip_through_links():
    f = OrderFilters.from_params(QueryParams("status=paid&q=李娜&sort=number"))
    assert f.params()["status"] == ["paid"] and f.params()["sort"] == "number"
    assert f.sort_link("number") == "-number" and f.sort_link("total") == "-total"
    assert OrderFilters().params()["sort"] is None
