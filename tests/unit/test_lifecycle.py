"""The transition table, exhaustively: every status × action is what the design picture says."""

from __future__ import annotations

import pytest

from dingdan.domain import lifecycle
from dingdan.domain.errors import IllegalTransition
from dingdan.domain.lifecycle import (
    Action,
    FulfillmentStatus,
    OrderFacts,
    PaymentStatus,
    Status,
    StockEffect,
)

S, A = Status, Action
BEFORE_SHIPMENT = [S.PENDING_PAYMENT, S.PAID, S.PENDING_REVIEW, S.ON_HOLD, S.APPROVED,
                   S.ALLOCATED, S.PICKING, S.PACKED]

# The picture in DESIGN.md, written out independently of the table under test.
EXPECTED: dict[tuple[Status, Action], Status | str] = {
    (S.PENDING_PAYMENT, A.PAY): S.PAID,
    (S.PENDING_PAYMENT, A.SUBMIT_REVIEW): "cod only",
    (S.PENDING_PAYMENT, A.TIMEOUT): S.CANCELLED,
    (S.PAID, A.SUBMIT_REVIEW): S.PENDING_REVIEW,
    (S.PENDING_REVIEW, A.APPROVE): S.APPROVED,
    (S.PAID, A.HOLD): S.ON_HOLD,
    (S.PENDING_REVIEW, A.HOLD): S.ON_HOLD,
    (S.APPROVED, A.HOLD): S.ON_HOLD,
    (S.ALLOCATED, A.HOLD): S.ON_HOLD,
    (S.ON_HOLD, A.RELEASE): "held_from",
    **{(s, A.CANCEL): S.CANCELLED for s in BEFORE_SHIPMENT},
    (S.APPROVED, A.ALLOCATE): S.ALLOCATED,
    (S.ALLOCATED, A.PICK): S.PICKING,
    (S.PICKING, A.PACK): S.PACKED,
    (S.PACKED, A.SHIP): S.SHIPPED,
    (S.SHIPPED, A.IN_TRANSIT): S.IN_TRANSIT,
    (S.SHIPPED, A.OUT_FOR_DELIVERY): S.OUT_FOR_DELIVERY,
    (S.IN_TRANSIT, A.OUT_FOR_DELIVERY): S.OUT_FOR_DELIVERY,
    (S.SHIPPED, A.DELIVER): S.DELIVERED,
    (S.IN_TRANSIT, A.DELIVER): S.DELIVERED,
    (S.OUT_FOR_DELIVERY, A.DELIVER): S.DELIVERED,
    (S.DELIVERED, A.COMPLETE): S.COMPLETED,
}


def facts(status: Status, method: str = "alipay", held_from: Status | None = None) -> OrderFacts:
    paid = PaymentStatus.UNPAID if status is S.PENDING_PAYMENT else PaymentStatus.PAID
    return OrderFacts(status, paid, method, held_from)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_status_and_action_is_what_the_picture_says(status: Status, action: Action) -> None:
    expected = EXPECTED.get((status, action))
    held = S.APPROVED if status is S.ON_HOLD else None
    if expected is None:
        with pytest.raises(IllegalTransition) as err:
            lifecycle.apply(facts(status, held_from=held), action)
        assert err.value.params == {"action": action.value, "status": status.value}
        assert action not in lifecycle.allowed_actions(facts(status, held_from=held))
        return
    if expected == "cod only":
        with pytest.raises(IllegalTransition):
            lifecycle.apply(facts(status, "alipay"), action)
        assert lifecycle.apply(facts(status, "cod"), action).status is S.PENDING_REVIEW
        return
    outcome = lifecycle.apply(facts(status, held_from=held), action)
    assert outcome.status is (held if expected == "held_from" else expected)
    assert action in lifecycle.allowed_actions(facts(status, held_from=held))


def test_the_table_has_no_row_the_picture_lacks() -> None:
    assert {(t.source, t.action) for t in lifecycle.TRANSITIONS} == set(EXPECTED)


