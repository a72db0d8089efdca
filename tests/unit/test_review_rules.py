"""Review rules as data: parsing refuses what cannot run, evaluation explains each decision,
and the address, phone, price and duplicate checks feed it (with the real division tree)."""

from __future__ import annotations

from typing import Any

import pytest

from dingdan.adapters.divisions import load_divisions
from dingdan.domain.blocklist import address_hit, address_key, normalise_entry
from dingdan.domain.errors import ValidationFailed
from dingdan.domain.order_checks import (
    CheckedLine,
    OrderToCheck,
    Standing,
    check_order,
    count_duplicates,
)
from dingdan.domain.review import DEFAULT_RULES, FIELDS, evaluate, parse_rules

DIVISIONS = load_divisions()


def _order(**kw: Any) -> OrderToCheck:
    base: dict[str, Any] = dict(
        total=10_000, currency="CNY", payment_method="alipay", channel="api", paid=True,
        country="CN", province="上海市", city="上海市", district="浦东新区",
        ship_phone="+8613800138000", customer_phone="+8613800138000",
        lines=(CheckedLine("A", 1, 10_000, 10_000),))
    base.update(kw)
    return OrderToCheck(**base)


def _decide(order: OrderToCheck) -> tuple[bool, list[str]]:
    facts = check_order(order, DIVISIONS).facts
    decision = evaluate(parse_rules(DEFAULT_RULES), facts)
    return decision.approved, [t.rule for t in decision.reasons]


@pytest.mark.parametrize(("province", "city", "district", "codes", "confidence"), [
    ("上海市", "上海市", "浦东新区", ("31", "3101", "310115"), 100),
    ("上海", "市辖区", "浦东新区", ("31", "3101", "310115"), 95),
    ("浙江省", "杭州市", "西湖区", ("33", "3301", "330106"), 100),
    ("浙江", "杭州", "西湖", ("33", "3301", "330106"), 85),
    ("广西壮族自治区", "南宁市", "青秀区", ("45", "4501", "450103"), 100),
    ("重庆市", "重庆市", "渝中区", ("50", "5001", "500103"), 100),
])
def test_real_addresses_get_their_gb2260_codes(province: str, city: str, district: str,
                                               codes: tuple[str, str, str],
                                               confidence: int) -> None:
    check = DIVISIONS.check(province, city, district)
    assert (check.codes["province"], check.codes["city"], check.codes["district"]) == codes
    assert check.confidence == confidence and not check.findings


@pytest.mark.parametrize(("province", "city", "district", "finding"), [
    ("火星省", "火星市", "奥林匹斯区", "address.unknown_province"),
    ("浙江省", "南京市", "鼓楼区", "address.city_not_in_province"),
    ("浙江省", "", "西湖区", "address.missing_city"),
    ("浙江省", "杭州市", "", "address.missing_district"),
    ("浙江省", "杭州市", "浦东新区", "address.district_not_in_city"),
    ("上海市", "杭州市", "浦东新区", "address.city_not_in_province"),
])
def test_bad_addresses_are_flagged_with_a_low_confidence(province: str, city: str,
                                                         district: str, finding: str) -> None:
    check = DIVISIONS.check(province, city, district)
    assert check.findings == (finding,)
    assert check.confidence < 80


def test_a_clean_small_paid_order_is_approved_with_a_trace_of_every_rule() -> None:
    facts = check_order(_order(), DIVISIONS).facts
    decision = evaluate(parse_rules(DEFAULT_RULES), facts)
    assert decision.approved
    assert [t.rule for t in decision.trace] == [r["code"] for r in DEFAULT_RULES]
    assert not any(t.held for t in decision.trace)
    assert decision.summary() == "approved by the rules"


@pytest.mark.parametrize(("order", "rule"), [
    (_order(standing=Standing(blocked=True)), "blocked_customer"),
    (_order(blocklisted=frozenset({"address"})), "blocklisted_contact"),
    (_order(total=250_000), "large_order_untrusted"),
    (_order(total=2_500_000, standing=Standing(tier="vip")), "very_large_order"),
    (_order(paid=False, payment_method="bank_transfer",
            standing=Standing(orders=2, open_exposure=95_000, credit_limit=100_000)),
     "credit_limit"),
    (_order(province="火星省"), "address_unclear"),
    (_order(lines=(CheckedLine("A", 1, 5_000, 10_000),)), "price_off_catalogue"),
    (_order(duplicates=1), "possible_duplicate"),
    (_order(paid=False, payment_method="cod", total=60_000), "first_order_cod"),
])
def test_each_default_rule_holds_the_order_it_is_for(order: OrderToCheck, rule: str) -> None:
    approved, reasons = _decide(order)
    assert not approved
    assert reasons == [rule]


def test_trust_lets_a_large_order_through() -> None:
    assert _decide(_order(total=250_000, standing=Standing(tier="vip")))[0]
    assert _decide(_order(total=250_000, standing=Standing(orders=3, paid_orders=3)))[0]


def test_the_trace_says_why_with_the_orders_values() -> None:
    facts = check_order(_order(total=250_000), DIVISIONS).facts
    decision = evaluate(parse_rules(DEFAULT_RULES), facts)
    held = decision.reasons[0]
    assert held.detail == ("order.total 250000 > 200000 and customer.tier standard not in "
                           "vip,trusted and customer.paid_orders 0 < 3")
    assert decision.summary().startswith("held: large_order_untrusted (order.total 250000")


