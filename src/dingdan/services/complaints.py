"""Complaint use cases: open one (staff, or the customer with proof of the order), write in
its conversation (a staff reply reaches the customer through the outbox, on their channel),
take its lifecycle actions, scan for missed deadlines (alert and escalate), and read.

Owner and deadlines are set when it is opened: the least busy person of the role that
handles the category, and the first-response and resolution deadlines in working time
(``domain.complaints``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dingdan.domain import complaints as rules
from dingdan.domain.complaints import (
    Breach,
    Category,
    Channel,
    ComplaintAction,
    ComplaintClock,
    ComplaintStatus,
    Staff,
)
from dingdan.domain.errors import (
    ErrorCollector,
    FieldError,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from dingdan.domain.events import SYSTEM, Actor, ActorKind
from dingdan.domain.machine import missing
from dingdan.domain.permissions import Permission, can
from dingdan.domain.sla import WorkingCalendar
from dingdan.services._access import require, require_warehouse, visible_order
from dingdan.services._cases import (
    CustomerProof,
    case_number,
    customer_order,
    record_case_event,
)
from dingdan.services.sla import load_calendar
from dingdan.store.orders import OrderState
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

KIND = "complaint"
OPEN_STATUSES = (ComplaintStatus.OPEN.value, ComplaintStatus.IN_PROGRESS.value)
MAX_TEXT = 4000


@dataclass(frozen=True)
class OpenComplaint:
    order_number: str
    category: Category
    channel: Channel
    summary: str
    line_nos: tuple[int, ...] = ()
    message: str | None = None  # the customer's own words, first in the conversation


async def open_complaint(cmd: OpenComplaint, uow: UnitOfWork, *, actor: Actor,
                         calendar: WorkingCalendar) -> str:
    """Record a complaint taken by staff (phone, email, marketplace)."""
    require(actor, Permission.COMPLAINT_HANDLE, "order", cmd.order_number)
    _check_text(cmd.summary, cmd.message)
    async with uow:
        state = await visible_order(uow, cmd.order_number, actor)
        number = await _open(uow, cmd, state, actor, calendar)
        await uow.commit()
        return number


async def open_complaint_as_customer(cmd: OpenComplaint, uow: UnitOfWork, *,
                                     proof: CustomerProof, calendar: WorkingCalendar) -> str:
    if cmd.order_number != proof.order_number:
        raise NotFound({"kind": "order", "key": cmd.order_number})
    _check_text(cmd.summary, cmd.message)
    async with uow:
        state, actor = await customer_order(uow, proof)
        number = await _open(uow, OpenComplaint(cmd.order_number, cmd.category,
                                                Channel.PORTAL, cmd.summary, cmd.line_nos,
                                                cmd.message), state, actor, calendar)
        await uow.commit()
        return number


def _check_text(summary: str, message: str | None) -> None:
    errors = ErrorCollector()
    if not summary.strip():
        errors.add("summary", "required", "say what went wrong")
    if message is not None and len(message) > MAX_TEXT:
        errors.add("message", "too_long", f"at most {MAX_TEXT} characters")
    errors.raise_if_any()


async def _open(uow: UnitOfWork, cmd: OpenComplaint, state: OrderState, actor: Actor,
                calendar: WorkingCalendar) -> str:
    now = uow.now()
    lines = {ln["line_no"] for ln in await uow.orders.lines(state.id)}
    bad = [n for n in cmd.line_nos if n not in lines]
    if bad:
        raise ValidationFailed(details=[FieldError("line_nos", "no_such_line",
                                                   f"the order has no line {bad[0]}")])
    role = rules.ROLE_BY_CATEGORY.get(cmd.category, rules.DEFAULT_ROLE)
    staff = [Staff(*s) for s in await uow.complaints.staff(role, OPEN_STATUSES)]
    role, owner = rules.choose_owner(cmd.category, {role: staff})
    due = rules.deadlines(cmd.category, now, await load_calendar(uow, calendar, now))
    earlier = await uow.complaints.earlier_from(state.customer_phone, state.customer_email)
    number = case_number("CP", now)
    complaint_id = await uow.complaints.insert(dict(
        number=number, order_id=state.id, order_number=state.number,
        warehouse_id=state.warehouse_id, line_nos=sorted(set(cmd.line_nos)),
        category=cmd.category.value, channel=cmd.channel.value,
        status=ComplaintStatus.OPEN.value, summary=cmd.summary.strip(), owner_role=role,
        owner_id=owner.user_id if owner else None, owner_name=owner.name if owner else None,
        breaches=[], repeat=earlier > 0, version=1,
        first_response_due=due.first_response, resolution_due=due.resolution,
        created_at=now, updated_at=now))
    if cmd.message and cmd.message.strip():
        await uow.complaints.add_message(dict(
            complaint_id=complaint_id, direction="from_customer", author=actor.label,
            body=cmd.message.strip(), created_at=now))
    data = {"category": cmd.category.value, "channel": cmd.channel.value,
            "owner": owner.name if owner else None, "owner_role": role,
            "first_response_due": due.first_response.isoformat(),
            "resolution_due": due.resolution.isoformat(), "repeat": earlier > 0}
    await record_case_event(uow, kind=KIND, case_id=complaint_id, case_number=number,
                            order=state, type=rules.OPENED_EVENT, from_status=None,
                            to_status=ComplaintStatus.OPEN.value, actor=actor,
                            reason=cmd.summary.strip(), data=data)
    await uow.audit.record(actor, "complaint.open", "complaint", number, None,
                           {**data, "order": state.number})
    return number


@dataclass(frozen=True)
class Reply:
    number: str
    body: str
    actor: Actor
    internal: bool = False  # a note for colleagues, never sent


async def reply(cmd: Reply, uow: UnitOfWork) -> None:
    """Write to the customer (or a colleague). The first reply to the customer is the first
    response: the complaint moves to ``in_progress`` and its first clock stops."""
    require(cmd.actor, Permission.COMPLAINT_HANDLE, "complaint", cmd.number)
    if not cmd.body.strip() or len(cmd.body) > MAX_TEXT:
        raise ValidationFailed(details=[FieldError(
            "body", "required" if not cmd.body.strip() else "too_long",
            f"a reply has 1 to {MAX_TEXT} characters")])
    async with uow:
        complaint, state = await _load(uow, cmd.number, cmd.actor)
        if complaint["status"] == ComplaintStatus.CLOSED.value:
            raise ValidationFailed(details=[FieldError("number", "closed",
                                                       "the complaint is closed")])
        now = uow.now()
        direction = "internal" if cmd.internal else "to_customer"
        await uow.complaints.add_message(dict(
            complaint_id=complaint["id"], direction=direction, author=cmd.actor.label,
            body=cmd.body.strip(), created_at=now))
        if not cmd.internal:
            await record_case_event(uow, kind=KIND, case_id=complaint["id"],
                                    case_number=complaint["number"], order=state,
                                    type=rules.REPLIED_EVENT, from_status=complaint["status"],
                                    to_status=complaint["status"], actor=cmd.actor,
                                    data={"message": cmd.body.strip()})
            if complaint["status"] == ComplaintStatus.OPEN.value:
                await _apply(uow, complaint, state, ComplaintAction.RESPOND, cmd.actor, {})
        await uow.audit.record(cmd.actor, "complaint.reply", "complaint", complaint["number"],
                               None, {"direction": direction, "body": cmd.body.strip()})
        await uow.commit()


async def customer_message(number: str, body: str, uow: UnitOfWork, *,
                           proof: CustomerProof) -> None:
    """The customer writes in their complaint's conversation."""
    if not body.strip() or len(body) > MAX_TEXT:
        raise ValidationFailed(details=[FieldError("body", "required",
                                                   f"1 to {MAX_TEXT} characters")])
    async with uow:
        state, actor = await customer_order(uow, proof)
        complaint = await uow.complaints.get(number)
        if complaint is None or complaint["order_id"] != state.id:
            raise NotFound({"kind": "complaint", "key": number})
        await uow.complaints.add_message(dict(
            complaint_id=complaint["id"], direction="from_customer", author=actor.label,
            body=body.strip(), created_at=uow.now()))
        await record_case_event(uow, kind=KIND, case_id=complaint["id"],
                                case_number=number, order=state, type="complaint.customer_wrote",
                                from_status=complaint["status"], to_status=complaint["status"],
                                actor=actor, data={})
        await uow.audit.record(actor, "complaint.customer_message", "complaint", number, None,
                               {"body": body.strip()})
        await uow.commit()


