"""Zone rates (首重/续重, volumetric weight, bands without gaps or overlaps) and rate
shopping: the cheapest service that keeps the promise. Also waybill check digits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dingdan.domain import rating, waybills
from dingdan.domain.rating import Needs, Quote, RateRow, Service
from dingdan.domain.waybills import CheckDigit
from dingdan.services.rate_sheets import province_key

NOW = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def band(lo: float, hi: float, row: int, lane: tuple[str, str] = ("广东", "上海"),
         service: str = "SF/standard", first: int = 1200, step: int = 200) -> RateRow:
    return RateRow(service, *lane, int(lo * 1000), int(hi * 1000), 1000, first, 1000, step,
                   "CNY", None, row)


def test_first_weight_and_each_step_or_part_of_one() -> None:
    r = band(0, 30, 2)
    assert [rating.price_of(r, g) for g in (1, 1000, 1001, 2000, 2001, 10_500)] == [
        1200, 1200, 1400, 1400, 1600, 1200 + 10 * 200]


def test_volumetric_weight_uses_the_carriers_divisor() -> None:
    # 40 × 30 × 20 cm / 6000 = 4 kg
    assert rating.volumetric_weight_g(400, 300, 200, 6000) == 4000
    assert rating.chargeable_weight_g(1500, (400, 300, 200), 6000) == 4000
    assert rating.chargeable_weight_g(5000, (400, 300, 200), 6000) == 5000
    assert rating.chargeable_weight_g(1500, (400, 300, 200), 12000) == 2000
    assert rating.chargeable_weight_g(1500, None, 6000) == 1500


def test_well_formed_bands_have_no_problems() -> None:
    rows = [band(0, 3, 2), band(3, 30, 3), band(0, 30, 4, lane=("广东", "北京"))]
    assert rating.check_rows(rows) == []


def test_gaps_and_overlaps_are_refused_with_the_rows_named() -> None:
    rows = [band(0, 3, 2), band(5, 10, 3), band(8, 30, 4),  # gap 3-5, overlap 8-10
            band(1, 30, 5, lane=("广东", "北京"))]  # nothing from 0
    problems = rating.check_rows(rows)
    assert [(p.row_no, p.code) for p in problems] == [(3, "gap"), (4, "overlap"), (5, "gap")]
    assert "3000-5000 g after row 2" in problems[0].message
    assert "overlaps row 3" in problems[1].message


def test_bad_values_are_named_per_row() -> None:
    bad = RateRow("SF/standard", "广东", "上海", 5000, 3000, 0, -1, 0, 100, "CNY", 99, 7)
    assert sorted(p.field for p in rating.check_rows([bad])) == [
        "first_weight", "max_weight", "price", "step_weight", "transit_days"]


def test_province_names_meet_without_their_suffix() -> None:
    assert [province_key(n) for n in ("上海市", "广东省", "广西壮族自治区", "内蒙古自治区",
                                      "香港特别行政区", "新疆维吾尔自治区", "上海")] == [
        "上海", "广东", "广西", "内蒙古", "香港", "新疆", "上海"]


SF_STD = Service(1, "SF/standard", "SF", "标快", "Standard", 2, 6000)
SF_EXP = Service(2, "SF/express", "SF", "特快", "Express", 1, 6000, cod=True)
ZTO = Service(3, "ZTO/economy", "ZTO", "经济", "Economy", 4, 8000)


def quotes(weight: int = 1500) -> list[Quote]:
    table = {SF_STD: 1200, SF_EXP: 2300, ZTO: 800}
    out = []
    for svc, first in table.items():
        q = rating.quote(svc, [band(0, 30, 2, service=svc.key, first=first)], "广东", "上海",
                         weight, None, 0, NOW)
        assert q is not None
        out.append(q)
    return out


def test_the_cheapest_service_that_keeps_the_promise_is_chosen() -> None:
    loose = rating.choose(quotes(), NOW + timedelta(days=5))
    assert loose.chosen is not None and loose.chosen.service == "ZTO/economy"
    assert loose.keeps_promise and [q.service for q in loose.alternatives] == [
        "SF/standard", "SF/express"]
    tight = rating.choose(quotes(), NOW + timedelta(days=2))
    assert tight.chosen is not None and tight.chosen.service == "SF/standard"
    tighter = rating.choose(quotes(), NOW + timedelta(days=1))
    assert tighter.chosen is not None and tighter.chosen.service == "SF/express"


def test_when_nothing_keeps_the_promise_the_fastest_is_chosen_and_said() -> None:
    c = rating.choose(quotes(), NOW + timedelta(hours=3))
    assert c.chosen is not None and c.chosen.service == "SF/express"
    assert not c.keeps_promise and "fastest" in c.reason
    assert rating.choose([], None).chosen is None


def test_surcharge_and_lane_promise_are_in_the_quote() -> None:
    row = RateRow("SF/standard", "广东", "新疆", 0, 30_000, 1000, 2000, 1000, 1500, "CNY", 5)
    q = rating.quote(SF_STD, [row], "广东", "新疆", 2500, None, 1000, NOW)
    assert q is not None
    assert (q.price, q.surcharge, q.transit_days) == (2000 + 2 * 1500 + 1000, 1000, 5)
    assert rating.quote(SF_STD, [row], "广东", "西藏", 2500, None, 0, NOW) is None


def test_services_that_cannot_meet_the_orders_needs_are_not_eligible() -> None:
    assert rating.eligible(SF_EXP, Needs(cod=True))
    assert not rating.eligible(SF_STD, Needs(cod=True))
    assert rating.eligible(SF_STD, Needs())


def test_s10_check_digit_as_the_upu_standard_gives_it() -> None:
    assert waybills.s10_check_digit("47312482") == 9  # AA473124829GB, the standard's example
    number = waybills.number_for(CheckDigit.S10, 47312482, prefix="EE", suffix="CN")
    assert number == "EE473124829CN"
    assert waybills.is_valid(CheckDigit.S10, number)
    assert not waybills.is_valid(CheckDigit.S10, "EE473124828CN")


def test_luhn_check_digit() -> None:
    assert waybills.luhn_check_digit("7992739871") == 3
    assert waybills.is_valid(CheckDigit.LUHN, "79927398713")
    assert not waybills.is_valid(CheckDigit.LUHN, "79927398714")


def test_a_range_is_made_as_issued() -> None:
    numbers = waybills.number_range(CheckDigit.S10, 1, 3, prefix="EE", suffix="CN")
    assert len(set(numbers)) == 3 and all(waybills.is_valid(CheckDigit.S10, n)
                                          for n in numbers)
    with pytest.raises(ValueError):
        waybills.number_range(CheckDigit.NONE, 1, 0)
