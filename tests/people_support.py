"""Set-up for the permission and audit tests: a small world of a warehouse, a product with
stock, and orders driven to any status by the system, through the real use cases."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from conftest import ref
from dingdan.domain import lifecycle
from dingdan.domain.events import SYSTEM, Actor, ActorKind
from dingdan.domain.inventory import MovementKind
from dingdan.domain.lifecycle import Action, Status
from dingdan.domain.orders import Address, Customer, LineDraft, OrderDraft
from dingdan.domain.permissions import Role
from dingdan.services import catalogue, inventory, orders
from dingdan.services.passwords import Passwords
from dingdan.store.uow import UnitOfWorkFactory

# Argon2 with test-sized parameters (the real ones take a good part of a second here).
CHEAP = Passwords(time_cost=1, memory_kib=8192, parallelism=1)
ADDRESS = Address("张伟", "13800138000", "上海市", "上海市", "浦东新区", "世纪大道 100 号",
                  "200120")
CUSTOMER = Customer("张伟", "13800138000", "zhang.wei@example.com")

# What each action needs to be accepted (a reason, a payment reference, a carrier…).
ACTION_INPUT: dict[Action, dict[str, Any]] = {
    Action.PAY: {"payment_reference": "PAY-1"},
    Action.SHIP: {"carrier": "SF", "tracking_number": "SF100"},
    Action.HOLD: {"reason": "check the address"},
    Action.RELEASE: {"reason": "address confirmed"},
    Action.CANCEL: {"reason": "customer asked"},
}


def actor_of(*roles: str, warehouse_ids: frozenset[int] | None = None) -> Actor:
    return Actor(ActorKind.USER, "900001", f"{'+'.join(roles)}-tester", "test",
                 frozenset(roles), warehouse_ids, "203.0.113.7", "pytest")


def paths() -> dict[Status, list[Action]]:
    """The shortest way from a new order to each status, over unguarded transitions."""
    found: dict[Status, list[Action]] = {Status.PENDING_PAYMENT: []}
    queue = deque([Status.PENDING_PAYMENT])
    while queue:
        here = queue.popleft()
        for t in lifecycle.TRANSITIONS:
            if t.source is here and t.guard is None and t.target is not None \
                    and t.target not in found and t.action is not Action.TIMEOUT:
                found[t.target] = [*found[here], t.action]
                queue.append(t.target)
    return found


PATHS = paths()


@dataclass
class World:
    uows: UnitOfWorkFactory
    warehouse: str = ""
    other_warehouse: str = ""
    warehouse_id: int = 0
    other_warehouse_id: int = 0
    sku: str = ""
    other_sku: str = ""  # stocked only in the other warehouse
    pool: dict[tuple[Status, bool], list[str]] = field(default_factory=dict)

    @classmethod
    async def create(cls, uows: UnitOfWorkFactory) -> World:
        w = cls(uows, ref("WH"), ref("WX"), sku=ref("SKU"), other_sku=ref("SKX"))
        made = await catalogue.create_warehouse(
            catalogue.WarehouseFields(w.warehouse, "上海仓", "上海", priority=10), uows(),
            actor=SYSTEM)
        other = await catalogue.create_warehouse(
            catalogue.WarehouseFields(w.other_warehouse, "广州仓", "广东", priority=1), uows(),
            actor=SYSTEM)
        w.warehouse_id, w.other_warehouse_id = made["id"], other["id"]
        for sku in (w.sku, w.other_sku):
            await catalogue.create_product(catalogue.ProductFields(sku, "保温杯", 5900), uows(),
                                           actor=SYSTEM)
        for sku, code in ((w.sku, w.warehouse), (w.other_sku, w.other_warehouse)):
            await inventory.move_stock(inventory.MoveStock(
                sku, code, 10_000, MovementKind.RECEIPT, "opening stock", SYSTEM), uows())
        return w

    async def place(self, cod: bool = False, in_other: bool = False) -> str:
        """A new order (pending payment), reserved in the first or the other warehouse."""
        sku = self.other_sku if in_other else self.sku
        draft = OrderDraft("api", CUSTOMER, ADDRESS, (LineDraft(sku, 1),),
                           payment_method="cod" if cod else "alipay", external_id=ref("EXT"))
        placed = await orders.place_order(orders.PlaceOrder(draft, SYSTEM), self.uows())
        return placed.number

    async def completed_for(self, phone: str) -> str:
        """A completed order of a customer known by ``phone`` (theirs alone)."""
        from dataclasses import replace

        draft = OrderDraft("api", replace(CUSTOMER, phone=phone, email=None),
                           replace(ADDRESS, phone=phone), (LineDraft(self.sku, 1),),
                           payment_method="alipay", external_id=ref("EXT"))
        number = (await orders.place_order(orders.PlaceOrder(draft, SYSTEM), self.uows())).number
        await self.drive(number, Status.COMPLETED)
        return number

    async def drive(self, number: str, status: Status) -> None:
        for action in PATHS[status]:
            await orders.change_status(orders.ChangeStatus(
                number, action, SYSTEM, **ACTION_INPUT.get(action, {})), self.uows())

    async def order_in(self, status: Status, cod: bool = False) -> str:
        """An order in ``status`` (from the pool if one is left there unchanged)."""
        spare = self.pool.get((status, cod))
        if spare:
            return spare.pop()
        number = await self.place(cod)
        await self.drive(number, status)
        return number

    def give_back(self, status: Status, cod: bool, number: str) -> None:
        self.pool.setdefault((status, cod), []).append(number)


ROLES = [r.value for r in Role]