@dataclass(frozen=True)
class ActOnComplaint:
    number: str
    action: ComplaintAction
    actor: Actor
    reason: str | None = None
    resolution: str | None = None
    expected_version: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def act_on_complaint(cmd: ActOnComplaint, uow: UnitOfWork) -> int:
    require(cmd.actor, Permission.COMPLAINT_HANDLE, "complaint", cmd.number)
    async with uow:
        complaint, state = await _load(uow, cmd.number, cmd.actor)
        if cmd.expected_version is not None and cmd.expected_version != complaint["version"]:
            raise VersionConflict({"number": cmd.number, "expected": cmd.expected_version,
                                   "actual": complaint["version"]})
        given = {"reason": cmd.reason, "resolution": cmd.resolution}
        errors = ErrorCollector()
        for r in missing(rules.COMPLAINT.requirements(ComplaintStatus(complaint["status"]),
                                                      cmd.action), given):
            errors.add(r.field, "required", r.message)
        errors.raise_if_any()
        version = await _apply(uow, complaint, state, cmd.action, cmd.actor, given,
                               cmd.reason)
        await uow.commit()
        return version


async def _apply(uow: UnitOfWork, complaint: dict[str, Any], state: OrderState,
                 action: ComplaintAction, actor: Actor, given: dict[str, str | None],
                 reason: str | None = None) -> int:
    status = ComplaintStatus(complaint["status"])
    row, target = rules.step(status, action)
    now = uow.now()
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    data: dict[str, Any] = {}
    for r in row.requires:
        if r.record:
            values[r.field] = data[r.field] = given[r.field]
    values.update(dict.fromkeys(row.stamps, now))
    if not await uow.complaints.update(complaint["id"], complaint["version"], values):
        raise VersionConflict({"number": complaint["number"]})
    await record_case_event(uow, kind=KIND, case_id=complaint["id"],
                            case_number=complaint["number"], order=state,
                            type=rules.event_type(action), from_status=status.value,
                            to_status=target.value, actor=actor, reason=reason, data=data)
    await uow.audit.record(actor, f"complaint.{action.value}", "complaint", complaint["number"],
                           {"status": status.value}, {"status": target.value, **data,
                                                      "reason": reason})
    complaint.update(values, version=complaint["version"] + 1)
    return int(complaint["version"])