def test_a_rule_failing_at_run_time_holds_the_order_never_approves() -> None:
    rules = parse_rules([{"code": "big", "reason_type": "other", "when": ["order.total > 5"]}])
    decision = evaluate(rules, {"order.total": None})
    assert not decision.approved
    assert decision.trace[0].error and decision.trace[0].reason_type == "rule_error"
    assert not evaluate(rules, {}).approved  # a fact missing altogether


def test_a_disabled_rule_does_not_run() -> None:
    rules = parse_rules([{"code": "big", "reason_type": "other", "when": ["order.total > 5"],
                          "enabled": False}])
    assert evaluate(rules, {"order.total": 10}).approved


@pytest.mark.parametrize(("rule", "loc", "code"), [
    ({"code": "x", "reason_type": "other", "when": ["order.weight > 5"]}, "rules.0.when.0",
     "unknown_field"),
    ({"code": "x", "reason_type": "other", "when": ["order.total >> 5"]}, "rules.0.when.0",
     "bad_value"),
    ({"code": "x", "reason_type": "other", "when": ["total is big"]}, "rules.0.when.0",
     "unparsable"),
    ({"code": "x", "reason_type": "other", "when": ["order.total > lots"]}, "rules.0.when.0",
     "bad_value"),
    ({"code": "x", "reason_type": "other", "when": ["customer.blocked > true"]},
     "rules.0.when.0", "bad_operator"),
    ({"code": "x", "reason_type": "other", "when": ["customer.blocked == maybe"]},
     "rules.0.when.0", "bad_value"),
    ({"code": "x", "reason_type": "weather", "when": ["order.total > 5"]}, "rules.0.reason_type",
     "out_of_range"),
    ({"code": "X Y", "reason_type": "other", "when": ["order.total > 5"]}, "rules.0.code",
     "invalid_code"),
    ({"code": "x", "reason_type": "other", "when": []}, "rules.0.when", "required"),
])
def test_a_rule_that_cannot_run_is_refused_naming_its_part(rule: dict[str, Any], loc: str,
                                                           code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_rules([rule])
    assert [(d.loc, d.code) for d in err.value.details] == [(loc, code)]


def test_two_rules_with_one_code_are_refused() -> None:
    rule = {"code": "x", "reason_type": "other", "when": ["order.total > 5"]}
    with pytest.raises(ValidationFailed) as err:
        parse_rules([rule, rule])
    assert [(d.loc, d.code) for d in err.value.details] == [("rules.1.code", "duplicate")]


def test_rules_round_trip_through_their_data() -> None:
    rules = parse_rules(DEFAULT_RULES)
    assert parse_rules([r.as_data() for r in rules]) == rules


def test_every_fact_the_checks_measure_is_a_field_rules_may_name() -> None:
    assert set(check_order(_order(), DIVISIONS).facts) - {"order.currency"} <= set(FIELDS)
    assert set(FIELDS) <= set(check_order(_order(), DIVISIONS).facts)


def test_landline_recipient_is_a_finding_not_a_hold() -> None:
    checked = check_order(_order(ship_phone="+862155551234"), DIVISIONS)
    assert "phone.not_mobile" in checked.findings and checked.facts["phone.mobile"] is False
    assert evaluate(parse_rules(DEFAULT_RULES), checked.facts).approved


def test_duplicates_count_orders_with_the_same_lines() -> None:
    recent = {"DD1": [("A", 1), ("B", 2)], "DD2": [("A", 1)], "DD3": [("B", 2), ("A", 1)]}
    assert count_duplicates([("A", 1), ("B", 2)], recent) == 2


@pytest.mark.parametrize(("kind", "value", "stored"), [
    ("phone", "138 0013 8000", "+8613800138000"),
    ("email", " Zhang.Wei@Example.COM ", "zhang.wei@example.com"),
    ("address", "浦东新区 世纪大道 100 号", "浦东新区世纪大道100号"),
])
def test_blocklist_entries_are_stored_as_orders_are_matched(kind: str, value: str,
                                                           stored: str) -> None:
    assert normalise_entry(kind, value) == stored


@pytest.mark.parametrize(("kind", "value", "loc", "code"), [
    ("ip", "10.0.0.1", "kind", "out_of_range"),
    ("phone", "not a phone", "value", "invalid_phone"),
    ("email", "nobody", "value", "invalid_email"),
    ("address", "浦东", "value", "too_short"),
])
def test_a_blocklist_entry_that_is_not_what_it_says_is_refused(kind: str, value: str,
                                                              loc: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        normalise_entry(kind, value)
    assert [(d.loc, d.code) for d in err.value.details] == [(loc, code)]


def test_an_address_entry_matches_every_spelling_of_the_province() -> None:
    entry = normalise_entry("address", "浦东新区世纪大道100号")
    assert address_hit(address_key("上海", "上海市", "浦东新区", "世纪大道 100 号"), [entry])
    assert not address_hit(address_key("上海", "上海市", "浦东新区", "世纪大道 200 号"), [entry])
