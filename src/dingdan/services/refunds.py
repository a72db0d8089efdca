"""Refund use cases: give money back against an order's payment — for an after-sales case,
for a cancelled paid order, or as goodwill — through its gateway or by hand; retry a failed
one; read them.

A gateway refund takes two transactions around the call, so no database transaction waits on
the network: the first records the refund ``pending`` (with its request number, its event
and audit row), the call is made, the second settles it — ``succeeded`` (the order's payment
status follows, and the case is refunded) or ``failed`` with the gateway's word. A retry
sends the same request number, so the gateway refunds once however often it is asked. A
manual refund (bank transfer, cash) is recorded by the person who paid it, with their
reference, and settles at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from dingdan.adapters.payments.port import RefundAnswer, RefundGateway, RefundRequest
from dingdan.domain import aftersales as case_rules
from dingdan.domain import refunds as rules
from dingdan.domain.aftersales import CaseAction, CaseFacts, CaseStatus, CaseType
from dingdan.domain.errors import (
    ErrorCollector,
    FieldError,
    IllegalTransition,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import Actor, EventType
from dingdan.domain.lifecycle import PaymentStatus, Status
from dingdan.domain.permissions import Permission
from dingdan.domain.refunds import Method, RefundAction, RefundStatus
from dingdan.services import aftersales
from dingdan.services._access import require, require_warehouse, visible_order
from dingdan.services._cases import record_case_event
from dingdan.services.orders import record_event
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

KIND = "refund"
Gateways = Mapping[str, RefundGateway]


@dataclass(frozen=True)
class IssueRefund:
    order_number: str
    method: Method
    actor: Actor
    amount: int | None = None  # None: everything still refundable (a cancelled order)
    reason: str | None = None
    reference: str | None = None  # manual: the transfer's or receipt's reference
    case_number: str | None = None  # for this after-sales case (its amount, its transition)


async def issue_refund(cmd: IssueRefund, uows: UnitOfWorkFactory,
                       gateways: Gateways) -> dict[str, Any]:
    """Refund, and answer the refund as it stands (succeeded, or failed with the reason)."""
    require(cmd.actor, Permission.ORDER_REFUND, "order", cmd.order_number)
    errors = ErrorCollector()
    if cmd.method is Method.MANUAL and not (cmd.reference or "").strip():
        errors.add("reference", "required", "a manual refund names its transfer or receipt")
    if cmd.method is not Method.MANUAL and cmd.method.value not in gateways:
        errors.add("method", "not_configured", f"no {cmd.method.value} gateway is configured")
    errors.raise_if_any()
    async with uows() as uow:
        state = await visible_order(uow, cmd.order_number, cmd.actor)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.ORDER_REFUND, "order",
                          cmd.order_number)
        refund_id = await _record_pending(uow, cmd, state)
        if cmd.method is Method.MANUAL:
            await _settle(uow, refund_id, RefundAnswer(True, reference=cmd.reference),
                          cmd.actor)
        await uow.commit()
    if cmd.method is not Method.MANUAL:
        await _call(uows, gateways[cmd.method.value], refund_id, cmd.actor)
    return await _read(uows, refund_id)


async def _record_pending(uow: UnitOfWork, cmd: IssueRefund, state: OrderState) -> int:
    if PaymentStatus(state.payment_status) not in rules.PAID_STATUSES:
        raise IllegalTransition({"action": "refund", "status": state.payment_status,
                                 "reason": "only a paid order is refunded"})
    committed, _ = await uow.refunds.totals(state.id)
    case = None
    amount = cmd.amount
    if cmd.case_number is not None:
        case = await uow.cases.get(cmd.case_number)
        if case is None or case["order_id"] != state.id:
            raise NotFound({"kind": "aftersales_case", "key": cmd.case_number})
        # Out of turn is refused before any money moves.
        case_rules.step(CaseFacts(CaseStatus(case["status"]), CaseType(case["type"])),
                        CaseAction.REFUND)
        if any(r["case_id"] == case["id"] and r["status"] != RefundStatus.FAILED.value
               for r in await uow.refunds.for_order(state.id)):
            raise IllegalTransition({"action": "refund", "status": case["status"],
                                     "reason": "this case already has a refund"})
        amount = case["refund_amount"] if amount is None else amount
    if amount is None:
        amount = rules.refundable(state.total, committed)
    rules.check_amount(amount, state.total, committed)
    now = uow.now()
    request_no = f"RF{state.number}{secrets.token_hex(4).upper()}"
    refund_id = await uow.refunds.insert(dict(
        request_no=request_no, order_id=state.id, order_number=state.number,
        case_id=case["id"] if case else None, amount=amount, currency=state.currency,
        method=cmd.method.value, status=RefundStatus.PENDING.value, reason=cmd.reason,
        attempts=0, actor=cmd.actor.label, version=1, created_at=now, updated_at=now))
    data = {"amount": amount, "currency": state.currency, "method": cmd.method.value,
            "case_number": cmd.case_number}
    await record_case_event(uow, kind=KIND, case_id=refund_id, case_number=request_no,
                            order=state, type="refund.requested", from_status=None,
                            to_status=RefundStatus.PENDING.value, actor=cmd.actor,
                            reason=cmd.reason, data=data)
    await uow.audit.record(cmd.actor, "refund.issue", "refund", request_no, None,
                           {**data, "order": state.number})
    return refund_id


async def _call(uows: UnitOfWorkFactory, gateway: RefundGateway, refund_id: int,
                actor: Actor) -> None:
    async with uows(read_only=True) as uow:
        refund = await uow.refunds.get(refund_id)
        assert refund is not None
        state = await uow.orders.get_state(refund["order_number"])
        assert state is not None
    answer = await gateway.refund(RefundRequest(
        refund["request_no"], refund["order_number"], await _payment_reference(uows, state),
        refund["amount"], refund["currency"], refund["reason"]))
    for attempt in range(3):
        # The money has moved (or not): what the gateway said must be written. A concurrent
        # change of the order or case only means reading them again.
        try:
            async with uows() as uow:
                await _settle(uow, refund_id, answer, actor)
                await uow.commit()
            return
        except VersionConflict:
            if attempt == 2:
                raise


async def _payment_reference(uows: UnitOfWorkFactory, state: OrderState) -> str | None:
    async with uows(read_only=True) as uow:
        order = await uow.orders.get(state.number)
    return None if order is None else order.get("payment_reference")


async def _settle(uow: UnitOfWork, refund_id: int, answer: RefundAnswer, actor: Actor) -> None:
    """Write what the gateway (or the person) said: the refund's status, and on success the
    order's payment status and the case's ``refund`` transition."""
    refund = await uow.refunds.get(refund_id)
    assert refund is not None
    action = RefundAction.SUCCEED if answer.ok else RefundAction.FAIL
    target = rules.step(RefundStatus(refund["status"]), action)
    now = uow.now()
    values: dict[str, Any] = {"status": target.value, "attempts": refund["attempts"] + 1,
                              "updated_at": now,
                              "last_error": None if answer.ok else answer.error}
    if answer.ok:
        values.update(gateway_reference=answer.reference, succeeded_at=now)
    if not await uow.refunds.update(refund_id, refund["version"], values):
        raise VersionConflict({"refund": refund["request_no"]})
    state = await uow.orders.get_state(refund["order_number"])
    assert state is not None
    if answer.ok:
        state = await _follow_payment(uow, state, refund, actor)
        if refund["case_id"] is not None:
            await _refund_case(uow, refund, state, actor)
    data = {"amount": refund["amount"], "method": refund["method"],
            "attempt": values["attempts"], "error": values["last_error"],
            "retryable": answer.retryable}
    await record_case_event(uow, kind=KIND, case_id=refund_id,
                            case_number=refund["request_no"], order=state,
                            type=f"refund.{target.value}", from_status=refund["status"],
                            to_status=target.value, actor=actor, data=data)
    await uow.audit.record(actor, f"refund.{action.value}", "refund", refund["request_no"],
                           {"status": refund["status"]}, {"status": target.value, **data})


async def _follow_payment(uow: UnitOfWork, state: OrderState, refund: Mapping[str, Any],
                          actor: Actor) -> OrderState:
    """The order's payment status after this refund, on its timeline."""
    _, succeeded = await uow.refunds.totals(state.id)
    after = rules.payment_status(state.total, succeeded, state.status == Status.CANCELLED)
    if not await uow.orders.update(state.id, state.version, {
            "payment_status": after.value, "updated_at": uow.now()}):
        raise VersionConflict({"number": state.number})
    new_state = replace(state, payment_status=after.value, version=state.version + 1)
    await record_event(uow, new_state, EventType.REFUNDED, actor, refund["reason"],
                       {"refund": refund["request_no"], "amount": refund["amount"],
                        "method": refund["method"], "refunded_total": succeeded,
                        "payment_status": {"before": state.payment_status,
                                           "after": after.value}})
    return new_state


