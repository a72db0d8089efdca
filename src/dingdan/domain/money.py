"""Money as integer minor units plus an ISO 4217 currency code. No floats, no Decimal."""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import get_currency_precision

# The currencies merchants here sell in (ISO 4217): a business choice, so listed here.
CURRENCIES: tuple[str, ...] = ("CNY", "HKD", "TWD", "USD", "EUR", "GBP", "SGD", "AUD", "CAD",
                               "MYR", "THB", "KRW", "JPY", "VND")
# How many minor units each has (CNY 2: fen; JPY 0) is a fact of the currency, kept by
# Unicode CLDR; Babel carries it, so no table of ours can drift from the standard.
MINOR_UNITS: dict[str, int] = {code: get_currency_precision(code) for code in CURRENCIES}

# The largest amount (minor units) a price, fee or order total may be: far above any real
# order, and small enough that sums of them stay within a 64-bit integer column.
MAX_AMOUNT = 10**15


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units (fen for CNY)
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, qty: int) -> Money:
        return Money(self.amount * qty, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def format(self) -> str:
        """Plain decimal text, e.g. ``CNY 12.50`` (locale formatting is the web ring's job)."""
        exp = MINOR_UNITS.get(self.currency, 2)
        if exp == 0:
            return f"{self.currency} {self.amount}"
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**exp)
        return f"{self.currency} {sign}{whole}.{frac:0{exp}d}"


def is_known_currency(code: str) -> bool:
    return code in MINOR_UNITS
