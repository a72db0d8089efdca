"""Complaints (tickets): their lifecycle, who owns one, and the two clocks on it. Pure:
callers pass the staff and their load, the working calendar and the time.

    open ──respond──▶ in_progress ──resolve──▶ resolved ──close──▶ closed
      │                 ▲                        │
      └──withdraw─┐     └────────reopen──────────┘
                  ▼
               closed

Every complaint has an owner (picked by category and load: the least busy person of the
role that handles the category) and two deadlines counted in working time from when it came
in: the first response, and the resolution. A missed deadline is a breach: the owner's
manager is alerted and the complaint is marked escalated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dingdan.domain import machine
from dingdan.domain.machine import Requirement
from dingdan.domain.sla import WorkingCalendar


class Category(StrEnum):
    LATE_DELIVERY = "late_delivery"
    WRONG_ITEM = "wrong_item"
    DAMAGED = "damaged"
    MISSING = "missing"
    SERVICE_ATTITUDE = "service_attitude"
    QUALITY = "quality"
    OTHER = "other"


CATEGORY_LABELS: Mapping[Category, Mapping[str, str]] = {
    Category.LATE_DELIVERY: {"zh-CN": "配送延误", "en": "Late delivery"},
    Category.WRONG_ITEM: {"zh-CN": "发错商品", "en": "Wrong item"},
    Category.DAMAGED: {"zh-CN": "商品破损", "en": "Damaged"},
    Category.MISSING: {"zh-CN": "少件漏发", "en": "Missing item"},
    Category.SERVICE_ATTITUDE: {"zh-CN": "服务态度", "en": "Service attitude"},
    Category.QUALITY: {"zh-CN": "质量问题", "en": "Quality"},
    Category.OTHER: {"zh-CN": "其他", "en": "Other"},
}


class Channel(StrEnum):
    """Where the complaint came from (and where replies go back)."""

    PORTAL = "portal"
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    MARKETPLACE = "marketplace"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ComplaintAction(StrEnum):
    RESPOND = "respond"  # the first reply to the customer
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    WITHDRAW = "withdraw"  # the customer no longer complains


@dataclass(frozen=True, slots=True)
class ComplaintFacts:
    status: ComplaintStatus


PERMISSION = "complaint.handle"
Ks, Ka = ComplaintStatus, ComplaintAction


@dataclass(frozen=True, slots=True)
class Row(machine.Transition[ComplaintStatus, ComplaintAction, ComplaintFacts]):
    """A row of the complaint table."""


_RESOLUTION = Requirement("resolution", "resolving needs what was done")
_REASON = Requirement("reason", "this needs a reason", record=False)

TRANSITIONS: tuple[Row, ...] = (
    Row(Ks.OPEN, Ka.RESPOND, Ks.IN_PROGRESS, permission=PERMISSION,
        stamps=("first_response_at",)),
    Row(Ks.IN_PROGRESS, Ka.RESOLVE, Ks.RESOLVED, permission=PERMISSION,
        requires=(_RESOLUTION,), stamps=("resolved_at",)),
    Row(Ks.RESOLVED, Ka.REOPEN, Ks.IN_PROGRESS, permission=PERMISSION, requires=(_REASON,)),
    Row(Ks.RESOLVED, Ka.CLOSE, Ks.CLOSED, permission=PERMISSION, stamps=("closed_at",)),
    *(Row(s, Ka.WITHDRAW, Ks.CLOSED, permission=PERMISSION, requires=(_REASON,),
          stamps=("closed_at",)) for s in (Ks.OPEN, Ks.IN_PROGRESS)),
)
COMPLAINT: machine.Machine[ComplaintStatus, ComplaintAction, ComplaintFacts, Row] = (
    machine.Machine(
    name="complaint", statuses=ComplaintStatus, actions=ComplaintAction,
    transitions=TRANSITIONS,
    status_labels={Ks.OPEN: {"zh-CN": "待响应", "en": "Open"},
                   Ks.IN_PROGRESS: {"zh-CN": "处理中", "en": "In progress"},
                   Ks.RESOLVED: {"zh-CN": "已解决", "en": "Resolved"},
                   Ks.CLOSED: {"zh-CN": "已关闭", "en": "Closed"}},
    action_labels={Ka.RESPOND: {"zh-CN": "首次回复", "en": "Respond"},
                   Ka.RESOLVE: {"zh-CN": "解决", "en": "Resolve"},
                   Ka.REOPEN: {"zh-CN": "重新打开", "en": "Reopen"},
                   Ka.CLOSE: {"zh-CN": "关闭", "en": "Close"},
                   Ka.WITHDRAW: {"zh-CN": "撤诉", "en": "Withdraw"}},
    terminal=frozenset({Ks.CLOSED}),
    # The clocks run in these statuses (a resolved complaint waits on the customer).
    stages={"first_response": frozenset({Ks.OPEN}),
            "resolution": frozenset({Ks.OPEN, Ks.IN_PROGRESS})}))


def step(status: ComplaintStatus, action: ComplaintAction) -> tuple[Row, ComplaintStatus]:
    return COMPLAINT.step(status, action, ComplaintFacts(status))


@dataclass(frozen=True, slots=True)
class ComplaintSla:
    """Working minutes to the first response and to the resolution."""

    first_response_minutes: int
    resolution_minutes: int


# A complaint is answered within two working hours and settled within two working days
# (16 working hours); a late parcel or an item that never came is urgent: one hour, one day.
DEFAULT_SLA = ComplaintSla(120, 16 * 60)
SLA_BY_CATEGORY: Mapping[Category, ComplaintSla] = {
    Category.LATE_DELIVERY: ComplaintSla(60, 8 * 60),
    Category.MISSING: ComplaintSla(60, 8 * 60),
}
# Who handles which category: wrong, damaged or missing goods are the warehouse's fault,
# but customer service owns the conversation; quality goes to the manager (a supplier issue).
ROLE_BY_CATEGORY: Mapping[Category, str] = {
    Category.QUALITY: "manager",
    Category.SERVICE_ATTITUDE: "manager",
}
DEFAULT_ROLE = "customer_service"


@dataclass(frozen=True, slots=True)
class Deadlines:
    first_response: datetime
    resolution: datetime


def deadlines(category: Category, received: datetime, cal: WorkingCalendar,
              sla: Mapping[Category, ComplaintSla] = SLA_BY_CATEGORY) -> Deadlines:
    policy = sla.get(category, DEFAULT_SLA)
    return Deadlines(cal.add(received, policy.first_response_minutes),
                     cal.add(received, policy.resolution_minutes))


@dataclass(frozen=True, slots=True)
class Staff:
    user_id: int
    name: str
    open_complaints: int


def choose_owner(category: Category, staff_by_role: Mapping[str, Sequence[Staff]]
                 ) -> tuple[str, Staff | None]:
    """The role that handles ``category`` and its least busy person (ties: lowest id);
    None when nobody holds the role (the complaint waits in the role's queue)."""
    role = ROLE_BY_CATEGORY.get(category, DEFAULT_ROLE)
    people = staff_by_role.get(role, ())
    if not people:
        return role, None
    return role, min(people, key=lambda s: (s.open_complaints, s.user_id))


class Breach(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True)
class ComplaintClock:
    status: ComplaintStatus
    first_response_due: datetime
    resolution_due: datetime
    breaches: frozenset[str]  # already alerted


def breaches(c: ComplaintClock, now: datetime) -> list[Breach]:
    """The deadlines ``c`` has missed and not yet been alerted about, in order."""
    out = []
    if (c.status in COMPLAINT.statuses_in_stage("first_response")
            and now > c.first_response_due and Breach.FIRST_RESPONSE not in c.breaches):
        out.append(Breach.FIRST_RESPONSE)
    if (c.status in COMPLAINT.statuses_in_stage("resolution")
            and now > c.resolution_due and Breach.RESOLUTION not in c.breaches):
        out.append(Breach.RESOLUTION)
    return out


def event_type(action: ComplaintAction) -> str:
    return f"complaint.{_PAST[action]}"


_PAST: Mapping[ComplaintAction, str] = {
    Ka.RESPOND: "responded", Ka.RESOLVE: "resolved", Ka.REOPEN: "reopened",
    Ka.CLOSE: "closed", Ka.WITHDRAW: "withdrawn"}
OPENED_EVENT = "complaint.opened"
REPLIED_EVENT = "complaint.replied"  # a staff message to the customer
BREACHED_EVENT = "complaint.sla_breached"