async def _refund_case(uow: UnitOfWork, refund: Mapping[str, Any], state: OrderState,
                       actor: Actor) -> None:
    case = None
    for c in await uow.cases.for_order(state.id):
        if c["id"] == refund["case_id"]:
            case = await uow.cases.get(c["number"])
    assert case is not None
    await aftersales.apply_action(uow, case, state, aftersales.ActOnCase(
        case["number"], CaseAction.REFUND, actor), {"refund": refund["request_no"],
                                                    "amount": refund["amount"]})


@dataclass(frozen=True)
class RetryRefund:
    refund_id: int
    actor: Actor


async def retry_refund(cmd: RetryRefund, uows: UnitOfWorkFactory,
                       gateways: Gateways) -> dict[str, Any]:
    """Ask the gateway again for a failed refund, with the same request number."""
    require(cmd.actor, Permission.ORDER_REFUND, "refund", cmd.refund_id)
    async with uows() as uow:
        refund = await uow.refunds.get(cmd.refund_id)
        if refund is None:
            raise NotFound({"kind": "refund", "key": cmd.refund_id})
        state = await visible_order(uow, refund["order_number"], cmd.actor)
        require_warehouse(cmd.actor, state.warehouse_id, Permission.ORDER_REFUND, "refund",
                          cmd.refund_id)
        target = rules.step(RefundStatus(refund["status"]), RefundAction.RETRY)
        gateway = gateways.get(refund["method"])
        if gateway is None:
            raise ValidationFailed(details=[FieldError(
                "method", "not_configured", f"no {refund['method']} gateway is configured")])
        if not await uow.refunds.update(refund["id"], refund["version"], {
                "status": target.value, "updated_at": uow.now()}):
            raise VersionConflict({"refund": refund["request_no"]})
        await record_case_event(uow, kind=KIND, case_id=refund["id"],
                                case_number=refund["request_no"], order=state,
                                type="refund.retried", from_status=refund["status"],
                                to_status=target.value, actor=cmd.actor,
                                data={"attempts": refund["attempts"]})
        await uow.audit.record(cmd.actor, "refund.retry", "refund", refund["request_no"],
                               {"status": refund["status"]}, {"status": target.value})
        await uow.commit()
    await _call(uows, gateway, cmd.refund_id, cmd.actor)
    return await _read(uows, cmd.refund_id)


