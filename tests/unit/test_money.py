"""Money: minor units per currency come from CLDR (through Babel) and match ISO 4217 for every
currency Dingdan accepts."""

from __future__ import annotations

import pytest

from dingdan.domain.money import CURRENCIES, MINOR_UNITS, Money, is_known_currency

# ISO 4217's minor units for the accepted currencies, written out independently of Babel:
# the table this module held before it asked Babel.
ISO_4217 = {"CNY": 2, "HKD": 2, "TWD": 2, "USD": 2, "EUR": 2, "GBP": 2, "SGD": 2, "AUD": 2,
            "CAD": 2, "MYR": 2, "THB": 2, "KRW": 0, "JPY": 0, "VND": 0}


def test_minor_units_are_iso_4217_s_for_every_accepted_currency() -> None:
    assert MINOR_UNITS == ISO_4217


def test_only_the_listed_currencies_are_accepted() -> None:
    assert set(CURRENCIES) == set(ISO_4217)
    assert is_known_currency("CNY") and is_known_currency("JPY")
    assert not is_known_currency("XXX") and not is_known_currency("cny")


@pytest.mark.parametrize(("money", "text"), [
    (Money(1250, "CNY"), "CNY 12.50"), (Money(-5, "USD"), "USD -0.05"),
    (Money(1250, "JPY"), "JPY 1250"), (Money(100000, "KRW"), "KRW 100000")])
def test_format_writes_the_currency_s_decimals(money: Money, text: str) -> None:
    assert money.format() == text
