"""Masking of personal data for people whose role does not need it (no ``pii.read``).

Pure string rules, so the API and the pages mask the same way:
``+8613800138000`` → ``138****8000``, ``zhang.wei@example.com`` → ``z***@example.com``,
a street → ``***``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HIDDEN = "***"

# Order fields that hold personal data, by how they are masked.
PHONE_FIELDS = ("customer_phone", "ship_phone")
EMAIL_FIELDS = ("customer_email",)
HIDDEN_FIELDS = ("ship_street",)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.removeprefix("+86") if phone.startswith("+86") else phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(email: str | None) -> str | None:
    if not email:
        return email
    local, at, domain = email.partition("@")
    if not at:
        return HIDDEN
    return f"{local[:1]}***@{domain}"


def mask_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` with its personal fields masked (fields it lacks are left out)."""
    out = dict(row)
    for k in PHONE_FIELDS:
        if k in out:
            out[k] = mask_phone(out[k])
    for k in EMAIL_FIELDS:
        if k in out:
            out[k] = mask_email(out[k])
    for k in HIDDEN_FIELDS:
        if out.get(k):
            out[k] = HIDDEN
    return out


def mask_customer(customer: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an outbox payload's ``order.customer`` with phone and email masked."""
    out = dict(customer)
    if "phone" in out:
        out["phone"] = mask_phone(out["phone"])
    if "email" in out:
        out["email"] = mask_email(out["email"])
    return out


def mask_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An outbox payload (or a preview's sample) as a person without ``pii.read`` may see it:
    the order's customer masked, and the before/after of a change masked like the order."""
    out = dict(payload)
    order = out.get("order")
    if isinstance(order, Mapping):
        order = dict(order)
        if isinstance(order.get("customer"), Mapping):
            order["customer"] = mask_customer(order["customer"])
        out["order"] = mask_fields(order)
    data = out.get("data")
    if isinstance(data, Mapping):
        out["data"] = {k: mask_fields(dict(v)) if k in ("before", "after")
                       and isinstance(v, Mapping) else v for k, v in data.items()}
    return out


# -- Erasure on request (PIPL art. 47): a customer's orders keep their facts (lines, amounts,
# statuses, times, the province, city and district, for the books and the statistics) and
# lose the person: name, company, phone, email, recipient, street and postcode.

ANONYMISED = "[已匿名 anonymised]"

# Order columns that name or reach the person, and what each becomes.
ERASED_COLUMNS: dict[str, str | None] = {
    "customer_name": ANONYMISED, "customer_company": None, "customer_phone": None,
    "customer_email": None, "ship_recipient": ANONYMISED, "ship_phone": ANONYMISED,
    "ship_street": ANONYMISED, "ship_postcode": None,
}
# Keys that hold personal data wherever they appear in an event, payload or message.
_PERSONAL_KEYS = frozenset({*ERASED_COLUMNS, "phone", "email", "recipient", "street",
                            "postcode", "company", "contact", "customer_key"})
# Inside these objects everything is the person's except where the parcel goes by region.
_PERSON_OBJECTS = frozenset({"customer", "shipping_address", "address", "contact"})
_PLACE_KEYS = frozenset({"country", "province", "city", "district"})


def personal_values(row: Mapping[str, Any]) -> set[str]:
    """The personal strings of an order row, to be found and erased wherever they were
    copied (free text included). Very short values are left: they would match anything."""
    values = {str(v) for k in ERASED_COLUMNS if (v := row.get(k)) and len(str(v)) >= 3}
    # A phone is stored in E.164 (+8613800138000) and typed by people without the +86.
    return values | {v.removeprefix("+86") for v in values if v.startswith("+86")}


def scrub(value: Any, personal: set[str], within: str | None = None) -> Any:
    """``value`` (JSON-like) with personal data erased: by key, and any of ``personal``
    found inside a string. Order facts (SKUs, names of products, amounts) stay."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            personal_key = k in _PERSONAL_KEYS or (within in _PERSON_OBJECTS
                                                   and k not in _PLACE_KEYS)
            if personal_key and v is not None and not isinstance(v, Mapping | list):
                out[k] = ANONYMISED
            else:
                out[k] = scrub(v, personal, k)
        return out
    if isinstance(value, list):
        return [scrub(v, personal, within) for v in value]
    if isinstance(value, str):
        for secret in sorted(personal, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, ANONYMISED)
        return value
    return value
def mask_name(name: str | None) -> str | None:
    """``张伟`` → ``张*``, ``Wei Zhang`` → ``W*** Z***``: enough to recognise, not to learn."""
    if not name:
        return name
    parts = name.split()
    if len(parts) > 1:
        return " ".join(f"{p[:1]}***" for p in parts)
    return name[:1] + "*" * max(1, min(len(name) - 1, 3))
