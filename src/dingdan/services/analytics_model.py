"""Keeping the analytics read model up to date from the order-event timeline.

A system job (the worker runs :func:`refresh` every minute; ``dingdan analytics rebuild``
runs :func:`rebuild`), not a person's use case: it changes no business fact and reads no
personal data into the model. Each batch reads the events after the cursor, recomputes the
measures of every order they touch from that order's *whole* timeline, adds the difference
to the sums and moves the cursor — in one transaction, so a crash repeats a batch instead of
counting it twice. Recomputing an order is idempotent, which is what makes the refreshed
model equal to a rebuilt one (``tests/integration/test_analytics_model.py``).

On PostgreSQL, a transaction may take a lower event id and commit after a higher one; each
refresh therefore also re-reads the orders touched in the last few minutes below the cursor
(:data:`GRACE`, within the last :data:`GRACE_EVENTS` ids). The cursor row is locked for the
batch, so two workers never add the same change twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo

import structlog

from dingdan.domain.analytics import Measures, Rollup, delta, measure
from dingdan.store.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("dingdan.analytics")
BATCH_EVENTS = 5000
GRACE = timedelta(minutes=5)
GRACE_EVENTS = 50_000  # how far below the cursor that re-read looks, at most


@dataclass(frozen=True)
class RefreshReport:
    orders: int  # orders recomputed
    batches: int
    last_event_id: int


async def refresh(uows: UnitOfWorkFactory, tz: tzinfo, batch: int = BATCH_EVENTS,
                  max_batches: int | None = None) -> RefreshReport:
    """Bring the read model up to the end of the timeline (or ``max_batches`` batches)."""
    done = batches = 0
    last = 0
    while max_batches is None or batches < max_batches:
        async with uows() as uow:
            last, refreshed_at = await uow.analytics.lock_cursor(uow.now())
            ids, upto = await uow.analytics.orders_touched(last, batch)
            if batches == 0 and refreshed_at is not None and uow.dialect != "sqlite":
                again = await uow.analytics.orders_touched_since(refreshed_at - GRACE, last,
                                                                 GRACE_EVENTS)
                ids = sorted(set(ids) | set(again))
            if not ids:
                break
            done += await _recompute(uow, ids, tz)
            await uow.analytics.set_cursor(upto, uow.now())
            await uow.commit()
        batches += 1
        last = upto
    if done:
        log.info("analytics refreshed", orders=done, batches=batches, last_event_id=last)
    return RefreshReport(done, batches, last)


async def rebuild(uows: UnitOfWorkFactory, tz: tzinfo,
                  batch: int = BATCH_EVENTS) -> RefreshReport:
    """Forget the read model and build it again from the whole timeline."""
    async with uows() as uow:
        await uow.analytics.clear()
        await uow.commit()
    return await refresh(uows, tz, batch)


async def _recompute(uow: UnitOfWork, order_ids: list[int], tz: tzinfo) -> int:
    found = await uow.analytics.facts_and_events(order_ids)
    old = await uow.analytics.measures(order_ids)
    change = Rollup.empty()
    changed: dict[int, Measures] = {}
    for order_id, (facts, events) in found.items():
        if not events:
            continue
        new = measure(facts, events, tz)
        if old.get(order_id) != new:
            change.add(delta(old.get(order_id), new))
            changed[order_id] = new
    await uow.analytics.save_measures(changed, old.keys(), uow.now())
    await uow.analytics.add(change.pruned())
    return len(changed)
