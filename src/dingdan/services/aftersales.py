"""After-sales case use cases: open a case (staff, or the customer with proof of the order),
take a lifecycle action on it, inspect returned goods into the stock ledger, read cases, and
edit the return rules. One unit of work each: the case change, its timeline event, its
outbox row and its audit row commit together.

Refunds are in :mod:`dingdan.services.refunds`: the case's ``refund`` action is taken there,
when the money has gone back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dingdan.domain import aftersales as rules
from dingdan.domain.aftersales import (
    CaseAction,
    CaseFacts,
    CaseStatus,
    CaseType,
    Condition,
    OrderLine,
    Reason,
    Requested,
    ReturnRule,
)
from dingdan.domain.errors import (
    ErrorCollector,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.inventory import MovementKind, lock_order
from dingdan.domain.machine import missing
from dingdan.domain.permissions import Permission, can
from dingdan.services._access import require, require_warehouse, visible_order
from dingdan.services._cases import (
    CustomerProof,
    case_number,
    customer_order,
    record_case_event,
)
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork

KIND = "aftersales"
# What a customer may do to their own case: change their mind, or say they sent it back.
CUSTOMER_ACTIONS = frozenset({CaseAction.CANCEL, CaseAction.SEND_BACK})


@dataclass(frozen=True)
class CaseLine:
    line_no: int
    quantity: int


@dataclass(frozen=True)
class OpenCase:
    order_number: str
    type: CaseType
    reason: Reason
    lines: tuple[CaseLine, ...]
    description: str | None = None
    include_shipping: bool = False  # the seller's fault: the shipping fee goes back too


async def open_case(cmd: OpenCase, uow: UnitOfWork, *, actor: Actor) -> str:
    """Open a case for a customer (customer service, on the phone or from a marketplace)."""
    require(actor, Permission.AFTERSALES_HANDLE, "order", cmd.order_number)
    async with uow:
        state = await visible_order(uow, cmd.order_number, actor)
        number = await _open(uow, cmd, state, actor, "staff")
        await uow.commit()
        return number


async def open_case_as_customer(cmd: OpenCase, uow: UnitOfWork, *,
                                proof: CustomerProof) -> str:
    """The customer's own request ("I need help"), for the order their proof is for. The
    shipping fee is the seller's call, never the customer's."""
    if cmd.order_number != proof.order_number:
        raise NotFound({"kind": "order", "key": cmd.order_number})
    async with uow:
        state, actor = await customer_order(uow, proof)
        number = await _open(uow, OpenCase(cmd.order_number, cmd.type, cmd.reason, cmd.lines,
                                           cmd.description, False), state, actor, "customer")
        await uow.commit()
        return number


async def _open(uow: UnitOfWork, cmd: OpenCase, state: OrderState, actor: Actor,
                opened_by: str) -> str:
    order = await uow.orders.get(state.number)
    assert order is not None
    now = uow.now()
    lines = [OrderLine(ln["line_no"], ln["sku"], ln["quantity"], ln["unit_price"])
             for ln in order["lines"]]
    wanted = [Requested(ln.line_no, ln.quantity) for ln in cmd.lines]
    taken = await uow.cases.taken(state.id, {s.value for s in rules.HOLDING})
    rules.check_request(cmd.type, cmd.reason, wanted, lines, taken, order["delivered_at"], now,
                        await _rules(uow))
    amount = rules.refund_due(cmd.type, wanted, lines, order["shipping_fee"],
                              cmd.include_shipping)
    number = case_number("AS", now)
    by_no = {ln.line_no: ln for ln in lines}
    case_id = await uow.cases.insert(dict(
        number=number, order_id=state.id, order_number=state.number,
        warehouse_id=state.warehouse_id, type=cmd.type.value,
        status=CaseStatus.REQUESTED.value, reason=cmd.reason.value,
        description=cmd.description, opened_by=opened_by,
        include_shipping=cmd.include_shipping, refund_amount=amount, currency=state.currency,
        version=1, created_at=now, updated_at=now),
        [dict(line_no=w.line_no, sku=by_no[w.line_no].sku, quantity=w.quantity,
              unit_price=by_no[w.line_no].unit_price) for w in wanted])
    summary = {"type": cmd.type.value, "reason": cmd.reason.value, "refund_amount": amount,
               "lines": [{"line_no": w.line_no, "sku": by_no[w.line_no].sku,
                          "quantity": w.quantity} for w in wanted]}
    await record_case_event(uow, kind=KIND, case_id=case_id, case_number=number, order=state,
                            type=rules.REQUESTED_EVENT, from_status=None,
                            to_status=CaseStatus.REQUESTED.value, actor=actor,
                            reason=cmd.description, data=summary,
                            labels=rules.STATUS_LABELS[CaseStatus.REQUESTED])
    await uow.audit.record(actor, "aftersales.open", "aftersales_case", number, None,
                           {**summary, "order": state.number, "opened_by": opened_by})
    return number


async def _rules(uow: UnitOfWork) -> list[ReturnRule]:
    return [ReturnRule(r["sku_prefix"], r["window_days"], r["returnable"])
            for r in await uow.cases.rules()]


@dataclass(frozen=True)
class ActOnCase:
    number: str
    action: CaseAction
    actor: Actor
    reason: str | None = None
    return_waybill: str | None = None
    # Inspection: what was found, per case line (every line judged once).
    conditions: Mapping[int, Condition] = field(default_factory=dict)
    expected_version: int | None = None


async def act_on_case(cmd: ActOnCase, uow: UnitOfWork) -> int:
    """Take one lifecycle action on a case; returns its new version."""
    if cmd.action is CaseAction.REFUND:
        raise ValidationFailed(details=[FieldError(
            "action", "refund_through_refunds",
            "a case is refunded by issuing its refund (POST …/refund)")])
    async with uow:
        version = await _act(uow, cmd)
        await uow.commit()
        return version


async def _act(uow: UnitOfWork, cmd: ActOnCase) -> int:
    case = await _load(uow, cmd.number, cmd.expected_version)
    state = await uow.orders.get_state(case["order_number"])
    assert state is not None
    row = rules.CASE.find(CaseStatus(case["status"]), cmd.action)
    permission = Permission(row.permission if row else _default_permission(cmd.action))
    if cmd.actor.kind is ActorKind.CUSTOMER:
        if cmd.actor.id != case["order_number"]:
            raise NotFound({"kind": "aftersales_case", "key": cmd.number})
        if cmd.action not in CUSTOMER_ACTIONS:
            raise Forbidden({"permission": permission.value, "actor": cmd.actor.label})
    else:
        require(cmd.actor, permission, "aftersales_case", cmd.number)
        require_warehouse(cmd.actor, case["warehouse_id"], permission, "aftersales_case",
                          cmd.number)
    return await apply_action(uow, case, state, cmd)


async def act_on_case_as_customer(number: str, action: CaseAction, uow: UnitOfWork, *,
                                  proof: CustomerProof, reason: str | None = None,
                                  return_waybill: str | None = None) -> int:
    """The customer cancels their own case, or gives the return waybill."""
    async with uow:
        _, actor = await customer_order(uow, proof)
        version = await _act(uow, ActOnCase(number, action, actor, reason, return_waybill))
        await uow.commit()
        return version


def _default_permission(action: CaseAction) -> str:
    for t in rules.TRANSITIONS:
        if t.action is action:
            return t.permission
    raise AssertionError(action)


async def apply_action(uow: UnitOfWork, case: dict[str, Any], state: OrderState,
                       cmd: ActOnCase, data: dict[str, Any] | None = None) -> int:
    """Check ``cmd`` against the table and write the change, its effects and its records, in
    the caller's unit of work. Used by :func:`act_on_case` and by the refund that refunds
    the case."""
    given = {"reason": cmd.reason, "return_waybill": cmd.return_waybill}
    errors = ErrorCollector()
    status = CaseStatus(case["status"])
    for r in missing(rules.CASE.requirements(status, cmd.action), given):
        errors.add(r.field, "required", r.message)
    errors.raise_if_any()
    row, target = rules.step(CaseFacts(status, CaseType(case["type"])), cmd.action)
    now = uow.now()
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    data = dict(data or {})
    for r in row.requires:
        if r.record:
            values[r.field] = data[r.field] = given[r.field]
    values.update(dict.fromkeys(row.stamps, now))
    if cmd.action is CaseAction.INSPECT:
        data["conditions"] = await _inspect(uow, case, cmd.conditions, cmd.actor)
    if not await uow.cases.update(case["id"], case["version"], values):
        raise VersionConflict({"number": case["number"]})
    await record_case_event(uow, kind=KIND, case_id=case["id"], case_number=case["number"],
                            order=state, type=rules.event_type(cmd.action),
                            from_status=status.value, to_status=target.value, actor=cmd.actor,
                            reason=cmd.reason, data=data, labels=rules.STATUS_LABELS[target])
    await uow.audit.record(cmd.actor, f"aftersales.{cmd.action.value}", "aftersales_case",
                           case["number"], {"status": status.value,
                                            "version": case["version"]},
                           {"status": target.value, "version": case["version"] + 1,
                            "reason": cmd.reason, **data})
    return int(case["version"]) + 1


async def _inspect(uow: UnitOfWork, case: dict[str, Any], conditions: Mapping[int, Condition],
                   actor: Actor) -> dict[str, str]:
    """Judge every returned line: good goods go back on hand (a ``return`` movement in the
    ledger, in the order line's warehouse); damaged goods are quarantined — counted nowhere
    sellable, so the ledger does not move."""
    lines = {ln["line_no"]: ln for ln in case["lines"]}
    errors = ErrorCollector()
    for line_no in sorted(set(conditions) - set(lines)):
        errors.add(f"conditions.{line_no}", "no_such_line", "not a line of this case")
    for line_no in sorted(set(lines) - set(conditions)):
        errors.add(f"conditions.{line_no}", "required", "judge every returned line")
    errors.raise_if_any()
    order_lines = {ln["line_no"]: ln for ln in await uow.orders.lines(case["order_id"])}
    now = uow.now()
    good = {(lines[n]["sku"], order_lines[n]["warehouse_id"]): lines[n]["quantity"]
            for n, c in conditions.items() if c is Condition.GOOD}
    for n, c in sorted(conditions.items()):
        await uow.cases.set_condition(case["id"], n, c.value)
    by_key: dict[str, tuple[str, int, int]] = {
        f"{sku}@{wh}": (sku, wh, qty) for (sku, wh), qty in good.items()}
    for key, _ in lock_order({k: v[2] for k, v in by_key.items()}):
        sku, warehouse_id, qty = by_key[key]
        after = await uow.stock.change_on_hand(sku, warehouse_id, qty, now)
        if after is None:  # past the column's bound: refuse rather than overflow
            raise ValidationFailed(details=[FieldError(
                "conditions", "out_of_range", f"{sku} cannot take {qty} more")])
        await uow.stock.record_movement(
            sku=sku, warehouse_id=warehouse_id, kind=MovementKind.RETURN.value, quantity=qty,
            on_hand_after=after, reason="returned, inspected good", reference=case["number"],
            actor=actor.label, created_at=now)
    return {str(n): c.value for n, c in sorted(conditions.items())}


async def _load(uow: UnitOfWork, number: str, expected_version: int | None) -> dict[str, Any]:
    case = await uow.cases.get(number)
    if case is None:
        raise NotFound({"kind": "aftersales_case", "key": number})
    if expected_version is not None and expected_version != case["version"]:
        raise VersionConflict({"number": number, "expected": expected_version,
                               "actual": case["version"]})
    return case


# --- reads ------------------------------------------------------------------------------------

def allowed_actions(case: Mapping[str, Any], actor: Actor) -> list[str]:
    """What this person may do to the case now: the table's actions, by their roles."""
    facts = CaseFacts(CaseStatus(case["status"]), CaseType(case["type"]))
    if actor.kind is ActorKind.CUSTOMER:
        return [a.value for a in rules.CASE.allowed_actions(facts.status, facts)
                if a in CUSTOMER_ACTIONS]
    out = []
    for a in rules.CASE.allowed_actions(facts.status, facts):
        row = rules.CASE.find(facts.status, a)
        if row is not None and can(actor, Permission(row.permission)):
            out.append(a.value)
    return out


async def get_case(number: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    """One case with its lines, timeline and refunds, and what the person may do now."""
    require(actor, Permission.ORDER_READ, "aftersales_case", number)
    async with uow:
        case = await uow.cases.get(number)
        if case is None:
            raise NotFound({"kind": "aftersales_case", "key": number})
        await visible_order(uow, case["order_number"], actor)
        return await _full(uow, case, actor)


async def _full(uow: UnitOfWork, case: dict[str, Any], actor: Actor) -> dict[str, Any]:
    case["timeline"] = await uow.case_events.timeline(KIND, case["id"])
    case["refunds"] = [r for r in await uow.refunds.for_order(case["order_id"])
                       if r["case_id"] == case["id"]]
    case["allowed_actions"] = allowed_actions(case, actor)
    return case


async def get_case_as_customer(number: str, uow: UnitOfWork, *,
                               proof: CustomerProof) -> dict[str, Any]:
    async with uow:
        state, actor = await customer_order(uow, proof)
        case = await uow.cases.get(number)
        if case is None or case["order_id"] != state.id:
            raise NotFound({"kind": "aftersales_case", "key": number})
        return await _full(uow, case, actor)


async def returnable_lines(uow: UnitOfWork, *, proof: CustomerProof) -> list[dict[str, Any]]:
    """The order's lines as the customer may ask about them: what was delivered, less what
    earlier cases hold (the form's choices; the request is checked again when made)."""
    async with uow:
        state, _ = await customer_order(uow, proof)
        taken = await uow.cases.taken(state.id, {s.value for s in rules.HOLDING})
        lines = await uow.orders.lines(state.id)
    return [{"line_no": ln["line_no"], "sku": ln["sku"], "name": ln["name"],
             "quantity": ln["quantity"] - taken.get(ln["line_no"], 0)} for ln in lines]


async def customer_cases(uow: UnitOfWork, *, proof: CustomerProof) -> list[dict[str, Any]]:
    """The cases of the order the proof is for, oldest first."""
    async with uow:
        state, _ = await customer_order(uow, proof)
        return await uow.cases.for_order(state.id)


@dataclass(frozen=True)
class CaseQuery:
    statuses: Sequence[str] = ()
    type: str | None = None
    order_number: str | None = None
    limit: int = 50
    cursor: str | None = None


async def list_cases(q: CaseQuery, uow: UnitOfWork, *,
                     actor: Actor) -> tuple[list[dict[str, Any]], str | None]:
    """The after-sales queue, newest first, within the person's warehouses."""
    require(actor, Permission.ORDER_READ, "aftersales_case", None)
    async with uow:
        return await uow.cases.page(statuses=q.statuses, type=q.type,
                                    order_number=q.order_number, limit=q.limit,
                                    cursor=q.cursor, warehouse_ids=actor.warehouse_ids)


# --- return rules -----------------------------------------------------------------------------

async def list_return_rules(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "return_rule", None)
    async with uow:
        return await uow.cases.rules()


@dataclass(frozen=True)
class PutReturnRule:
    sku_prefix: str
    window_days: int
    returnable: bool
    actor: Actor
    note: str | None = None


async def put_return_rule(cmd: PutReturnRule, uow: UnitOfWork) -> dict[str, Any]:
    """Set the window (days from delivery) and returnability of the SKUs that start with
    ``sku_prefix``."""
    require(cmd.actor, Permission.SETTINGS_WRITE, "return_rule", cmd.sku_prefix)
    errors = ErrorCollector()
    if not cmd.sku_prefix.strip():
        errors.add("sku_prefix", "required", "a rule names a SKU or the start of SKUs")
    if not 0 <= cmd.window_days <= 365:
        errors.add("window_days", "out_of_range", "0 to 365 days")
    errors.raise_if_any()
    async with uow:
        now = uow.now()
        before = await uow.cases.rule(cmd.sku_prefix)
        values = dict(window_days=cmd.window_days, returnable=cmd.returnable, note=cmd.note,
                      updated_at=now)
        if before is None:
            await uow.cases.insert_rule(dict(values, sku_prefix=cmd.sku_prefix, version=1,
                                             created_at=now))
        elif not await uow.cases.update_rule(before["id"], before["version"], values):
            raise VersionConflict({"sku_prefix": cmd.sku_prefix})
        await uow.audit.record(cmd.actor, "return_rule.put", "return_rule", cmd.sku_prefix,
                               None if before is None else
                               {k: before[k] for k in ("window_days", "returnable", "note")},
                               {"window_days": cmd.window_days, "returnable": cmd.returnable,
                                "note": cmd.note})
        rule = await uow.cases.rule(cmd.sku_prefix)
        await uow.commit()
    assert rule is not None
    return rule