async def _load(uow: UnitOfWork, number: str,
                actor: Actor) -> tuple[dict[str, Any], OrderState]:
    complaint = await uow.complaints.get(number)
    if complaint is None:
        raise NotFound({"kind": "complaint", "key": number})
    state = await visible_order(uow, complaint["order_number"], actor)
    require_warehouse(actor, complaint["warehouse_id"], Permission.COMPLAINT_HANDLE,
                      "complaint", number)
    return complaint, state


# --- the breach scan ------------------------------------------------------------------------

@dataclass(frozen=True)
class BreachReport:
    breached: list[tuple[str, str]]  # (complaint number, which deadline)


async def scan_breaches(uows: UnitOfWorkFactory) -> BreachReport:
    """Alert about every missed deadline once: the complaint is escalated (to the manager
    of its owner's role), and a ``complaint.sla_breached`` event tells the manager."""
    out: list[tuple[str, str]] = []
    async with uows() as uow:
        now = uow.now()
        for c in await uow.complaints.running(OPEN_STATUSES, now):
            clock = ComplaintClock(ComplaintStatus(c["status"]), c["first_response_due"],
                                   c["resolution_due"], frozenset(c["breaches"]))
            missed = rules.breaches(clock, now)
            if not missed:
                continue
            state = await uow.orders.get_state(c["order_number"])
            assert state is not None
            values = {"breaches": sorted({*c["breaches"], *missed}), "escalated_at":
                      c["escalated_at"] or now, "updated_at": now}
            if not await uow.complaints.update(c["id"], c["version"], values):
                continue  # someone is working on it right now; the next scan sees it
            for breach in missed:
                deadline = (c["first_response_due"] if breach is Breach.FIRST_RESPONSE
                            else c["resolution_due"])
                await record_case_event(
                    uow, kind=KIND, case_id=c["id"], case_number=c["number"], order=state,
                    type=rules.BREACHED_EVENT, from_status=c["status"], to_status=c["status"],
                    actor=SYSTEM, data={"stage": f"complaint_{breach.value}",
                                        "breach": breach.value, "role": "manager",
                                        "owner": c["owner_name"],
                                        "deadline": deadline.isoformat()})
                out.append((c["number"], breach.value))
            await uow.audit.record(SYSTEM, "complaint.escalate", "complaint", c["number"],
                                   {"breaches": c["breaches"]}, {"breaches": values["breaches"]})
        await uow.commit()
    return BreachReport(out)


