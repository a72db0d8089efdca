"""The tracking taxonomy: every provider status normalised, written out here by hand from the
providers' documents; what an event does to the order, forward only; the alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dingdan.domain import lifecycle, tracking
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.tracking import AlertKind, Normalised, Provider, TrackingStatus

T = TrackingStatus

# 快递100 state / 高级状态 (resultv2=4), as its document lists them.
KUAIDI100_EXPECTED = {
    "0": T.IN_TRANSIT, "1": T.PICKED_UP, "2": T.EXCEPTION, "3": T.DELIVERED, "4": T.RETURNED,
    "5": T.OUT_FOR_DELIVERY, "6": T.RETURNING_TO_SENDER, "7": T.IN_TRANSIT, "8": T.IN_TRANSIT,
    "14": T.RETURNED, "101": T.LABEL_CREATED, "102": T.LABEL_CREATED, "103": T.PICKED_UP,
    "1001": T.ARRIVED_AT_CITY, "1002": T.IN_TRANSIT, "1003": T.IN_TRANSIT,
    "501": T.OUT_FOR_DELIVERY, "301": T.DELIVERED, "302": T.DELIVERED, "303": T.DELIVERED,
    "304": T.DELIVERED, "401": T.RETURNED, "201": T.DELAYED, "202": T.DELAYED,
    "203": T.RETURNING_TO_SENDER, "204": T.DELIVERY_ATTEMPTED, "205": T.DELAYED,
    "206": T.DELIVERY_ATTEMPTED, "207": T.EXCEPTION, "208": T.DELAYED, "209": T.EXCEPTION,
    "10": T.IN_TRANSIT, "11": T.IN_TRANSIT, "12": T.IN_TRANSIT, "13": T.EXCEPTION,
}
SF_EXPECTED = {
    "50": T.PICKED_UP, "54": T.PICKED_UP, "43": T.PICKED_UP, "30": T.IN_TRANSIT,
    "36": T.IN_TRANSIT, "3036": T.IN_TRANSIT, "31": T.ARRIVED_AT_CITY,
    "105": T.ARRIVED_AT_CITY, "44": T.OUT_FOR_DELIVERY, "204": T.OUT_FOR_DELIVERY,
    "130": T.OUT_FOR_DELIVERY, "70": T.DELIVERY_ATTEMPTED, "33": T.DELAYED,
    "80": T.DELIVERED, "8000": T.DELIVERED, "99": T.RETURNING_TO_SENDER,
    "648": T.RETURNING_TO_SENDER, "649": T.RETURNED,
}


@pytest.mark.parametrize(("provider", "expected"), [
    (Provider.KUAIDI100, KUAIDI100_EXPECTED), (Provider.SF_EXPRESS, SF_EXPECTED)])
def test_every_provider_status_is_normalised_as_written_here(
        provider: Provider, expected: dict[str, TrackingStatus]) -> None:
    assert dict(tracking.TABLES[provider]) == expected
    for code, status in expected.items():
        assert tracking.normalise(provider, code) == Normalised(status, True)


@pytest.mark.parametrize("provider", list(Provider))
def test_a_status_never_seen_is_an_exception_flagged_unknown(provider: Provider) -> None:
    n = tracking.normalise(provider, "424242")
    assert n == Normalised(T.EXCEPTION, False)
    assert tracking.alert_for(n) is AlertKind.UNKNOWN_STATUS


def test_every_status_has_labels_in_both_languages() -> None:
    for status in TrackingStatus:
        assert tracking.label(status, "zh-CN") and tracking.label(status, "en")


@pytest.mark.parametrize(("order", "event", "action"), [
    (Status.SHIPPED, T.PICKED_UP, Action.IN_TRANSIT),
    (Status.SHIPPED, T.ARRIVED_AT_CITY, Action.IN_TRANSIT),
    (Status.SHIPPED, T.OUT_FOR_DELIVERY, Action.OUT_FOR_DELIVERY),
    (Status.SHIPPED, T.DELIVERED, Action.DELIVER),
    (Status.IN_TRANSIT, T.IN_TRANSIT, None),
    (Status.IN_TRANSIT, T.OUT_FOR_DELIVERY, Action.OUT_FOR_DELIVERY),
    (Status.IN_TRANSIT, T.DELIVERED, Action.DELIVER),
    (Status.OUT_FOR_DELIVERY, T.IN_TRANSIT, None),  # late: never back
    (Status.OUT_FOR_DELIVERY, T.DELIVERED, Action.DELIVER),
    (Status.DELIVERED, T.OUT_FOR_DELIVERY, None),
    (Status.COMPLETED, T.DELIVERED, None),
    (Status.PACKED, T.PICKED_UP, None),  # not shipped yet: a scan does not ship it
    (Status.CANCELLED, T.DELIVERED, None),
    (Status.SHIPPED, T.DELIVERY_ATTEMPTED, None),
    (Status.SHIPPED, T.EXCEPTION, None),
    (Status.SHIPPED, T.LABEL_CREATED, None),
])
def test_an_event_moves_the_order_only_forward(order: Status, event: TrackingStatus,
                                               action: Action | None) -> None:
    assert tracking.order_action(order, event) is action


def test_every_action_an_event_takes_is_a_row_of_the_order_table() -> None:
    for status in Status:
        for event in TrackingStatus:
            action = tracking.order_action(status, event)
            if action is not None:
                assert lifecycle.find(status, action) is not None, (status, event)


@pytest.mark.parametrize(("status", "kind"), [
    (T.DELIVERY_ATTEMPTED, AlertKind.FAILED_DELIVERY),
    (T.RETURNING_TO_SENDER, AlertKind.RETURNING), (T.RETURNED, AlertKind.RETURNING),
    (T.EXCEPTION, AlertKind.EXCEPTION), (T.DELAYED, None), (T.DELIVERED, None),
    (T.IN_TRANSIT, None)])
def test_parcels_in_trouble_raise_an_alert(status: TrackingStatus,
                                           kind: AlertKind | None) -> None:
    assert tracking.alert_for(Normalised(status, True)) is kind


def test_silence_starts_at_48_hours() -> None:
    last = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
    assert not tracking.is_silent(last, last + timedelta(hours=47, minutes=59))
    assert tracking.is_silent(last, last + timedelta(hours=48))


def test_kuaidi100_knows_carriers_by_its_own_codes() -> None:
    assert tracking.kuaidi100_company("SF", None) == "shunfeng"
    assert tracking.kuaidi100_company("zto", None) == "zhongtong"
    assert tracking.kuaidi100_company("SF", "shunfengkuaiyun") == "shunfengkuaiyun"
    assert tracking.kuaidi100_company("Acme", None) == "acme"


def test_the_label_table_passes_the_shared_check() -> None:
    from dingdan.domain.labels import LABEL, LabelAction, LabelStatus, mask_phone
    from machine_support import check_machine

    check_machine(LABEL, {(LabelStatus.ISSUED, LabelAction.VOID): LabelStatus.VOIDED},
                  facts=lambda s, a: None, initial=LabelStatus.ISSUED,
                  permissions=frozenset({"order.fulfil"}))
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_phone("021-1") == "*****"


def test_each_action_an_event_takes_leads_where_the_table_says() -> None:
    for status in Status:
        for event in TrackingStatus:
            action = tracking.order_action(status, event)
            if action is not None:
                row = lifecycle.find(status, action)
                assert row is not None and row.target is tracking.status_after(action)
