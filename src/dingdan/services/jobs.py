"""Timed jobs: payment timeouts, auto-completion, the dead-letter digest, and the tick claim
that makes each run once per tick however many workers run.

Each order is changed through :func:`dingdan.services.orders.change_status`, in its own
transaction, so a timeout releases stock and tells the customer exactly as a person's
cancel would; an order that someone paid (or changed) in the meantime is simply skipped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from dingdan.domain.errors import IllegalTransition, NotFound, VersionConflict
from dingdan.domain.events import SYSTEM
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.notifications import Kind
from dingdan.domain.outbox import envelope
from dingdan.services.orders import ChangeStatus, change_status
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.sla import SlaRepo
from dingdan.store.uow import UnitOfWorkFactory

log = structlog.get_logger("dingdan.jobs")
BATCH = 200


def tick_of(now: datetime, interval_seconds: int) -> datetime:
    """The start of the tick ``now`` falls in (ticks are aligned to the Unix epoch)."""
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % interval_seconds, now.tzinfo)


async def claim_tick(uows: UnitOfWorkFactory, job: str, tick: datetime, owner: str) -> bool:
    """True for exactly one caller per (job, tick); old ticks are pruned on the way."""
    async with uows() as uow:
        repo = SlaRepo(uow.conn)
        won = await repo.claim_tick(job, tick.isoformat(timespec="seconds"), owner, uow.now())
        if won:
            await repo.prune_ticks(uow.now() - timedelta(days=7))
        await uow.commit()
    return won


@dataclass(frozen=True)
class JobReport:
    done: int = 0
    skipped: int = 0


async def _walk(uows: UnitOfWorkFactory, numbers: list[str], action: Action,
                reason: str) -> JobReport:
    done = skipped = 0
    for number in numbers:
        try:
            await change_status(ChangeStatus(number, action, SYSTEM, reason=reason), uows())
            done += 1
        except (IllegalTransition, VersionConflict, NotFound):
            skipped += 1  # someone acted on the order since we looked: theirs wins
    if done:
        log.info("orders moved by a timed job", action=action.value, count=done)
    return JobReport(done, skipped)


async def cancel_unpaid_orders(uows: UnitOfWorkFactory, minutes: int,
                               batch: int = BATCH) -> JobReport:
    """Cancel orders left unpaid for ``minutes`` (stock released, customer told).

    Cash-on-delivery orders are not waiting for a payment, so they are left alone.
    """
    async with uows(read_only=True) as uow:
        before = uow.now() - timedelta(minutes=minutes)
        numbers = await SlaRepo(uow.conn).numbers_in_status(
            Status.PENDING_PAYMENT.value, column="placed_at", before=before, limit=batch,
            exclude_payment_methods=("cod",))
    return await _walk(uows, numbers, Action.TIMEOUT,
                       f"payment not received within {minutes} minutes")


async def complete_delivered_orders(uows: UnitOfWorkFactory, days: int,
                                    batch: int = BATCH) -> JobReport:
    """Complete orders delivered ``days`` ago (the customer's window to object has passed)."""
    async with uows(read_only=True) as uow:
        before = uow.now() - timedelta(days=days)
        numbers = await SlaRepo(uow.conn).numbers_in_status(
            Status.DELIVERED.value, column="delivered_at", before=before, limit=batch)
    return await _walk(uows, numbers, Action.COMPLETE, f"delivered {days} days ago")


async def dead_letter_digest(uows: UnitOfWorkFactory, since: datetime,
                             until: datetime) -> int:
    """One staff message about the messages that went dead in [since, until), if any —
    a digest, so a long outage does not become thousands of emails."""
    async with uows() as uow:
        repo = DeliveryRepo(uow.conn)
        counts = await repo.dead_counts(since, until, Kind.DEAD_LETTER.value)
        total = sum(counts.values())
        if total:
            event_id = str(uuid.uuid4())
            now = uow.now()
            await repo.add_outbox(event_id=event_id, type="staff.dead_letters",
                                  order_number=None, now=now, payload=envelope(
                                      event_id=event_id, type="staff.dead_letters",
                                      occurred_at=now, order_number=None,
                                      actor="system:worker", reason=None,
                                      data={"total": total, "by_channel": counts,
                                            "since": since.isoformat(),
                                            "until": until.isoformat()}))
        await uow.commit()
    return total
