"""The auto-review: run the rules when an order is paid (or placed, for cash on delivery),
approve it or leave it in the review queue with its reasons; the rule set's versions; an
order's rule trace.

The rules run inside the paying (or placing) unit of work, as the ``review-rules`` system
actor, through the order's transition table (``services.orders.step``): submit for review,
then approve when no rule holds the order. Each run is stored with its trace
(``order_reviews``) and its summary is the reason on the timeline and in the queue. A
failure while gathering the facts holds the order with the error as its reason.

No rule set published, or one published disabled: paid orders wait for a person, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from dingdan.adapters.divisions import DivisionsUnavailable, load_divisions
from dingdan.domain import review as rules_mod
from dingdan.domain.blocklist import address_key
from dingdan.domain.errors import IllegalTransition, ValidationFailed, VersionConflict
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.lifecycle import Action, PaymentStatus, Status
from dingdan.domain.order_checks import (
    Checked,
    CheckedLine,
    OrderToCheck,
    Standing,
    check_order,
    count_duplicates,
)
from dingdan.domain.orders import Customer
from dingdan.domain.permissions import Permission
from dingdan.domain.review import Decision, ReasonType, TraceEntry
from dingdan.services import customers as customer_svc
from dingdan.services._access import require, visible_order
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork

log = structlog.get_logger("dingdan.review")

# Who takes the actions the rules decide (shown on the timeline as system:review-rules).
RULES_ACTOR = Actor(ActorKind.SYSTEM, "review-rules", "review-rules", "rules",
                    frozenset({"admin"}))
DUPLICATE_WINDOW = timedelta(hours=24)


async def on_intake(uow: UnitOfWork, state: OrderState, customer: Customer,
                    ship_phone: str | None) -> OrderState:
    """Link the new order to its customer; a cash-on-delivery order is reviewed at once."""
    await customer_svc.link_on_intake(uow, state.id, customer, ship_phone)
    if state.payment_method == "cod":
        return await review_if_due(uow, state)
    return state


async def review_if_due(uow: UnitOfWork, state: OrderState, *,
                        asked: bool = False) -> OrderState:
    """Run the rules over an order just paid (or placed COD), if a rule set is switched on;
    ``asked``: a person asked for it, so the rules in force run even when switched off (the
    shipped default, version 0, before any is published)."""
    if Status(state.status) not in (Status.PAID, Status.PENDING_PAYMENT):
        return state
    current = await uow.review.current_rules()
    if not asked and (current is None or not current["enabled"]):
        return state
    if current is None:
        current = {"version": 0, "rules": list(rules_mod.DEFAULT_RULES)}
    try:
        rules = rules_mod.parse_rules(current["rules"])
        checked = await _check(uow, state)
        decision = rules_mod.evaluate(rules, checked.facts)
    except (DivisionsUnavailable, ValidationFailed, ValueError, KeyError, TypeError) as exc:
        # a stored rule set that no longer parses (a field gone since), data not installed
        log.exception("review rules failed", order=state.number)
        checked = Checked({}, (), None)
        decision = Decision(False, (TraceEntry("rules", True, ReasonType.RULE_ERROR.value,
                                               f"the rules could not run: {exc}", True),))
    version = int(current["version"])
    await uow.review.record(dict(
        order_id=state.id, rule_set_version=version, approved=decision.approved,
        summary=decision.summary(), trace=[t.as_data() for t in decision.trace],
        findings=list(checked.findings), facts=checked.facts, created_at=uow.now()))
    from dingdan.services.orders import step  # orders calls this module while paying

    data = {"review": {"rule_set": version, "approved": decision.approved,
                       "reasons": [t.as_data() for t in decision.reasons]}}
    state = await step(uow, state, Action.SUBMIT_REVIEW, RULES_ACTOR,
                       f"rules v{version}: {decision.summary()}", {}, data)
    if decision.approved:
        state = await step(uow, state, Action.APPROVE, RULES_ACTOR,
                           f"approved by the rules (v{version})", {}, {})
    return state


async def _check(uow: UnitOfWork, state: OrderState) -> Checked:
    order = await uow.orders.get(state.number)
    assert order is not None
    catalogue = await uow.catalogue.items({ln["sku"] for ln in order["lines"]})
    lines = tuple(CheckedLine(ln["sku"], ln["quantity"], ln["unit_price"],
                              catalogue[ln["sku"]].price if ln["sku"] in catalogue else None,
                              ln["sku"] in catalogue and catalogue[ln["sku"]].active)
                  for ln in order["lines"])
    customer_id = await uow.customers.customer_of(state.id)
    standing, duplicates = Standing(), 0
    if customer_id is not None:
        record = await uow.customers.get(customer_id)
        assert record is not None
        h = await uow.customers.history(customer_id, before_order_id=state.id)
        standing = Standing(record["tier"], bool(record["blocked"]), h["orders"],
                            h["paid_orders"], h["cancelled_orders"], h["open_exposure"],
                            record["credit_limit"])
        recent = await uow.customers.recent_lines(customer_id,
                                                  order["placed_at"] - DUPLICATE_WINDOW,
                                                  state.id)
        duplicates = count_duplicates([(ln.sku, ln.quantity) for ln in lines], recent)
    phones = sorted({p for p in (order["ship_phone"], order["customer_phone"]) if p})
    emails = [order["customer_email"]] if order["customer_email"] else []
    blocklisted = await uow.review.blocklist_hits(phones, emails, address_key(
        order["ship_province"], order["ship_city"], order["ship_district"],
        order["ship_street"]))
    return check_order(OrderToCheck(
        total=order["total"], currency=order["currency"],
        payment_method=order["payment_method"], channel=order["channel"],
        paid=order["payment_status"] == PaymentStatus.PAID.value,
        country=order["ship_country"], province=order["ship_province"],
        city=order["ship_city"], district=order["ship_district"],
        ship_phone=order["ship_phone"], customer_phone=order["customer_phone"], lines=lines,
        duplicates=duplicates, standing=standing, blocklisted=blocklisted), load_divisions())


@dataclass(frozen=True)
class RunRules:
    number: str
    actor: Actor


async def run_rules(cmd: RunRules, uow: UnitOfWork) -> str:
    """Run the rules in force over a paid order that waits (paid before the rules were
    switched on, or while they are off); returns its new status."""
    require(cmd.actor, Permission.ORDER_REVIEW, "order", cmd.number)
    async with uow:
        state = await visible_order(uow, cmd.number, cmd.actor)
        cod_waiting = state.status == Status.PENDING_PAYMENT.value \
            and state.payment_method == "cod"
        if not (state.status == Status.PAID.value or cod_waiting):
            raise IllegalTransition({"action": "run_rules", "status": state.status,
                                     "reason": "the rules run on paid (or COD) orders"})
        after = await review_if_due(uow, state, asked=True)
        await uow.audit.record(cmd.actor, "order.run_rules", "order", cmd.number,
                               {"status": state.status}, {"status": after.status})
        await uow.commit()
        return after.status


# -- reading an order's review --------------------------------------------------------------

async def order_review(number: str, uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    """Every run of the rules over the order, newest first, with trace and findings."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        return await uow.review.runs(state.id)


