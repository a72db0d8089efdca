"""The customers' own pages in the demo: a few customers moved their delivery address before
picking, and a few asked for help after delivery — through the portal's use cases, as
customer actors, so the back office's timelines show ``source=portal``. Idempotent: an order
that already has a portal event is left alone."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from dingdan.domain.lifecycle import Status
from dingdan.domain.orders import Address
from dingdan.services import portal
from dingdan.services.demo.people import home_street
from dingdan.store.tables import orders
from dingdan.store.uow import UnitOfWork

MOVES = 4
HELP = 4
HELP_TEXTS = (("delivery", "快递放在了驿站，能否改为送货上门？"),
              ("return", "尺码偏小，想退货，请问怎么寄回？"),
              ("exchange", "颜色和图片不一样，想换一个。"),
              ("question", "发票抬头能改成公司名称吗？"))


async def _untouched(uows: Callable[[], UnitOfWork], seed: int, statuses: tuple[Status, ...],
                     limit: int) -> list[dict[str, object]]:
    """The demo's own orders (by their idempotency keys: never a real customer's) in these
    statuses that no customer has touched yet."""
    async with uows() as uow:
        rows = [dict(r._mapping) for r in await uow.conn.execute(
            select(orders.c.id, orders.c.number)
            .where(orders.c.idempotency_key.like(f"demo-{seed}-%"),
                   orders.c.status.in_([s.value for s in statuses]))
            .order_by(orders.c.number).limit(limit * 3))]
        out = []
        for row in rows:
            events = await uow.orders.timeline(int(row["id"]))
            if not any(e["source"] == portal.SOURCE for e in events):
                out.append(row)
        await uow.commit()  # nothing written: ends the unit of work
    return out[:limit]


async def add_portal_activity(uows: Callable[[], UnitOfWork], rng: random.Random, seed: int,
                              tick: Callable[[timedelta], None]) -> list[str]:
    """Address changes and help requests by customers, each ``tick`` after the last; the
    orders they touched."""
    made = []
    for row in await _untouched(uows, seed, (Status.PAID, Status.APPROVED, Status.ALLOCATED),
                                MOVES):
        number = str(row["number"])
        async with uows() as uow:
            order = await uow.orders.get(number)
            await uow.commit()
        assert order is not None
        moved = Address(order["ship_recipient"], order["ship_phone"], order["ship_province"],
                        order["ship_city"], order["ship_district"], home_street(rng),
                        order["ship_postcode"])
        tick(timedelta(seconds=1))
        await portal.change_delivery_address(portal.ChangeDeliveryAddress(
            number, moved, portal.customer_actor(number)), uows())
        made.append(number)
    for i, row in enumerate(await _untouched(uows, seed, (Status.DELIVERED,), HELP)):
        number = str(row["number"])
        topic, text = HELP_TEXTS[i % len(HELP_TEXTS)]
        tick(timedelta(seconds=1))
        await portal.request_help(portal.RequestHelp(number, topic, text,
                                                     portal.customer_actor(number)), uows())
        made.append(number)
    return made
