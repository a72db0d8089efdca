"""The demo's after-sales: returns, claims and complaints on recently delivered orders, each
walked some way along its lifecycle by the demo's staff, so the queues and case pages show
something real. Through the ordinary use cases; deterministic from the seed.

Runs once: if the database has after-sales cases already, it adds nothing. The events are
made-up history, so their outbox rows are marked handled (nobody is told), as for orders.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from dingdan.domain.aftersales import CaseAction, CaseType, Condition, Reason
from dingdan.domain.complaints import Category, Channel, ComplaintAction
from dingdan.domain.errors import DomainError
from dingdan.domain.events import Actor
from dingdan.domain.lifecycle import Status
from dingdan.domain.refunds import Method
from dingdan.services import aftersales, complaints, refunds
from dingdan.services.sla import base_calendar
from dingdan.store.deliveries import DeliveryRepo
from dingdan.store.tables import orders, outbox
from dingdan.store.tables_aftersales import aftersales_cases
from dingdan.store.uow import UnitOfWorkFactory

CALENDAR = base_calendar("Asia/Shanghai", "09:00", "18:00", [0, 1, 2, 3, 4])
CASES = 24
COMPLAINTS = 12
# How far each demo case goes, and of what type.
_PATHS: tuple[tuple[CaseType, Reason, tuple[CaseAction, ...]], ...] = (
    (CaseType.RETURN_REFUND, Reason.WRONG_SIZE, ()),
    (CaseType.RETURN_REFUND, Reason.CHANGED_MIND, (CaseAction.APPROVE,)),
    (CaseType.RETURN_REFUND, Reason.DEFECTIVE, (CaseAction.APPROVE, CaseAction.SEND_BACK)),
    (CaseType.RETURN_REFUND, Reason.NOT_AS_DESCRIBED,
     (CaseAction.APPROVE, CaseAction.SEND_BACK, CaseAction.RECEIVE, CaseAction.INSPECT)),
    (CaseType.RETURN_REFUND, Reason.DEFECTIVE,
     (CaseAction.APPROVE, CaseAction.SEND_BACK, CaseAction.RECEIVE, CaseAction.INSPECT,
      CaseAction.REFUND)),
    (CaseType.CLAIM, Reason.DAMAGED, (CaseAction.APPROVE, CaseAction.REFUND, CaseAction.CLOSE)),
    (CaseType.EXCHANGE, Reason.WRONG_SIZE, (CaseAction.APPROVE, CaseAction.SEND_BACK)),
    (CaseType.REFUND_ONLY, Reason.MISSING_ITEM, (CaseAction.DECLINE,)),
)
_SUMMARIES = {Category.LATE_DELIVERY: "快递三天没有更新", Category.DAMAGED: "外包装破损",
              Category.SERVICE_ATTITUDE: "客服回复太慢", Category.QUALITY: "用了两天就坏了",
              Category.WRONG_ITEM: "颜色发错了", Category.MISSING: "少了一件"}


async def load_aftersales(uows: UnitOfWorkFactory, staff: dict[str, Actor],
                          seed: int) -> tuple[int, int]:
    """Open the demo's cases and complaints; returns how many of each were made."""
    async with uows(read_only=True) as uow:
        if (await uow.conn.execute(select(func.count()).select_from(aftersales_cases))
                ).scalar_one():
            return 0, 0
        now = uow.now()
        recent = [r[0] for r in await uow.conn.execute(
            select(orders.c.number).where(
                orders.c.status.in_([Status.DELIVERED.value, Status.COMPLETED.value]),
                orders.c.delivered_at > now - timedelta(days=6))
            .order_by(orders.c.delivered_at.desc()).limit(CASES + COMPLAINTS))]
    rng = random.Random(seed)
    service, finance, manager = staff["陈静"], staff["孙丽"], staff["吴建国"]
    made_cases = made_complaints = 0
    for i, number in enumerate(recent[::2][:CASES]):  # every other one; the rest complain
        type, reason, path = _PATHS[i % len(_PATHS)]
        try:
            case = await aftersales.open_case(aftersales.OpenCase(
                number, type, reason, (aftersales.CaseLine(1, 1),),
                description="演示：顾客来电说明情况"), uows(), actor=service)
            for action in path:
                if action is CaseAction.REFUND:
                    await refunds.issue_refund(refunds.IssueRefund(
                        number, Method.MANUAL, finance, reference=f"DEMO-{rng.randrange(10**6)}",
                        case_number=case), uows, {})
                    continue
                await aftersales.act_on_case(aftersales.ActOnCase(
                    case, action, manager, reason="演示" if action is CaseAction.DECLINE
                    else None, return_waybill=f"SF{rng.randrange(10**12):012d}",
                    conditions={1: rng.choice([Condition.GOOD, Condition.GOOD,
                                               Condition.DAMAGED])}), uows())
        except DomainError:
            continue  # an order whose line is not eligible: the demo moves on
        made_cases += 1
    categories = list(_SUMMARIES)
    for i, number in enumerate(recent[1::2][:COMPLAINTS]):
        category = categories[i % len(categories)]
        c = await complaints.open_complaint(complaints.OpenComplaint(
            number, category, rng.choice(list(Channel)), _SUMMARIES[category]), uows(),
            actor=service, calendar=CALENDAR)
        if i % 3:
            await complaints.reply(complaints.Reply(c, "非常抱歉，我们正在处理。", service), uows())
        if i % 3 == 2:
            await complaints.act_on_complaint(complaints.ActOnComplaint(
                c, ComplaintAction.RESOLVE, service, resolution="已补发并致歉"), uows())
        made_complaints += 1
    await _silence(uows, recent)
    return made_cases, made_complaints


async def _silence(uows: UnitOfWorkFactory, numbers: list[str]) -> None:
    async with uows() as uow:
        ids = [r[0] for r in await uow.conn.execute(
            select(outbox.c.id).where(outbox.c.order_number.in_(numbers),
                                      outbox.c.published_at.is_(None)))]
        await DeliveryRepo(uow.conn).mark_published(ids, uow.now())
        await uow.commit()
