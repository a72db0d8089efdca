"""A customer who proved one order is theirs reaches that order and nothing else, through
every use case — not only through the portal's own routes."""

from __future__ import annotations

import pytest

from dingdan.domain.errors import Forbidden, IllegalTransition, NotFound
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.orders import Address, Customer
from dingdan.services import orders, portal, queries
from dingdan.store.uow import UnitOfWorkFactory
from people_support import World

MOVED = Address("李娜", "13912345678", "北京市", "北京市", "朝阳区", "建国路 88 号", "100022")


async def test_a_customer_reaches_only_their_own_order(uows: UnitOfWorkFactory) -> None:
    w = await World.create(uows)
    mine, theirs = await w.place(), await w.place()
    me = portal.customer_actor(mine, ip="203.0.113.7")
    page = await portal.status_page(mine, uows(read_only=True), actor=me)
    assert page.number == mine and page.status is Status.PENDING_PAYMENT
    with pytest.raises(NotFound):
        await portal.status_page(theirs, uows(read_only=True), actor=me)
    with pytest.raises(Forbidden):
        await portal.change_delivery_address(portal.ChangeDeliveryAddress(theirs, MOVED, me),
                                             uows())
    with pytest.raises(Forbidden):
        await orders.change_address(orders.ChangeAddress(theirs, MOVED, me), uows())
    with pytest.raises(NotFound):
        await portal.request_help(portal.RequestHelp(theirs, "question", "hi", me), uows())
    # and no back-office use case beyond the address change, even on their own order
    with pytest.raises(Forbidden):
        await queries.get_order(mine, uows(read_only=True), actor=me)
    with pytest.raises(Forbidden):  # no marking their own order paid
        await orders.change_status(orders.ChangeStatus(
            mine, Action.PAY, me, payment_reference="FAKE-1"), uows())
    with pytest.raises(Forbidden):  # nor cancelling someone else's
        await orders.change_status(orders.ChangeStatus(theirs, Action.CANCEL, me, "no"), uows())
    with pytest.raises(Forbidden):
        await orders.change_contact(orders.ChangeContact(
            theirs, Customer("x", "13900000000"), me), uows())
    with pytest.raises(Forbidden):
        await orders.add_note(orders.AddNote(mine, "note", me), uows())


async def test_the_customer_s_address_change_is_the_back_office_s(uows: UnitOfWorkFactory):
    w = await World.create(uows)
    number = await w.place()
    me = portal.customer_actor(number)
    version = await portal.change_delivery_address(
        portal.ChangeDeliveryAddress(number, MOVED, me), uows())
    async with uows(read_only=True) as uow:
        order = await uow.orders.get(number)
        state = await uow.orders.get_state(number)
        assert state is not None
        events = await uow.orders.timeline(state.id)
    assert order is not None and order["ship_street"] == "建国路 88 号"
    assert state.version == version
    changed = events[-1]
    assert changed["type"] == "order.address_changed" and changed["source"] == "portal"
    assert changed["data"]["after"]["ship_city"] == "北京市"
    await w.drive(number, Status.PICKING)
    with pytest.raises(IllegalTransition):
        await portal.change_delivery_address(
            portal.ChangeDeliveryAddress(number, MOVED, me), uows())
