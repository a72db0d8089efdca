"""Service levels: policies and the holiday calendar (settings people edit), alerts (the
alert centre), where one order stands, and the scan the worker runs once per tick.

The scan raises an alert at most once per (order, stage, kind) — the alerts table's unique
key says so, however many workers scan — and writes the alert's outbox row in the same
transaction, so the responsible role is emailed (and, for a late parcel, the customer told)
exactly when the alert is recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dingdan.domain import sla
from dingdan.domain.errors import ErrorCollector, NotFound, VersionConflict
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Status
from dingdan.domain.outbox import envelope
from dingdan.domain.permissions import Permission
from dingdan.domain.sla import DayKind, OrderClock, Policy, SlaState, Stage, WorkingCalendar
from dingdan.services._access import require
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.sla import SlaRepo
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

SCAN_PAGE = 500
_BEFORE_SHIPPING = sorted({s.value for s in sla.STAGE_STATUSES[Stage.REVIEW]
                           | sla.STAGE_STATUSES[Stage.SHIP]} | {Status.ON_HOLD.value})
_ON_THE_ROAD = sorted(s.value for s in sla.STAGE_STATUSES[Stage.DELIVER])


def base_calendar(timezone: str, day_start: str, day_end: str,
                  weekdays: Sequence[int]) -> WorkingCalendar:
    """The working week from configuration (``"09:00"``, ``"18:00"``, Monday = 0);
    holidays are added from the database by :func:`load_calendar`."""
    return WorkingCalendar(ZoneInfo(timezone), _hhmm(day_start), _hhmm(day_end),
                           frozenset(weekdays))


def _hhmm(text: str) -> time:
    hour, _, minute = text.partition(":")
    return time(int(hour), int(minute or 0))


def _policy(r: dict[str, Any]) -> Policy:
    return Policy(Stage(r["stage"]), r["minutes"], r["working_time"], r["warn_minutes"],
                  r["role"], r["active"])


async def load_policies(uow: UnitOfWork) -> dict[Stage, Policy]:
    """Defaults overlaid with what operators changed (inside an open unit of work)."""
    rows = await SlaRepo(uow.conn).policies()
    return sla.merge_policies({Stage(r["stage"]): _policy(r) for r in rows
                               if r["stage"] in Stage.__members__.values()})


async def load_calendar(uow: UnitOfWork, base: WorkingCalendar, around: datetime,
                        ) -> WorkingCalendar:
    """The working calendar with the holidays and make-up days near ``around``."""
    start = (around - timedelta(days=60)).date()
    rows = await SlaRepo(uow.conn).days(start, start + timedelta(days=500))
    return base.with_days({r["day"]: DayKind(r["kind"]) for r in rows
                           if r["kind"] in DayKind.__members__.values()})


# -- settings people edit ------------------------------------------------------------------


async def get_policies(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "sla_policy", None)
    async with uow:
        rows = {r["stage"]: r for r in await SlaRepo(uow.conn).policies()}
        merged = await load_policies(uow)
    return [policy_public(p, rows.get(p.stage.value)) for p in merged.values()]


def policy_public(p: Policy, row: dict[str, Any] | None) -> dict[str, Any]:
    return {"stage": p.stage.value, "label": dict(sla.LABELS[p.stage]), "minutes": p.minutes,
            "working_time": p.working_time, "warn_minutes": p.warn_minutes, "role": p.role,
            "active": p.active, "customized": row is not None,
            "version": row["version"] if row else 0}


@dataclass(frozen=True)
class PolicyFields:
    minutes: int
    working_time: bool
    warn_minutes: int
    role: str
    active: bool = True


async def put_policy(stage: str, fields: PolicyFields, uow: UnitOfWork, actor: Actor,
                     expected_version: int | None = None) -> dict[str, Any]:
    require(actor, Permission.SETTINGS_WRITE, "sla_policy", stage)
    errors = ErrorCollector()
    if stage not in Stage.__members__.values():
        errors.add("stage", "unknown_stage", f"one of {', '.join(s.value for s in Stage)}")
        errors.raise_if_any()
    policy = Policy(Stage(stage), fields.minutes, fields.working_time, fields.warn_minutes,
                    fields.role.strip(), fields.active)
    for loc, code, message in sla.validate_policy(policy):
        errors.add(loc, code, message)
    errors.raise_if_any()
    values = {"minutes": policy.minutes, "working_time": policy.working_time,
              "warn_minutes": policy.warn_minutes, "role": policy.role,
              "active": policy.active}
    async with uow:
        repo = SlaRepo(uow.conn)
        before = {r["stage"]: r for r in await repo.policies()}.get(stage)
        if not await repo.put_policy(stage, values, expected_version, uow.now()):
            raise VersionConflict({"stage": stage})
        row = {r["stage"]: r for r in await repo.policies()}[stage]
        await uow.audit.record(actor, "sla_policy.put", "sla_policy", stage, before, values)
        await uow.commit()
    return policy_public(policy, row)


async def list_days(uow: UnitOfWork, actor: Actor, year: int | None = None,
                    ) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "holiday", None)
    async with uow:
        if year is None:
            return await SlaRepo(uow.conn).days()
        return await SlaRepo(uow.conn).days(date(year, 1, 1), date(year + 1, 1, 1))


async def put_day(day: date, kind: str, name: str, uow: UnitOfWork, actor: Actor,
                  ) -> dict[str, Any]:
    """Mark a weekday off (holiday) or a weekend day worked (workday, 调休)."""
    require(actor, Permission.SETTINGS_WRITE, "holiday", day)
    errors = ErrorCollector()
    if kind not in DayKind.__members__.values():
        errors.add("kind", "unknown_kind", "holiday or workday")
    if not name.strip() or len(name) > 100:
        errors.add("name", "required", "a name of 1-100 characters, e.g. 国庆节")
    errors.raise_if_any()
    async with uow:
        await SlaRepo(uow.conn).put_day(day, kind, name.strip())
        await uow.audit.record(actor, "holiday.put", "holiday", day.isoformat(), None,
                               {"kind": kind, "name": name.strip()})
        await uow.commit()
    return {"day": day, "kind": kind, "name": name.strip()}


async def delete_day(day: date, uow: UnitOfWork, actor: Actor) -> None:
    require(actor, Permission.SETTINGS_WRITE, "holiday", day)
    async with uow:
        if not await SlaRepo(uow.conn).delete_day(day):
            raise NotFound({"kind": "holiday", "key": day.isoformat()})
        await uow.audit.record(actor, "holiday.delete", "holiday", day.isoformat())
        await uow.commit()


# -- alerts and one order's standing -------------------------------------------------------


async def list_alerts(uow: UnitOfWork, actor: Actor, *, order_number: str | None = None,
                      open_only: bool = False, kind: str | None = None,
                      stage: str | None = None, before_id: int | None = None,
                      limit: int = 50) -> list[dict[str, Any]]:
    require(actor, Permission.ORDER_READ, "alert", None)
    async with uow:
        return await SlaRepo(uow.conn).alerts(order_number=order_number, open_only=open_only,
                                              kind=kind, stage=stage, before_id=before_id,
                                              limit=limit)


async def acknowledge_alert(alert_id: int, uow: UnitOfWork, actor: Actor) -> None:
    """Someone has seen it and is on it (the alert stays until the order moves on)."""
    require(actor, Permission.ORDER_NOTE, "alert", alert_id)
    async with uow:
        repo = SlaRepo(uow.conn)
        if not await repo.alert_exists(alert_id):
            raise NotFound({"kind": "alert", "key": alert_id})
        if await repo.acknowledge(alert_id, actor.label, uow.now()):
            await uow.audit.record(actor, "alert.acknowledge", "alert", alert_id)
        await uow.commit()


def _clock(r: dict[str, Any]) -> OrderClock:
    held = r.get("held_from")
    return OrderClock(r["number"], Status(r["status"]), r["placed_at"], r["paid_at"],
                      r["shipped_at"], r["ship_by"], r["deliver_by"],
                      Status(held) if held else None)


async def order_sla(number: str, uow: UnitOfWork, actor: Actor, base: WorkingCalendar,
                    ) -> dict[str, Any]:
    """Where an order stands against its service levels now, and the alerts it raised."""
    require(actor, Permission.ORDER_READ, "order", number)
    async with uow:
        repo = SlaRepo(uow.conn)
        row = await repo.order_clock(number)
        if row is None:
            raise NotFound({"kind": "order", "key": number})
        now = uow.now()
        checks = sla.evaluate(_clock(row), await load_policies(uow),
                              await load_calendar(uow, base, now), now)
        alerts = await repo.alerts(order_number=number, limit=100)
    return {"number": number, "status": row["status"], "now": now,
            "overdue": any(c.overdue for c in checks),
            "stages": [{"stage": c.stage.value, "state": c.state.value,
                        "started_at": c.started_at, "at_risk_at": c.at_risk_at,
                        "deadline": c.deadline, "overdue": c.overdue, "role": c.role,
                        "promise": c.promise} for c in checks],
            "alerts": alerts}


# -- the scan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanReport:
    checked: int = 0
    at_risk: int = 0
    breached: int = 0
    resolved: int = 0


async def scan(uows: UnitOfWorkFactory, base: WorkingCalendar) -> ScanReport:
    """Raise the alerts that are due, each once, and close those whose order moved on."""
    report = ScanReport()
    async with uows(read_only=True) as uow:
        now = uow.now()
        policies = await load_policies(uow)
        calendar = await load_calendar(uow, base, now)
    active = {s: p for s, p in policies.items() if p.active}
    if active:
        window = sla.scan_window(active, now).latest_start
        far_past = now - timedelta(days=3650)
        started_before = max((window[s] for s in (Stage.REVIEW, Stage.SHIP) if s in window),
                             default=far_past)
        horizon = now + timedelta(minutes=max(p.warn_minutes for p in active.values()))
        after_id = 0
        while True:
            async with uows(read_only=True) as uow:
                rows = await SlaRepo(uow.conn).scan_candidates(
                    before_shipping=_BEFORE_SHIPPING, on_the_road=_ON_THE_ROAD,
                    started_before=started_before,
                    shipped_before=window.get(Stage.DELIVER, far_past),
                    promised_before=horizon, after_id=after_id, limit=SCAN_PAGE)
            if not rows:
                break
            after_id = rows[-1]["id"]
            due = [(r, c) for r in rows for c in sla.evaluate(_clock(r), active, calendar, now)
                   if c.state is not SlaState.OK]
            report = replace(report, checked=report.checked + len(rows))
            if due:
                report = await _raise(uows, due, report)
            if len(rows) < SCAN_PAGE:
                break
    async with uows() as uow:
        repo = SlaRepo(uow.conn)
        resolved = 0
        for stage, statuses in sla.STAGE_STATUSES.items():
            running = sorted({s.value for s in statuses} | {Status.ON_HOLD.value})
            resolved += await repo.resolve_left(stage.value, running, uow.now())
        await uow.commit()
    return replace(report, resolved=resolved)


async def _raise(uows: UnitOfWorkFactory, due: list[tuple[dict[str, Any], sla.StageCheck]],
                 report: ScanReport) -> ScanReport:
    async with uows() as uow:
        now = uow.now()
        repo, outbox = SlaRepo(uow.conn), DeliveryRepo(uow.conn)
        at_risk = breached = 0
        for row, check in due:
            kind = check.state.value
            alert_id = await repo.add_alert({
                "order_number": row["number"], "stage": check.stage.value, "kind": kind,
                "role": check.role, "deadline": check.deadline, "created_at": now})
            if alert_id is None:
                continue  # fired before, by this worker or another
            at_risk += check.state is SlaState.AT_RISK
            breached += check.state is SlaState.BREACHED
            event_id = str(uuid.uuid4())
            await outbox.add_outbox(
                event_id=event_id, type=f"alert.sla_{kind}", order_number=row["number"],
                now=now, payload=envelope(
                    event_id=event_id, type=f"alert.sla_{kind}", occurred_at=now,
                    order_number=row["number"], actor="system:sla", reason=None,
                    data={"alert_id": alert_id, "stage": check.stage.value, "kind": kind,
                          "role": check.role, "deadline": check.deadline.isoformat(),
                          "promise": check.promise},
                    order=order_snapshot(row)))
        await uow.commit()
    return replace(report, at_risk=report.at_risk + at_risk,
                   breached=report.breached + breached)


def order_snapshot(r: dict[str, Any]) -> dict[str, Any]:
    """The order as an outbox payload carries it (the same shape order events use)."""
    return {"number": r["number"], "status": r["status"], "payment_status": r["payment_status"],
            "fulfillment_status": r["fulfillment_status"], "channel": r["channel"],
            "external_id": r["external_id"], "total": r["total"], "currency": r["currency"],
            "customer": {"name": r["customer_name"], "phone": r["customer_phone"],
                         "email": r["customer_email"]},
            "carrier": r["carrier"], "tracking_number": r["tracking_number"],
            "version": r["version"]}
