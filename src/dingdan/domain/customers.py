"""Customers as records: what they are matched on, and the rules their edits follow. Pure.

Intake matches a customer by normalised contact — an E.164 phone, then a lower-case email —
so "138 0013 8000" and "+86 13800138000" are one person. Staff merge two records that are
one customer; the orders and contacts move, nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dingdan.domain.errors import ErrorCollector
from dingdan.domain.money import MAX_AMOUNT

TIERS = ("standard", "trusted", "vip")
KINDS = ("person", "company")


def match_keys(phone: str | None, email: str | None,
               ship_phone: str | None = None) -> list[tuple[str, str]]:
    """The contacts a customer is matched on, most telling first (already normalised)."""
    keys: list[tuple[str, str]] = []
    if phone:
        keys.append(("phone", phone))
    if email:
        keys.append(("email", email.strip().lower()))
    if ship_phone and ship_phone != phone and not keys:
        keys.append(("phone", ship_phone))  # no contact of the buyer's: the recipient's
    return keys


EDITABLE = ("name", "company", "kind", "tier", "credit_limit", "blocked", "blocked_reason",
            "notes")


def check_edit(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes, checked; raises ``ValidationFailed`` naming every bad field."""
    errors = ErrorCollector()
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            errors.add(name, "unknown_field", f"{name} cannot be changed")
            continue
        out[name] = value
    if "name" in out and not str(out["name"] or "").strip():
        errors.add("name", "required", "a customer needs a name")
    if "tier" in out and out["tier"] not in TIERS:
        errors.add("tier", "out_of_range", f"one of {', '.join(TIERS)}")
    if "kind" in out and out["kind"] not in KINDS:
        errors.add("kind", "out_of_range", f"one of {', '.join(KINDS)}")
    limit = out.get("credit_limit")
    if limit is not None and not (isinstance(limit, int) and 0 <= limit <= MAX_AMOUNT):
        errors.add("credit_limit", "out_of_range",
                   f"a credit limit is 0..{MAX_AMOUNT} minor units, or null for none")
    if out.get("blocked") and not str(out.get("blocked_reason") or "").strip():
        errors.add("blocked_reason", "required", "say why the customer is blocked")
    errors.raise_if_any()
    if out.get("blocked") is False:
        out["blocked_reason"] = None
    return out
