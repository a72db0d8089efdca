"""Blocklist entries: phones, emails and addresses that hold an order for review, whoever
places it. Pure: entries are normalised here so an order's contact matches however it was
typed (E.164 phones, lower-case emails, addresses without spaces).

An address entry matches an order whose address (province, city, district and street run
together) contains it, so "浦东新区世纪大道100号" catches every spelling of the province.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dingdan.domain.errors import ErrorCollector
from dingdan.domain.orders import normalize_phone

KINDS = ("phone", "email", "address")
MIN_ADDRESS = 6  # characters: shorter would catch whole districts
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_SPACE = re.compile(r"\s+")


def address_key(*parts: str) -> str:
    return _SPACE.sub("", "".join(parts)).lower()


def normalise_entry(kind: str, value: str) -> str:
    """The entry as it is stored and matched; raises ``ValidationFailed`` naming the field."""
    errors = ErrorCollector()
    out = value.strip()
    if kind not in KINDS:
        errors.add("kind", "out_of_range", f"one of {', '.join(KINDS)}")
    elif kind == "phone":
        out = normalize_phone(out) or ""
        if not out:
            errors.add("value", "invalid_phone", "not a valid phone number")
    elif kind == "email":
        out = out.lower()
        if not _EMAIL.match(out):
            errors.add("value", "invalid_email", "not a valid email address")
    else:
        out = address_key(out)
        if len(out) < MIN_ADDRESS:
            errors.add("value", "too_short",
                       f"an address entry has at least {MIN_ADDRESS} characters")
    errors.raise_if_any()
    return out


def address_hit(key: str, entries: Iterable[str]) -> bool:
    return any(entry in key for entry in entries)
