"""Auto-review rules as data, and their evaluation with a trace. Pure.

A rule set is a list of rules; a rule holds an order when *all* its conditions hold. A
condition is one line a manager can write: ``order.total > 100000``,
``customer.tier not in vip,trusted``, ``customer.blocked == true``. The fields a condition
may name are :data:`FIELDS` (the facts ``domain.order_checks`` measures); anything else is
refused when the rule set is saved, so a rule never refers to a field that is not there.

:func:`evaluate` runs every rule over an order's facts and returns the decision with a trace
entry per rule ("held: order.total 120000 > 100000"). An order no rule holds is approved; a
rule that fails at run time holds the order with the error as its reason — never approves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dingdan.domain.errors import ErrorCollector

MAX_RULES = 50
MAX_CONDITIONS = 10
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CONDITION = re.compile(r"^\s*([a-z_]+\.[a-z_]+)\s*(>=|<=|==|!=|>|<|not in|in)\s*(.*?)\s*$")


class FieldType(StrEnum):
    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"


class ReasonType(StrEnum):
    """Why an order waits for a person (typed hold reasons)."""

    AWAITING_PAYMENT = "awaiting_payment"
    ADDRESS = "address"
    STOCK = "stock"
    FRAUD_RISK = "fraud_risk"
    CREDIT = "credit"
    CUSTOMER_REQUEST = "customer_request"
    COMPLIANCE = "compliance"
    RULE_ERROR = "rule_error"
    OTHER = "other"


REASON_LABELS: dict[ReasonType, dict[str, str]] = {
    ReasonType.AWAITING_PAYMENT: {"zh-CN": "待付款", "en": "Awaiting payment"},
    ReasonType.ADDRESS: {"zh-CN": "地址", "en": "Address"},
    ReasonType.STOCK: {"zh-CN": "库存", "en": "Stock"},
    ReasonType.FRAUD_RISK: {"zh-CN": "欺诈风险", "en": "Fraud risk"},
    ReasonType.CREDIT: {"zh-CN": "信用额度", "en": "Credit"},
    ReasonType.CUSTOMER_REQUEST: {"zh-CN": "客户要求", "en": "Customer request"},
    ReasonType.COMPLIANCE: {"zh-CN": "合规", "en": "Compliance"},
    ReasonType.RULE_ERROR: {"zh-CN": "规则错误", "en": "Rule error"},
    ReasonType.OTHER: {"zh-CN": "其他", "en": "Other"},
}

# What a condition may look at: the facts ``domain.order_checks.check_order`` measures.
FIELDS: dict[str, FieldType] = {
    "order.total": FieldType.NUMBER,  # minor units (fen)
    "order.currency": FieldType.TEXT,
    "order.payment_method": FieldType.TEXT,
    "order.channel": FieldType.TEXT,
    "order.paid": FieldType.BOOL,
    "order.line_count": FieldType.NUMBER,
    "order.max_quantity": FieldType.NUMBER,
    "order.max_price_deviation_pct": FieldType.NUMBER,
    "order.duplicates": FieldType.NUMBER,
    "address.confidence": FieldType.NUMBER,  # 0..100
    "address.checked": FieldType.BOOL,
    "phone.mobile": FieldType.BOOL,
    "customer.tier": FieldType.TEXT,
    "customer.blocked": FieldType.BOOL,
    "customer.orders": FieldType.NUMBER,
    "customer.paid_orders": FieldType.NUMBER,
    "customer.cancelled_orders": FieldType.NUMBER,
    "customer.first_order": FieldType.BOOL,
    "customer.open_exposure": FieldType.NUMBER,  # with this order, if unpaid
    "customer.credit_limit": FieldType.NUMBER,  # -1: no credit terms
    "customer.over_credit_limit": FieldType.BOOL,
    "blocklist.hit": FieldType.BOOL,  # any of the three below
    "blocklist.phone": FieldType.BOOL,  # the buyer's or the recipient's phone
    "blocklist.email": FieldType.BOOL,
    "blocklist.address": FieldType.BOOL,
    "findings.count": FieldType.NUMBER,
}

_OPS: dict[FieldType, frozenset[str]] = {
    FieldType.NUMBER: frozenset({">", ">=", "<", "<=", "==", "!="}),
    FieldType.BOOL: frozenset({"==", "!="}),
    FieldType.TEXT: frozenset({"==", "!=", "in", "not in"}),
}


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: int | bool | str | tuple[str, ...]

    @property
    def text(self) -> str:
        v = self.value
        shown = ",".join(v) if isinstance(v, tuple) else str(v).lower() \
            if isinstance(v, bool) else str(v)
        return f"{self.field} {self.op} {shown}"

    def holds(self, facts: Mapping[str, Any]) -> bool:
        actual = facts[self.field]  # KeyError: a fact missing at run time (a rule error)
        v = self.value
        if self.op == "in" or self.op == "not in":
            assert isinstance(v, tuple)
            return (str(actual) in v) == (self.op == "in")
        if FIELDS[self.field] is FieldType.NUMBER and not isinstance(actual, int):
            raise TypeError(f"{self.field} is {actual!r}, not a number")
        match self.op:
            case "==":
                return bool(actual == v)
            case "!=":
                return bool(actual != v)
            case ">":
                return bool(actual > v)
            case ">=":
                return bool(actual >= v)
            case "<":
                return bool(actual < v)
            case _:
                return bool(actual <= v)


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    reason_type: ReasonType
    conditions: tuple[Condition, ...]
    message: str = ""  # the reviewer's hint, as the manager wrote it
    enabled: bool = True

    def as_data(self) -> dict[str, Any]:
        return {"code": self.code, "reason_type": self.reason_type.value,
                "when": [c.text for c in self.conditions], "message": self.message,
                "enabled": self.enabled}


def parse_condition(text: str, loc: str, errors: ErrorCollector) -> Condition | None:
    m = _CONDITION.match(text)
    if m is None:
        errors.add(loc, "unparsable", f"write a condition as 'field op value', not {text!r}")
        return None
    name, op, raw = m.groups()
    kind = FIELDS.get(name)
    if kind is None:
        errors.add(loc, "unknown_field", f"no field {name}; one of {', '.join(FIELDS)}")
        return None
    if op not in _OPS[kind]:
        errors.add(loc, "bad_operator", f"{name} is a {kind.value}: use {sorted(_OPS[kind])}")
        return None
    value: int | bool | str | tuple[str, ...]
    if kind is FieldType.NUMBER:
        if not re.fullmatch(r"-?\d{1,15}", raw):
            errors.add(loc, "bad_value", f"{name} compares with a whole number, not {raw!r}")
            return None
        value = int(raw)
    elif kind is FieldType.BOOL:
        if raw.lower() not in ("true", "false"):
            errors.add(loc, "bad_value", f"{name} compares with true or false")
            return None
        value = raw.lower() == "true"
    elif op in ("in", "not in"):
        items = tuple(x.strip() for x in raw.split(",") if x.strip())
        if not items:
            errors.add(loc, "bad_value", "list the values, separated by commas")
            return None
        value = items
    else:
        if not raw or len(raw) > 64:
            errors.add(loc, "bad_value", "compare with a value of 1-64 characters")
            return None
        value = raw
    return Condition(name, op, value)


def parse_rules(items: Sequence[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """Rules from their data (as the API and the editor send them); every bad part named.

    Raises ``ValidationFailed`` with one detail per problem (``rules.2.when.0`` …).
    """
    errors = ErrorCollector()
    if len(items) > MAX_RULES:
        errors.add("rules", "too_many", f"at most {MAX_RULES} rules")
        errors.raise_if_any()
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        loc = f"rules.{i}"
        code = str(item.get("code") or "")
        if not _CODE.match(code):
            errors.add(f"{loc}.code", "invalid_code",
                       "a code is 1-40 lower-case letters, digits and _")
        elif code in seen:
            errors.add(f"{loc}.code", "duplicate", f"two rules are called {code}")
        seen.add(code)
        reason = str(item.get("reason_type") or "")
        if reason not in ReasonType.__members__.values():
            errors.add(f"{loc}.reason_type", "out_of_range",
                       f"one of {', '.join(r.value for r in ReasonType)}")
        when = item.get("when") or []
        if not when:
            errors.add(f"{loc}.when", "required", "a rule needs at least one condition")
        elif len(when) > MAX_CONDITIONS:
            errors.add(f"{loc}.when", "too_many", f"at most {MAX_CONDITIONS} conditions")
            when = []
        conditions = [parse_condition(str(text), f"{loc}.when.{j}", errors)
                      for j, text in enumerate(when)]
        message = str(item.get("message") or "")[:200]
        if all(c is not None for c in conditions) and reason in ReasonType.__members__.values():
            rules.append(Rule(code, ReasonType(reason),
                              tuple(c for c in conditions if c is not None), message,
                              bool(item.get("enabled", True))))
    errors.raise_if_any()
    return tuple(rules)


@dataclass(frozen=True, slots=True)
class TraceEntry:
    rule: str
    held: bool
    reason_type: str
    detail: str  # the conditions with the order's values, or the error
    error: bool = False

    def as_data(self) -> dict[str, Any]:
        return {"rule": self.rule, "held": self.held, "reason_type": self.reason_type,
                "detail": self.detail, "error": self.error}


@dataclass(frozen=True, slots=True)
class Decision:
    approved: bool
    trace: tuple[TraceEntry, ...]

    @property
    def reasons(self) -> list[TraceEntry]:
        return [t for t in self.trace if t.held]

    def summary(self) -> str:
        """One line for the timeline and the queue: "held: order.total 120000 > 100000"."""
        if self.approved:
            return "approved by the rules"
        return "held: " + "; ".join(f"{t.rule} ({t.detail})" for t in self.reasons)


def evaluate(rules: Sequence[Rule], facts: Mapping[str, Any]) -> Decision:
    """Run every enabled rule; the order is approved if none holds it."""
    trace: list[TraceEntry] = []
    for rule in rules:
        if not rule.enabled:
            continue
        try:
            held = all(c.holds(facts) for c in rule.conditions)
        except (KeyError, TypeError, AssertionError) as exc:
            trace.append(TraceEntry(rule.code, True, ReasonType.RULE_ERROR.value,
                                    f"rule failed: {exc!r}", error=True))
            continue
        detail = " and ".join(f"{c.field} {_shown(facts.get(c.field))} {c.op} "
                              f"{_shown(c.value)}" for c in rule.conditions)
        trace.append(TraceEntry(rule.code, held, rule.reason_type.value, detail))
    return Decision(not any(t.held for t in trace), tuple(trace))


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


# The rule set Dingdan ships (a manager edits it in the back office or through the API):
# a small paid order to a valid address from a customer on no blocklist goes through.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"code": "blocked_customer", "reason_type": "fraud_risk",
     "when": ["customer.blocked == true"], "message": "customer is on the blocklist"},
    {"code": "blocklisted_contact", "reason_type": "fraud_risk",
     "when": ["blocklist.hit == true"],
     "message": "a phone, email or address on the blocklist"},
    {"code": "large_order_untrusted", "reason_type": "fraud_risk",
     "when": ["order.total > 200000", "customer.tier not in vip,trusted",
              "customer.paid_orders < 3"],
     "message": "over ¥2,000 from a customer without a paid history"},
    {"code": "very_large_order", "reason_type": "other", "when": ["order.total > 2000000"],
     "message": "over ¥20,000: a person looks at it"},
    {"code": "credit_limit", "reason_type": "credit",
     "when": ["customer.over_credit_limit == true"],
     "message": "open exposure passes the credit limit"},
    {"code": "address_unclear", "reason_type": "address", "when": ["address.confidence < 80"],
     "message": "the address does not match the divisions"},
    {"code": "price_off_catalogue", "reason_type": "fraud_risk",
     "when": ["order.max_price_deviation_pct > 20"],
     "message": "a price is more than 20% away from the catalogue"},
    {"code": "possible_duplicate", "reason_type": "other", "when": ["order.duplicates > 0"],
     "message": "same customer, same lines within 24 hours"},
    {"code": "first_order_cod", "reason_type": "fraud_risk",
     "when": ["customer.first_order == true", "order.payment_method == cod",
              "order.total > 50000"],
     "message": "a first cash-on-delivery order over ¥500"},
)
