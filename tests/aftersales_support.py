"""Shared set-up for after-sales tests that are about something else (permissions, audit):
cases walked to a status through the use cases, and two readable gateway fakes. The Alipay
adapter itself is tested against its local peer (``alipay_peer.py``)."""

from __future__ import annotations

from dingdan.adapters.payments.port import RefundAnswer, RefundRequest
from dingdan.domain.aftersales import CaseAction, CaseType, Condition, Reason
from dingdan.domain.complaints import Category, Channel
from dingdan.domain.events import SYSTEM
from dingdan.domain.lifecycle import Status
from dingdan.domain.refunds import Method
from dingdan.services import aftersales, complaints, refunds
from dingdan.services.sla import base_calendar
from dingdan.store.uow import UnitOfWorkFactory
from people_support import World

CALENDAR = base_calendar("Asia/Shanghai", "09:00", "18:00", [0, 1, 2, 3, 4])
INPUT = {"reason": "checked", "return_waybill": "SF1000000001"}


class AgreeingGateway:
    """A gateway that refunds whatever it is asked."""

    method = "alipay"

    async def refund(self, request: RefundRequest) -> RefundAnswer:
        return RefundAnswer(True, reference=f"T{request.request_no}")


class UnavailableGateway:
    """A gateway that never answers usefully (a retry may help)."""

    method = "alipay"

    async def refund(self, request: RefundRequest) -> RefundAnswer:
        return RefundAnswer(False, error="20000 isp.unknow-error", retryable=True)


async def case_after(w: World, *actions: CaseAction,
                     type: CaseType = CaseType.RETURN_REFUND) -> str:
    """A case on a delivered order of ``w``, with ``actions`` taken by the system."""
    number = await w.order_in(Status.DELIVERED)
    case = await aftersales.open_case(aftersales.OpenCase(
        number, type, Reason.DEFECTIVE, (aftersales.CaseLine(1, 1),)), w.uows(), actor=SYSTEM)
    for action in actions:
        conditions = {1: Condition.GOOD} if action is CaseAction.INSPECT else {}
        await aftersales.act_on_case(aftersales.ActOnCase(
            case, action, SYSTEM, conditions=conditions, **INPUT), w.uows())
    return case


async def failed_refund(w: World) -> int:
    number = await w.order_in(Status.PAID)
    refund = await refunds.issue_refund(refunds.IssueRefund(
        number, Method.ALIPAY, SYSTEM, amount=100), w.uows, {"alipay": UnavailableGateway()})
    assert refund["status"] == "failed"
    return int(refund["id"])


async def complaint_on(w: World, uows: UnitOfWorkFactory) -> str:
    number = await w.order_in(Status.DELIVERED)
    return await complaints.open_complaint(complaints.OpenComplaint(
        number, Category.DAMAGED, Channel.PHONE, "杯子碎了"), uows(), actor=SYSTEM,
        calendar=CALENDAR)