# --- reads ----------------------------------------------------------------------------------

def allowed_actions(complaint: dict[str, Any], actor: Actor) -> list[str]:
    if actor.kind is ActorKind.CUSTOMER or not can(actor, Permission.COMPLAINT_HANDLE):
        return []
    status = ComplaintStatus(complaint["status"])
    return [a.value for a in rules.COMPLAINT.allowed_actions(status,
                                                              rules.ComplaintFacts(status))]


async def get_complaint(number: str, uow: UnitOfWork, *, actor: Actor) -> dict[str, Any]:
    require(actor, Permission.ORDER_READ, "complaint", number)
    async with uow:
        complaint = await uow.complaints.get(number)
        if complaint is None:
            raise NotFound({"kind": "complaint", "key": number})
        await visible_order(uow, complaint["order_number"], actor)
        complaint["messages"] = await uow.complaints.messages(complaint["id"])
        complaint["timeline"] = await uow.case_events.timeline(KIND, complaint["id"])
    complaint["allowed_actions"] = allowed_actions(complaint, actor)
    return complaint


async def get_complaint_as_customer(number: str, uow: UnitOfWork, *,
                                    proof: CustomerProof) -> dict[str, Any]:
    """What the customer sees: the complaint and the conversation, without internal notes."""
    async with uow:
        state, _ = await customer_order(uow, proof)
        complaint = await uow.complaints.get(number)
        if complaint is None or complaint["order_id"] != state.id:
            raise NotFound({"kind": "complaint", "key": number})
        messages = await uow.complaints.messages(complaint["id"])
    keep = ("number", "order_number", "category", "status", "summary", "created_at",
            "resolution", "first_response_at", "resolved_at", "closed_at")
    return {**{k: complaint[k] for k in keep},
            "messages": [{"direction": m["direction"], "body": m["body"],
                          "created_at": m["created_at"]}
                         for m in messages if m["direction"] != "internal"]}


@dataclass(frozen=True)
class ComplaintQuery:
    statuses: Sequence[str] = ()
    category: str | None = None
    owner_id: int | None = None
    escalated: bool | None = None
    order_number: str | None = None
    limit: int = 50
    cursor: str | None = None


async def list_complaints(q: ComplaintQuery, uow: UnitOfWork, *,
                          actor: Actor) -> tuple[list[dict[str, Any]], str | None]:
    require(actor, Permission.ORDER_READ, "complaint", None)
    async with uow:
        return await uow.complaints.page(statuses=q.statuses, category=q.category,
                                         owner_id=q.owner_id, escalated=q.escalated,
                                         order_number=q.order_number, limit=q.limit,
                                         cursor=q.cursor, warehouse_ids=actor.warehouse_ids)


async def complaint_causes(uow: UnitOfWork, *, actor: Actor, now: datetime,
                           days: int = 30) -> dict[str, int]:
    """Why customers complain: complaints per category over the last ``days``."""
    require(actor, Permission.ORDER_READ, "complaint", None)
    async with uow:
        return await uow.complaints.by_category(now - timedelta(days=days))
