"""The demo's review: the shipped rule set published and switched on, a VIP customer with
credit terms and a blocked one, and the rules run over some of the paid orders that wait —
so the review queue shows reasons, an order page its trace, a customer page its history."""

from __future__ import annotations

from sqlalchemy import select

from dingdan.domain.review import DEFAULT_RULES
from dingdan.services import customers, review
from dingdan.services.demo import people
from dingdan.store.tables import orders
from dingdan.store.tables_review import customer_orders
from dingdan.store.uow import UnitOfWorkFactory

RUNS = 12  # paid orders the rules look at; the rest stay in the "paid" tab


async def review_demo(uows: UnitOfWorkFactory, switch_on: bool = True) -> int:
    """Set up the review once (a second load adds nothing); how many orders the rules ran on.
    ``switch_on`` False publishes the rules switched off (a database other tests share)."""
    async with uows(read_only=True) as uow:
        if await uow.review.current_rules() is not None:
            return 0
        paid = [(r.number, r.customer_id) for r in await uow.conn.execute(
            select(orders.c.number, customer_orders.c.customer_id)
            .select_from(orders.join(customer_orders,
                                     customer_orders.c.order_id == orders.c.id))
            .where(orders.c.status == "paid").order_by(orders.c.placed_at, orders.c.id))]
    await review.publish_rules(review.PublishRules(list(DEFAULT_RULES), switch_on, people.SETUP, 0),
                               uows())
    if not paid:
        return 0
    blocked, vip = paid[0][1], paid[-1][1]
    await customers.update_customer(customers.UpdateCustomer(
        blocked, {"blocked": True, "blocked_reason": "多次拒收货到付款订单"}, people.SETUP),
        uows())
    if vip != blocked:
        await customers.update_customer(customers.UpdateCustomer(
            vip, {"tier": "vip", "credit_limit": 1_000_000, "notes": "企业采购，月结"},
            people.SETUP), uows())
    # all but the last (the "paid, not reviewed" tab keeps it), at most RUNS
    chosen = [number for number, _ in paid[:-1]][:RUNS]
    for number in chosen:
        await review.run_rules(review.RunRules(number, people.SETUP), uows())
    return len(chosen)