async def queue_reasons(numbers: list[str], uow: UnitOfWork, *,
                        actor: Actor) -> dict[str, dict[str, Any]]:
    """The latest rule decision of each order, by number (for the review queue, whose rows
    the person may already see)."""
    require(actor, Permission.ORDER_READ, "order", None)
    async with uow:
        return await uow.review.latest_summaries(numbers)


# -- the rule set -----------------------------------------------------------------------------

async def current_rules(uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    """The rule set in force; before any is published, the default (version 0, off)."""
    require(actor, Permission.ORDER_READ, "review_rules", None)
    async with uow:
        row = await uow.review.current_rules()
        versions = await uow.review.rule_versions()
    if row is None:
        return {"version": 0, "enabled": False, "rules": list(rules_mod.DEFAULT_RULES),
                "created_by": None, "created_at": None, "versions": []}
    return {"version": row["version"], "enabled": row["enabled"], "rules": row["rules"],
            "created_by": row["created_by"], "created_at": row["created_at"],
            "versions": versions}


@dataclass(frozen=True)
class PublishRules:
    rules: list[dict[str, Any]]
    enabled: bool
    actor: Actor
    expected_version: int  # the version the editor started from (0: the shipped default)


async def publish_rules(cmd: PublishRules, uow: UnitOfWork) -> int:
    """Check and publish a new version of the rule set; returns its version. Two people
    editing from the same version: the second is refused (409) and changes nothing."""
    require(cmd.actor, Permission.SETTINGS_WRITE, "review_rules", None)
    parsed = rules_mod.parse_rules(cmd.rules)
    async with uow:
        row = await uow.review.current_rules()
        version = int(row["version"]) if row else 0
        if cmd.expected_version != version:
            raise VersionConflict({"rule_set": version, "expected": cmd.expected_version,
                                   "actual": version})
        data = [r.as_data() for r in parsed]
        await uow.review.publish(dict(version=version + 1, enabled=cmd.enabled, rules=data,
                                      created_by=cmd.actor.label, created_at=uow.now()))
        await uow.audit.record(cmd.actor, "review_rules.publish", "review_rules",
                               version + 1, {"version": version} if row else None,
                               {"version": version + 1, "enabled": cmd.enabled, "rules": data})
        await uow.commit()
        return version + 1


# -- dry run ----------------------------------------------------------------------------------

MAX_DRY_RUN = 200_000
CHANGED_SHOWN = 100


@dataclass(frozen=True)
class DryRun:
    rules: list[dict[str, Any]]
    days: int
    actor: Actor


async def dry_run(cmd: DryRun, uow: UnitOfWork) -> dict[str, Any]:
    """Replay a rule set over the orders the rules looked at in the last ``days`` days (the
    facts each run recorded) and say what would have changed. Changes nothing."""
    require(cmd.actor, Permission.SETTINGS_WRITE, "review_rules", None)
    parsed = rules_mod.parse_rules(cmd.rules)
    async with uow:
        runs = await uow.review.runs_since(uow.now() - timedelta(days=cmd.days), MAX_DRY_RUN)
    changed: list[dict[str, Any]] = []
    approve = hold = flips = 0
    for run in runs:
        decision = rules_mod.evaluate(parsed, run["facts"])
        approve += decision.approved
        hold += not decision.approved
        if decision.approved != run["approved"]:
            flips += 1
            if len(changed) < CHANGED_SHOWN:
                changed.append({"number": run["number"], "was_approved": run["approved"],
                                "approved": decision.approved, "summary": decision.summary()})
    return {"orders": len(runs), "would_approve": approve, "would_hold": hold,
            "changed": flips, "examples": changed}