async def _read(uows: UnitOfWorkFactory, refund_id: int) -> dict[str, Any]:
    async with uows(read_only=True) as uow:
        refund = await uow.refunds.get(refund_id)
    assert refund is not None
    return refund


async def order_refunds(number: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    """An order's payment, its refunds, and what may still be refunded."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        state = await visible_order(uow, number, actor)
        rows = await uow.refunds.for_order(state.id)
        committed, succeeded = await uow.refunds.totals(state.id)
    paid = state.total if PaymentStatus(state.payment_status) in rules.PAID_STATUSES or \
        state.payment_status == PaymentStatus.REFUNDED else 0
    return {"order_number": number, "payment_status": state.payment_status,
            "currency": state.currency, "paid": paid, "refunded": succeeded,
            "refundable": rules.refundable(paid, committed), "refunds": rows}


async def list_refunds(uow: UnitOfWork, *, actor: Actor, statuses: tuple[str, ...] = (),
                       limit: int = 50, cursor: str | None = None,
                       ) -> tuple[list[dict[str, Any]], str | None]:
    """The refund queue (finance): newest first, within the person's warehouses."""
    require(actor, Permission.ORDER_READ, "refund", None)
    async with uow:
        return await uow.refunds.page(statuses=statuses, limit=limit, cursor=cursor,
                                      warehouse_ids=actor.warehouse_ids)
