"""After-sales through the use cases on a real database, refunds through the Alipay adapter
against a local gateway that speaks ``alipay.trade.refund``: a return followed to the refund
(money, stock and order status agree), a gateway failure and its retry, a cancelled paid
order refunded, and a complaint's missed deadline escalated under a controlled clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from alipay_peer import AlipayGateway, new_key, private_pem, public_pem
from conftest import Clock, ref
from dingdan.adapters.netguard import guarded_client
from dingdan.adapters.payments.alipay import AlipayRefunds
from dingdan.domain.aftersales import CaseAction, CaseType, Condition, Reason
from dingdan.domain.complaints import Category, Channel, ComplaintStatus
from dingdan.domain.errors import IllegalTransition, ValidationFailed
from dingdan.domain.events import SYSTEM
from dingdan.domain.inventory import MovementKind
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.orders import LineDraft, OrderDraft
from dingdan.domain.refunds import Method
from dingdan.services import aftersales, catalogue, complaints, inventory, orders, refunds, users
from dingdan.services._cases import CustomerProof
from dingdan.services.sla import base_calendar
from dingdan.store.tables import outbox, stock, stock_movements
from dingdan.store.tables_aftersales import aftersales_cases
from dingdan.store.uow import UnitOfWorkFactory
from peers import LocalHttpServer, loopback_guard
from people_support import ADDRESS, CUSTOMER, PATHS, World, actor_of

CS = actor_of("customer_service")
FINANCE = actor_of("finance")
WAREHOUSE = actor_of("warehouse")
CALENDAR = base_calendar("Asia/Shanghai", "09:00", "18:00", [0, 1, 2, 3, 4])
APP_ID = "2021000000000001"


@pytest.fixture
def alipay() -> Iterator[tuple[AlipayGateway, LocalHttpServer, dict[str, str]]]:
    merchant = new_key()
    gateway = AlipayGateway(APP_ID, merchant.public_key())
    with LocalHttpServer(gateway.handle) as server:
        yield gateway, server, {"private": private_pem(merchant),
                                "alipay_public": public_pem(gateway.alipay_key)}


@pytest.fixture
async def gateways(alipay: Any) -> AsyncIterator[dict[str, AlipayRefunds]]:
    _, server, keys = alipay
    async with guarded_client(loopback_guard()) as client:
        yield {"alipay": AlipayRefunds(app_id=APP_ID, private_key_pem=keys["private"],
                                       alipay_public_key_pem=keys["alipay_public"],
                                       client=client, gateway=server.url("/gateway.do"))}


async def _delivered_order(uows: UnitOfWorkFactory, w: World, *lines: tuple[str, int]) -> str:
    draft = OrderDraft("api", CUSTOMER, ADDRESS, tuple(LineDraft(s, q) for s, q in lines),
                       payment_method="alipay", external_id=ref("EXT"))
    number = (await orders.place_order(orders.PlaceOrder(draft, SYSTEM), uows())).number
    await w.drive(number, Status.DELIVERED)
    return number


async def _product(uows: UnitOfWorkFactory, w: World, price: int) -> str:
    sku = ref("CUP")
    await catalogue.create_product(catalogue.ProductFields(sku, "保温杯", price), uows(),
                                   actor=SYSTEM)
    await inventory.move_stock(inventory.MoveStock(sku, w.warehouse, 50, MovementKind.RECEIPT,
                                                   "opening stock", SYSTEM), uows())
    return sku


async def _on_hand(uows: UnitOfWorkFactory, sku: str) -> tuple[int, int]:
    """(on hand, the ledger's sum) of one SKU: they must agree."""
    async with uows(read_only=True) as uow:
        on_hand = (await uow.conn.execute(select(func.sum(stock.c.on_hand))
                                          .where(stock.c.sku == sku))).scalar_one()
        ledger = (await uow.conn.execute(select(func.sum(stock_movements.c.quantity))
                                         .where(stock_movements.c.sku == sku))).scalar_one()
    return int(on_hand), int(ledger)


async def _outbox_types(uows: UnitOfWorkFactory, order_number: str) -> list[str]:
    async with uows(read_only=True) as uow:
        rows = await uow.conn.execute(select(outbox.c.type).where(
            outbox.c.order_number == order_number).order_by(outbox.c.id))
        return [r[0] for r in rows]


async def test_a_return_is_followed_to_the_refund_and_money_stock_and_status_agree(
        uows: UnitOfWorkFactory, clock: Clock, alipay: Any, gateways: Any) -> None:
    peer, _, _ = alipay
    w = await World.create(uows)
    a, b = await _product(uows, w, 5900), await _product(uows, w, 3000)
    number = await _delivered_order(uows, w, (a, 2), (b, 1))
    peer.trades[number] = Decimal("148.00")
    proof = CustomerProof(number, "13800138000")
    clock.advance(days=3)

    # An order's lines are numbered in SKU order, and the SKUs are random here.
    line_a, line_b = (1, 2) if a < b else (2, 1)
    case = await aftersales.open_case_as_customer(aftersales.OpenCase(
        number, CaseType.RETURN_REFUND, Reason.DEFECTIVE,
        (aftersales.CaseLine(line_a, 2), aftersales.CaseLine(line_b, 1))), uows(), proof=proof)
    await aftersales.act_on_case(aftersales.ActOnCase(case, CaseAction.APPROVE, CS), uows())
    await aftersales.act_on_case_as_customer(case, CaseAction.SEND_BACK, uows(), proof=proof,
                                             return_waybill="SF2026120200001")
    await aftersales.act_on_case(aftersales.ActOnCase(case, CaseAction.RECEIVE, WAREHOUSE),
                                 uows())
    before = await _on_hand(uows, a), await _on_hand(uows, b)
    await aftersales.act_on_case(aftersales.ActOnCase(
        case, CaseAction.INSPECT, WAREHOUSE,
        conditions={line_a: Condition.GOOD, line_b: Condition.DAMAGED}), uows())
    # good goods back on hand with a return movement; damaged ones quarantined, not sellable
    assert await _on_hand(uows, a) == (before[0][0] + 2, before[0][1] + 2)
    assert await _on_hand(uows, b) == before[1]
    for sku in (a, b):
        on_hand, ledger = await _on_hand(uows, sku)
        assert on_hand == ledger

    refund = await refunds.issue_refund(refunds.IssueRefund(
        number, Method.ALIPAY, FINANCE, case_number=case, reason="质量问题"), uows, gateways)
    assert refund["status"] == "succeeded" and refund["amount"] == 14800
    assert peer.refunded[number] == Decimal("148.00")
    shown = await aftersales.get_case(case, uows(read_only=True), actor=CS)
    assert shown["status"] == "refunded" and shown["allowed_actions"] == ["close"]
    money = await refunds.order_refunds(number, uows(read_only=True), actor=FINANCE)
    assert (money["paid"], money["refunded"], money["refundable"]) == (14800, 14800, 0)
    assert money["payment_status"] == "refunded"
    types = await _outbox_types(uows, number)
    assert [t for t in types if t.startswith(("aftersales.", "refund.", "order.refunded"))] == [
        "aftersales.requested", "aftersales.approved", "aftersales.sent_back",
        "aftersales.received", "aftersales.inspected", "refund.requested",
        "order.refunded", "aftersales.refunded", "refund.succeeded"]

    # refunding again is refused before any call: the case is no longer awaiting its refund
    calls = len(peer.requests_done)
    with pytest.raises(IllegalTransition):
        await refunds.issue_refund(refunds.IssueRefund(
            number, Method.ALIPAY, FINANCE, case_number=case), uows, gateways)
    assert len(peer.requests_done) == calls


async def test_a_gateway_failure_leaves_the_refund_failed_and_a_retry_refunds_once(
        uows: UnitOfWorkFactory, alipay: Any, gateways: Any) -> None:
    peer, server, _ = alipay
    w = await World.create(uows)
    sku = await _product(uows, w, 10000)
    number = await _delivered_order(uows, w, (sku, 1))
    peer.trades[number] = Decimal("100.00")
    peer.fail_next = 1

    failed = await refunds.issue_refund(refunds.IssueRefund(
        number, Method.ALIPAY, FINANCE, amount=4000, reason="goodwill"), uows, gateways)
    assert failed["status"] == "failed" and "20000" in failed["last_error"]
    money = await refunds.order_refunds(number, uows(read_only=True), actor=FINANCE)
    assert money["payment_status"] == "paid" and money["refundable"] == 10000

    done = await refunds.retry_refund(refunds.RetryRefund(failed["id"], FINANCE), uows,
                                      gateways)
    assert done["status"] == "succeeded" and done["attempts"] == 2
    sent = [r for r in server.requests if r.method == "POST"]
    assert len(sent) == 2 and "out_request_no" in sent[0].body.decode()
    assert peer.refunded[number] == Decimal("40.00")
    money = await refunds.order_refunds(number, uows(read_only=True), actor=FINANCE)
    assert money["payment_status"] == "partially_refunded" and money["refundable"] == 6000

    # a retry of a refund that went through is out of turn
    with pytest.raises(IllegalTransition):
        await refunds.retry_refund(refunds.RetryRefund(failed["id"], FINANCE), uows, gateways)


async def test_a_refund_larger_than_what_is_left_is_refused_and_nothing_is_asked(
        uows: UnitOfWorkFactory, alipay: Any, gateways: Any) -> None:
    _, server, _ = alipay
    w = await World.create(uows)
    number = await _delivered_order(uows, w, (await _product(uows, w, 5000), 1))
    with pytest.raises(ValidationFailed) as err:
        await refunds.issue_refund(refunds.IssueRefund(
            number, Method.ALIPAY, FINANCE, amount=5001), uows, gateways)
    assert err.value.details[0].code == "exceeds_paid"
    assert server.requests == []


async def test_a_cancelled_paid_order_shows_refund_due_then_refunded(
        uows: UnitOfWorkFactory, gateways: Any) -> None:
    w = await World.create(uows)
    number = await w.place()
    await w.drive(number, Status.PAID)
    await orders.change_status(orders.ChangeStatus(number, Action.CANCEL, SYSTEM,
                                                   reason="out of stock"), uows())
    money = await refunds.order_refunds(number, uows(read_only=True), actor=FINANCE)
    assert money["payment_status"] == "refund_due" and money["refundable"] == 5900
    refund = await refunds.issue_refund(refunds.IssueRefund(
        number, Method.MANUAL, FINANCE, reference="ICBC-20261202-0042"), uows, gateways)
    assert refund["status"] == "succeeded" and refund["amount"] == 5900
    money = await refunds.order_refunds(number, uows(read_only=True), actor=FINANCE)
    assert money["payment_status"] == "refunded" and money["refundable"] == 0


async def _case_rows(uows: UnitOfWorkFactory) -> int:
    async with uows(read_only=True) as uow:
        return int((await uow.conn.execute(select(func.count()).select_from(aftersales_cases))
                    ).scalar_one())


async def test_bad_requests_are_refused_and_change_nothing(uows: UnitOfWorkFactory,
                                                           clock: Clock) -> None:
    w = await World.create(uows)
    sku = await _product(uows, w, 5900)
    number = await _delivered_order(uows, w, (sku, 2))
    before = await _case_rows(uows)
    with pytest.raises(ValidationFailed) as err:  # more than was delivered
        await aftersales.open_case(aftersales.OpenCase(
            number, CaseType.RETURN_REFUND, Reason.CHANGED_MIND, (aftersales.CaseLine(1, 3),)),
            uows(), actor=CS)
    assert err.value.details[0].code == "exceeds_delivered"
    clock.advance(days=8)  # past the seven days
    with pytest.raises(ValidationFailed) as err:
        await aftersales.open_case(aftersales.OpenCase(
            number, CaseType.RETURN_REFUND, Reason.CHANGED_MIND, (aftersales.CaseLine(1, 1),)),
            uows(), actor=CS)
    assert err.value.details[0].code == "outside_window"
    assert await _case_rows(uows) == before

    # a longer window for this product is data, not code
    await aftersales.put_return_rule(aftersales.PutReturnRule(sku, 15, True,
                                                              actor_of("manager")), uows())
    case = await aftersales.open_case(aftersales.OpenCase(
        number, CaseType.RETURN_REFUND, Reason.CHANGED_MIND, (aftersales.CaseLine(1, 1),)),
        uows(), actor=CS)
    with pytest.raises(IllegalTransition):  # received before it was approved
        await aftersales.act_on_case(aftersales.ActOnCase(case, CaseAction.RECEIVE, WAREHOUSE),
                                     uows())
    with pytest.raises(ValidationFailed):  # declining needs a reason
        await aftersales.act_on_case(aftersales.ActOnCase(case, CaseAction.DECLINE, CS), uows())
    shown = await aftersales.get_case(case, uows(read_only=True), actor=CS)
    assert shown["status"] == "requested" and shown["version"] == 1
    assert [e["type"] for e in shown["timeline"]] == ["aftersales.requested"]
    # someone else's contact is no proof: "not found", as for no such order
    with pytest.raises(Exception) as denied:
        await aftersales.customer_cases(uows(read_only=True),
                                        proof=CustomerProof(number, "13900000000"))
    assert type(denied.value).__name__ == "NotFound"


async def test_a_missed_first_response_is_escalated_once_and_the_reply_reaches_the_outbox(
        uows: UnitOfWorkFactory, clock: Clock) -> None:
    w = await World.create(uows)
    person = await users.create_user(users.CreateUser(users.UserFields(
        "王芳", f"{ref().lower()}@example.com", roles=frozenset({"customer_service"})), SYSTEM),
        uows())
    number = await w.order_in(Status.DELIVERED)
    assert PATHS  # the World drives orders along the table's own paths
    complaint = await complaints.open_complaint_as_customer(complaints.OpenComplaint(
        number, Category.LATE_DELIVERY, Channel.PORTAL, "快递一周没到", message="请尽快处理"),
        uows(), proof=CustomerProof(number, "zhang.wei@example.com"), calendar=CALENDAR)
    shown = await complaints.get_complaint(complaint, uows(read_only=True), actor=CS)
    assert shown["status"] == ComplaintStatus.OPEN and shown["owner_role"] == "customer_service"
    assert shown["owner_id"] is not None
    assert (await complaints.scan_breaches(uows)).breached == []

    clock.advance(days=1)  # a working day later: the first-response hour is long gone
    report = await complaints.scan_breaches(uows)
    assert (complaint, "first_response") in report.breached
    assert (await complaints.scan_breaches(uows)).breached == []  # alerted once
    shown = await complaints.get_complaint(complaint, uows(read_only=True), actor=CS)
    assert shown["escalated_at"] is not None and "first_response" in shown["breaches"]

    await complaints.reply(complaints.Reply(complaint, "非常抱歉，已联系快递加急。", CS), uows())
    shown = await complaints.get_complaint(complaint, uows(read_only=True), actor=CS)
    assert shown["status"] == ComplaintStatus.IN_PROGRESS
    assert [m["direction"] for m in shown["messages"]] == ["from_customer", "to_customer"]
    types = await _outbox_types(uows, number)
    assert types.count("complaint.sla_breached") >= 1
    assert types[-2:] == ["complaint.replied", "complaint.responded"]
    assert person["id"]
