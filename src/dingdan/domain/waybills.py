"""Waybill numbers from a range a carrier issued (面单号段), with the check digit the carrier
defines. Pure.

- ``s10``: the UPU S10 standard of postal items (EMS, China Post, international posts):
  two letters, eight serial digits, a check digit, the country — ``EE123456785CN``. The
  check digit weighs the serial digits 8 6 4 2 3 5 9 7; 11 − (sum mod 11), where 10 → 0
  and 11 → 5.
- ``luhn``: the mod-10 Luhn digit, for carriers whose ranges use it.
- ``none``: the carrier's numbers carry no check digit we can verify (SF's 12–15 digit
  numbers, most express carriers'): taken as issued.
"""

from __future__ import annotations

from enum import StrEnum


class CheckDigit(StrEnum):
    NONE = "none"
    S10 = "s10"
    LUHN = "luhn"


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
MAX_RANGE = 100_000  # numbers made in one go


def s10_check_digit(serial: str) -> int:
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial is eight digits")
    check = 11 - sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def luhn_check_digit(digits: str) -> int:
    if not digits.isdigit():
        raise ValueError("Luhn needs digits")
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def number_for(scheme: CheckDigit, serial: int, *, prefix: str = "", suffix: str = "",
               width: int = 8) -> str:
    """The waybill number of one serial of a range."""
    body = f"{serial:0{width}d}"
    if len(body) > width:
        raise ValueError(f"serial {serial} is wider than {width} digits")
    if scheme is CheckDigit.S10:
        return f"{prefix}{body}{s10_check_digit(body)}{suffix}"
    if scheme is CheckDigit.LUHN:
        return f"{prefix}{body}{luhn_check_digit(body)}{suffix}"
    return f"{prefix}{body}{suffix}"


def is_valid(scheme: CheckDigit, number: str) -> bool:
    """Whether a number's check digit is right (always, for ``none``)."""
    if scheme is CheckDigit.S10:
        if len(number) != 13 or not (number[:2].isalpha() and number[11:].isalpha()):
            return False
        serial, check = number[2:10], number[10]
        return serial.isdigit() and check.isdigit() and s10_check_digit(serial) == int(check)
    if scheme is CheckDigit.LUHN:
        digits = "".join(c for c in number if c.isdigit())
        return len(digits) >= 2 and luhn_check_digit(digits[:-1]) == int(digits[-1])
    return bool(number)


def number_range(scheme: CheckDigit, first: int, count: int, *, prefix: str = "",
                 suffix: str = "", width: int = 8) -> list[str]:
    """``count`` numbers from serial ``first``: a range as the carrier issued it."""
    if not 1 <= count <= MAX_RANGE:
        raise ValueError(f"between 1 and {MAX_RANGE} numbers at a time")
    return [number_for(scheme, first + i, prefix=prefix, suffix=suffix, width=width)
            for i in range(count)]
