"""The operational figures a monitor scrapes (``/metrics``): each one an indexed count or
minimum, so a scrape stays cheap on a million orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import orders, outbox
from dingdan.store.tables_delivery import alerts, deliveries


@dataclass(frozen=True)
class OpsFigures:
    orders_last_minute: int
    outbox_unpublished: int
    outbox_oldest: datetime | None  # created_at of the oldest unpublished row
    deliveries_pending: int
    deliveries_dead: int
    alerts_open: dict[str, int]  # kind (at_risk, breached) → open alerts


class OpsRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def figures(self, now: datetime) -> OpsFigures:
        c = self.conn
        placed = await c.scalar(select(func.count()).select_from(orders)
                                .where(orders.c.placed_at >= now - timedelta(minutes=1)))
        unpublished = (await c.execute(
            select(func.count(), func.min(outbox.c.created_at))
            .where(outbox.c.published_at.is_(None)))).one()
        by_status: dict[str, int] = dict((await c.execute(
            select(deliveries.c.status, func.count())
            .where(deliveries.c.status.in_(("pending", "dead")))
            .group_by(deliveries.c.status))).all())
        open_alerts: dict[str, int] = dict((await c.execute(
            select(alerts.c.kind, func.count()).where(alerts.c.resolved_at.is_(None))
            .group_by(alerts.c.kind))).all())
        return OpsFigures(
            orders_last_minute=int(placed or 0), outbox_unpublished=int(unpublished[0]),
            outbox_oldest=unpublished[1], deliveries_pending=int(by_status.get("pending", 0)),
            deliveries_dead=int(by_status.get("dead", 0)),
            alerts_open={str(k): int(v) for k, v in open_alerts.items()})