@pytest.mark.parametrize("held_from", [S.PAID, S.PENDING_REVIEW, S.APPROVED, S.ALLOCATED])
def test_release_returns_to_where_the_order_was_held(held_from: Status) -> None:
    held = lifecycle.apply(facts(held_from), A.HOLD)
    assert held.status is S.ON_HOLD and held.held_from is held_from
    released = lifecycle.apply(facts(S.ON_HOLD, held_from=held.held_from), A.RELEASE)
    assert released.status is held_from and released.held_from is None


def test_release_without_a_remembered_status_is_refused() -> None:
    with pytest.raises(IllegalTransition) as err:
        lifecycle.apply(facts(S.ON_HOLD, held_from=None), A.RELEASE)
    assert "held from" in err.value.params["reason"]


def test_stock_effects_release_on_cancel_and_consume_on_ship_only() -> None:
    effects = {(t.source, t.action): t.stock for t in lifecycle.TRANSITIONS}
    for key, effect in effects.items():
        if key[1] in (A.CANCEL, A.TIMEOUT):
            assert effect is StockEffect.RELEASE, key
        elif key[1] is A.SHIP:
            assert effect is StockEffect.CONSUME
        else:
            assert effect is StockEffect.NONE, key


def test_payment_and_fulfilment_facts_change_with_their_actions() -> None:
    assert lifecycle.apply(facts(S.PENDING_PAYMENT), A.PAY).payment_status is PaymentStatus.PAID
    assert lifecycle.apply(facts(S.PACKED), A.SHIP).fulfillment_status is FulfillmentStatus.SHIPPED
    delivered = lifecycle.apply(facts(S.OUT_FOR_DELIVERY), A.DELIVER)
    assert delivered.fulfillment_status is FulfillmentStatus.DELIVERED
    assert lifecycle.apply(facts(S.PAID), A.SUBMIT_REVIEW).fulfillment_status is None


@pytest.mark.parametrize("source", [S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY])
def test_delivering_a_cash_on_delivery_order_is_collecting_its_cash(source: Status) -> None:
    cod = lifecycle.OrderFacts(source, PaymentStatus.UNPAID, "cod")
    delivered = lifecycle.apply(cod, A.DELIVER)
    assert delivered.payment_status is PaymentStatus.PAID
    assert delivered.stamps == ("delivered_at", "paid_at")
    prepaid = lifecycle.apply(lifecycle.OrderFacts(source, PaymentStatus.PAID, "alipay"),
                              A.DELIVER)
    assert (prepaid.payment_status, prepaid.stamps) == (PaymentStatus.PAID, ("delivered_at",))
    # an order paid some other way before delivery keeps its payment as it was
    paid_cod = lifecycle.apply(lifecycle.OrderFacts(source, PaymentStatus.PAID, "cod"),
                               A.DELIVER)
    assert paid_cod.stamps == ("delivered_at",)


def test_only_delivery_collects_cash_on_delivery() -> None:
    assert {t.action for t in lifecycle.TRANSITIONS if t.cod_payment} == {A.DELIVER}
    for t in lifecycle.TRANSITIONS:
        if t.action is not A.DELIVER and t.payment is None and t.source in lifecycle.RESERVING:
            cod = lifecycle.OrderFacts(t.source, PaymentStatus.UNPAID, "cod", S.PAID)
            if t.allows(cod):
                assert lifecycle.apply(cod, t.action).payment_status is PaymentStatus.UNPAID


def test_terminal_statuses_allow_nothing() -> None:
    for status in lifecycle.TERMINAL:
        assert lifecycle.allowed_actions(facts(status)) == []


def test_every_status_has_both_labels_and_every_action_has_an_event() -> None:
    from dingdan.domain.events import EVENT_FOR_ACTION

    for status in Status:
        assert set(lifecycle.LABELS[status]) == {"zh-CN", "en"}
    assert lifecycle.label(S.ALLOCATED, "zh-CN") == "已锁库"
    assert set(EVENT_FOR_ACTION) == set(Action)
    assert set(lifecycle.ACTION_LABELS) == set(Action)


def test_mermaid_diagram_names_every_transition() -> None:
    text = lifecycle.mermaid()
    assert text.count("-->") == len(lifecycle.TRANSITIONS)
    assert "packed --> shipped: ship" in text
