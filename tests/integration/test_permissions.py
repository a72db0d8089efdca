"""The permission matrix through the service layer: every role × every use case and every
lifecycle action, allowed or denied exactly as ``MATRIX`` and ``ACTION_PERMISSION`` say.

Each case calls the real use case with an actor holding one role. An allowed case must
succeed; a denied one must raise ``Forbidden``, change nothing and be logged. Removing the
check from any use case makes a denied case pass through, and this test fail. A meta test
makes sure every use case of the covered modules has a case here.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from conftest import ref
from dingdan.domain import lifecycle
from dingdan.domain.errors import Forbidden, NotFound
from dingdan.domain.events import SYSTEM, Actor
from dingdan.domain.inventory import MovementKind
from dingdan.domain.lifecycle import Action, OrderFacts, PaymentStatus, Status
from dingdan.domain.orders import Address, Customer
from dingdan.domain.permissions import (
    MATRIX,
    Permission,
    Role,
    permission_for,
)
from dingdan.services import (
    analytics,
    audit,
    catalogue,
    inventory,
    orders,
    queries,
    tokens,
    users,
)
from dingdan.store.audit import AuditQuery
from dingdan.store.orders import ListQuery
from dingdan.store.tables_people import audit_log
from dingdan.store.uow import UnitOfWorkFactory
from people_support import ACTION_INPUT, CHEAP, ROLES, World, actor_of

P = Permission

_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class UseCase:
    name: str  # module.function
    permission: Permission
    act: Callable[[World, Actor, Any], Awaitable[Any]]
    # Made by the system before the case, so its own audit rows are not the case's.
    prepare: Callable[[World], Awaitable[Any]] | None = None


async def _person(w: World) -> int:
    user = await users.create_user(users.CreateUser(users.UserFields(
        "李娜", f"{ref().lower()}@example.com", roles=frozenset({"viewer"})), SYSTEM,
        "correct horse battery"), w.uows(), CHEAP)
    return int(user["id"])


async def _token(w: World) -> int:
    issued = await tokens.issue_token(ref("shop"), w.uows(), roles=["integration"],
                                      actor=SYSTEM)
    return issued.id


async def _order(w: World) -> str:
    return await w.place()


def _moved_address() -> Address:
    return Address("张伟", "13800138000", "上海市", "上海市", "浦东新区", "陆家嘴环路 1 号",
                   "200120")


USE_CASES: list[UseCase] = [
    UseCase("orders.place_order", P.ORDER_CREATE, lambda w, a, _: orders.place_order(
        orders.PlaceOrder(_draft(w), a), w.uows())),
    UseCase("orders.add_note", P.ORDER_NOTE, lambda w, a, n: orders.add_note(
        orders.AddNote(n, "客户来电", a), w.uows()), _order),
    UseCase("orders.change_contact", P.ORDER_EDIT, lambda w, a, n: orders.change_contact(
        orders.ChangeContact(n, Customer("张伟", "13900139000", "zw@example.com"), a,
                             "new phone"), w.uows()), _order),
    UseCase("orders.change_address", P.ORDER_EDIT, lambda w, a, n: orders.change_address(
        orders.ChangeAddress(n, _moved_address(), a, "moved"), w.uows()), _order),
    UseCase("catalogue.create_product", P.CATALOGUE_WRITE,
            lambda w, a, _: catalogue.create_product(
                catalogue.ProductFields(ref("P"), "新品", 100), w.uows(), actor=a)),
    UseCase("catalogue.update_product", P.CATALOGUE_WRITE,
            lambda w, a, _: catalogue.update_product(w.sku, {"name": ref("名")}, None, w.uows(),
                                                     actor=a)),
    UseCase("catalogue.create_warehouse", P.CATALOGUE_WRITE,
            lambda w, a, _: catalogue.create_warehouse(
                catalogue.WarehouseFields(ref("W"), "新仓", "江苏"), w.uows(), actor=a)),
    UseCase("catalogue.update_warehouse", P.CATALOGUE_WRITE,
            lambda w, a, _: catalogue.update_warehouse(w.warehouse, {"city": ref("城")}, None,
                                                       w.uows(), actor=a)),
    UseCase("inventory.move_stock", P.STOCK_WRITE, lambda w, a, _: inventory.move_stock(
        inventory.MoveStock(w.sku, w.warehouse, 5, MovementKind.RECEIPT, "delivery", a),
        w.uows())),
    UseCase("queries.get_order", P.ORDER_READ, lambda w, a, n: queries.get_order(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("queries.order_timeline", P.ORDER_READ, lambda w, a, n: queries.order_timeline(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("queries.list_orders", P.ORDER_READ, lambda w, a, _: queries.list_orders(
        ListQuery(), w.uows(read_only=True), actor=a)),
    UseCase("inventory.stock_levels", P.ORDER_READ, lambda w, a, _: inventory.stock_levels(
        inventory.StockLevels(w.sku), w.uows(read_only=True), actor=a)),
    UseCase("inventory.stock_movements", P.ORDER_READ,
            lambda w, a, _: inventory.stock_movements(
                inventory.StockMovements(w.sku), w.uows(read_only=True), actor=a)),
    UseCase("catalogue.list_products", P.ORDER_READ, lambda w, a, _: catalogue.list_products(
        catalogue.ProductQuery(w.sku), w.uows(read_only=True), actor=a)),
    UseCase("catalogue.get_product", P.ORDER_READ, lambda w, a, _: catalogue.get_product(
        w.sku, w.uows(read_only=True), actor=a)),
    UseCase("catalogue.list_warehouses", P.ORDER_READ,
            lambda w, a, _: catalogue.list_warehouses(w.uows(read_only=True), actor=a)),
    UseCase("catalogue.get_warehouse", P.ORDER_READ, lambda w, a, _: catalogue.get_warehouse(
        w.warehouse, w.uows(read_only=True), actor=a)),
    UseCase("queries.add_sla_standing", P.ORDER_READ,
            lambda w, a, n: queries.add_sla_standing([{"number": n, "status": "paid",
                                                       "ship_by": None}],
                                                     w.uows(read_only=True), actor=a), _order),
    UseCase("tokens.issue_token", P.PEOPLE_MANAGE, lambda w, a, _: tokens.issue_token(
        ref("erp"), w.uows(), roles=["integration"], actor=a)),
    UseCase("tokens.list_tokens", P.PEOPLE_MANAGE, lambda w, a, _: tokens.list_tokens(
        w.uows(read_only=True), actor=a)),
    UseCase("tokens.revoke_token", P.PEOPLE_MANAGE, lambda w, a, t: tokens.revoke_token(
        t, w.uows(), actor=a), _token),
    UseCase("users.create_user", P.PEOPLE_MANAGE, lambda w, a, _: users.create_user(
        users.CreateUser(users.UserFields("王芳", f"{ref().lower()}@example.com",
                                          roles=frozenset({"finance"})), a), w.uows())),
    UseCase("users.update_user", P.PEOPLE_MANAGE, lambda w, a, u: users.update_user(
        users.UpdateUser(u, {"roles": ["reviewer"]}, a), w.uows()), _person),
    UseCase("users.set_active", P.PEOPLE_MANAGE, lambda w, a, u: users.set_active(
        users.SetActive(u, False, a), w.uows()), _person),
    UseCase("users.reset_password", P.PEOPLE_MANAGE, lambda w, a, u: users.reset_password(
        users.ResetPassword(u, "another good one", a), w.uows(), CHEAP), _person),
    UseCase("users.list_users", P.PEOPLE_MANAGE, lambda w, a, _: users.list_users(
        w.uows(read_only=True), actor=a)),
    UseCase("users.get_user", P.PEOPLE_MANAGE, lambda w, a, u: users.get_user(
        u, w.uows(read_only=True), actor=a), _person),
    UseCase("audit.list_audit", P.AUDIT_READ, lambda w, a, _: audit.list_audit(
        AuditQuery(), w.uows(read_only=True), actor=a)),
    *(UseCase(f"analytics.{name}", P.ANALYTICS_READ, call) for name, call in (
        ("summary", lambda w, a, _: analytics.summary(
            analytics.Range(), w.uows(read_only=True), actor=a, tz=_TZ)),
        ("trend", lambda w, a, _: analytics.trend(
            analytics.Range(), w.uows(read_only=True), actor=a, tz=_TZ)),
        ("breakdown", lambda w, a, _: analytics.breakdown(
            analytics.Range(), "province", w.uows(read_only=True), actor=a, tz=_TZ)),
        ("stages", lambda w, a, _: analytics.stages(
            analytics.Range(), w.uows(read_only=True), actor=a, tz=_TZ)),
        ("gantt", lambda w, a, _: analytics.gantt(
            analytics.Range(), w.uows(read_only=True), actor=a, tz=_TZ)),
        ("forecast", lambda w, a, _: analytics.forecast(
            w.sku, w.uows(read_only=True), actor=a, tz=_TZ)),
        ("top_skus", lambda w, a, _: analytics.top_skus(
            analytics.Range(), w.uows(read_only=True), actor=a, tz=_TZ)),
    )),
]

# Lifecycle actions go through orders.change_status: each (status, action) row of the
# transition table is a case of its own, below.
COVERED_ELSEWHERE = {"orders.change_status"}
# The person acting on themselves, or no one signed in yet: no permission to hold.
NOT_PERMISSION_CHECKED = {"tokens.authenticate", "users.sign_in", "users.session_actor",
                          "users.touch_session", "users.sign_out",
                          "users.change_password", "users.sign_out_everywhere"}
MODULES = (orders, catalogue, inventory, queries, tokens, users, audit, analytics)


def _draft(w: World) -> Any:
    from dingdan.domain.orders import LineDraft, OrderDraft
    from people_support import ADDRESS, CUSTOMER

    return OrderDraft("api", CUSTOMER, ADDRESS, (LineDraft(w.sku, 1),), external_id=ref("E"),
                      payment_method="alipay")


def _allowed(role: str, permission: Permission) -> bool:
    return permission in MATRIX[Role(role)]


async def _audit_rows(uows: UnitOfWorkFactory) -> int:
    async with uows(read_only=True) as uow:
        return int((await uow.conn.execute(select(func.count()).select_from(audit_log)))
                   .scalar_one())


def test_every_use_case_has_a_case_here() -> None:
    public = {f"{m.__name__.rsplit('.', 1)[1]}.{name}" for m in MODULES
              for name, fn in vars(m).items()
              if inspect.iscoroutinefunction(fn) and not name.startswith("_")
              and fn.__module__ == m.__name__}
    covered = {u.name for u in USE_CASES} | COVERED_ELSEWHERE | NOT_PERMISSION_CHECKED
    assert public - covered == set(), "use cases without a permission case in this test"
    assert covered - public == set(), "cases for use cases that no longer exist"


@pytest.mark.parametrize("role", ROLES)
async def test_use_cases_obey_the_matrix(uows: UnitOfWorkFactory, role: str) -> None:
    w = await World.create(uows)
    actor = actor_of(role)
    wrong: list[str] = []
    for case in USE_CASES:
        expected = _allowed(role, case.permission)
        made = await case.prepare(w) if case.prepare else None
        before = await _audit_rows(uows)
        with capture_logs() as logs:
            try:
                await case.act(w, actor, made)
                outcome = "allowed"
            except Forbidden:
                outcome = "denied"
        if outcome != ("allowed" if expected else "denied"):
            wrong.append(f"{case.name}: {outcome}, the matrix says "
                         f"{'allowed' if expected else 'denied'} ({case.permission.value})")
        if outcome == "denied":
            denials = [e for e in logs if e["event"] == "access denied"]
            assert denials and denials[0]["permission"] == case.permission.value, case.name
            assert denials[0]["actor"] == actor.label
            assert await _audit_rows(uows) == before, f"{case.name} denied yet audited"
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def _needs_cod(t: lifecycle.Transition) -> bool:
    facts = OrderFacts(t.source, PaymentStatus.UNPAID, "alipay", Status.PAID)
    return t.guard is not None and not t.guard(facts) and t.guard(
        OrderFacts(t.source, PaymentStatus.UNPAID, "cod", Status.PAID))


@pytest.mark.parametrize("role", ROLES)
async def test_lifecycle_actions_obey_the_matrix(uows: UnitOfWorkFactory, role: str) -> None:
    """Every row of the transition table, for this role: allowed exactly when the role holds
    ``permission_for(action, status)`` (late cancels need their own permission)."""
    w = await World.create(uows)
    actor = actor_of(role)
    wrong: list[str] = []
    for t in lifecycle.TRANSITIONS:
        cod = _needs_cod(t)
        number = await w.order_in(t.source, cod)
        permission = permission_for(t.action, t.source.value)
        expected = _allowed(role, permission)
        try:
            await orders.change_status(orders.ChangeStatus(
                number, t.action, actor, **ACTION_INPUT.get(t.action, {})), uows())
            outcome = "allowed"
        except Forbidden:
            outcome = "denied"
            w.give_back(t.source, cod, number)  # unchanged: another case may use it
        if outcome != ("allowed" if expected else "denied"):
            wrong.append(f"{t.action.value} from {t.source.value}: {outcome}, the matrix "
                         f"says {'allowed' if expected else 'denied'} ({permission.value})")
        async with uows(read_only=True) as uow:
            state = await uow.orders.get_state(number)
        assert state is not None
        if outcome == "allowed":
            assert state.status != t.source.value
        else:
            assert state.status == t.source.value
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_every_action_is_mapped_to_a_permission() -> None:
    from dingdan.domain.permissions import ACTION_PERMISSION

    assert set(ACTION_PERMISSION) == set(Action)


# --- warehouse staff see and work only their warehouses -----------------------------------

async def test_warehouse_staff_see_only_their_warehouses_orders(uows: UnitOfWorkFactory) -> None:
    w = await World.create(uows)
    mine = await w.place()
    theirs = await w.place(in_other=True)
    await w.drive(mine, Status.ALLOCATED)
    await w.drive(theirs, Status.ALLOCATED)
    staff = actor_of("warehouse", warehouse_ids=frozenset({w.warehouse_id}))

    assert (await queries.get_order(mine, uows(read_only=True), actor=staff))["number"] == mine
    with pytest.raises(NotFound):
        await queries.get_order(theirs, uows(read_only=True), actor=staff)
    with pytest.raises(NotFound):
        await queries.order_timeline(theirs, uows(read_only=True), actor=staff)
    rows, _ = await queries.list_orders(ListQuery(limit=200), uows(read_only=True), actor=staff)
    numbers = {r["number"] for r in rows}
    assert mine in numbers and theirs not in numbers

    await orders.change_status(orders.ChangeStatus(mine, Action.PICK, staff), uows())
    with capture_logs() as logs, pytest.raises(Forbidden):
        await orders.change_status(orders.ChangeStatus(theirs, Action.PICK, staff), uows())
    assert any(e.get("warehouse_id") == w.other_warehouse_id for e in logs)
    with pytest.raises(Forbidden):
        await inventory.move_stock(inventory.MoveStock(
            w.sku, w.other_warehouse, 1, MovementKind.RECEIPT, "delivery", staff), uows())
    await inventory.move_stock(inventory.MoveStock(
        w.sku, w.warehouse, 1, MovementKind.RECEIPT, "delivery", staff), uows())


async def test_warehouse_staff_see_only_their_warehouses_stock(uows: UnitOfWorkFactory) -> None:
    w = await World.create(uows)
    for code in (w.warehouse, w.other_warehouse):
        await inventory.move_stock(inventory.MoveStock(
            w.sku, code, 3, MovementKind.RECEIPT, f"into {code}", SYSTEM), uows())
    staff = actor_of("warehouse", warehouse_ids=frozenset({w.warehouse_id}))

    levels = await inventory.stock_levels(inventory.StockLevels(w.sku), uows(read_only=True),
                                          actor=staff)
    assert {r["warehouse_id"] for r in levels} == {w.warehouse_id}
    with pytest.raises(NotFound):
        await inventory.stock_levels(inventory.StockLevels(w.sku, w.other_warehouse),
                                     uows(read_only=True), actor=staff)
    ledger = await inventory.stock_movements(inventory.StockMovements(w.sku),
                                             uows(read_only=True), actor=staff)
    assert ledger and {m["warehouse_id"] for m in ledger} == {w.warehouse_id}
    assert await inventory.stock_movements(inventory.StockMovements(
        w.sku, w.other_warehouse_id), uows(read_only=True), actor=staff) == []
    everyone = await inventory.stock_levels(inventory.StockLevels(w.sku), uows(read_only=True),
                                            actor=actor_of("warehouse"))
    assert {r["warehouse_id"] for r in everyone} == {w.warehouse_id, w.other_warehouse_id}


# --- what a role may do to an order, and what it may see -----------------------------------

@pytest.mark.parametrize("role", ROLES)
async def test_allowed_actions_are_the_lifecycle_s_within_the_role_s(
        uows: UnitOfWorkFactory, role: str) -> None:
    w = await World.create(uows)
    actor = actor_of(role)
    for status in (Status.PENDING_PAYMENT, Status.PAID, Status.PICKING, Status.SHIPPED):
        number = await w.order_in(status)
        order = await queries.get_order(number, uows(read_only=True), actor=SYSTEM)
        facts = OrderFacts(status, PaymentStatus(order["payment_status"]), "alipay")
        expected = [a.value for a in lifecycle.allowed_actions(facts)
                    if a is not Action.TIMEOUT and _allowed(role, permission_for(a, status))]
        seen = await queries.get_order(number, uows(read_only=True), actor=actor)
        assert seen["allowed_actions"] == expected
        assert queries.allowed_actions_for(actor, order) == expected


@pytest.mark.parametrize("role", ROLES)
async def test_personal_data_is_masked_for_roles_without_pii_read(
        uows: UnitOfWorkFactory, role: str) -> None:
    w = await World.create(uows)
    number = await w.place()
    await orders.change_contact(orders.ChangeContact(
        number, Customer("张伟", "13900139000", "zhang.wei@example.com"), SYSTEM,
        "new phone"), uows())
    actor = actor_of(role)
    order = await queries.get_order(number, uows(read_only=True), actor=actor)
    timeline = await queries.order_timeline(number, uows(read_only=True), actor=actor)
    rows, _ = await queries.list_orders(ListQuery(q=number), uows(read_only=True), actor=actor)
    change = next(e for e in timeline if e["type"] == "order.contact_changed")
    if P.PII_READ in MATRIX[Role(role)]:
        assert order["customer_phone"] == "+8613900139000"
        assert order["ship_street"] == "世纪大道 100 号"
        assert change["data"]["after"]["customer_phone"] == "+8613900139000"
    else:
        assert order["customer_phone"] == "139****9000"
        assert order["ship_phone"] == "138****8000"
        assert order["customer_email"] == "z***@example.com"
        assert order["ship_street"] == "***"
        assert rows[0]["customer_phone"] == "139****9000"
        assert change["data"]["before"]["customer_phone"] == "138****8000"
        assert change["data"]["after"]["customer_phone"] == "139****9000"


async def test_a_token_lives_until_it_expires_or_is_revoked(uows: UnitOfWorkFactory,
                                                            clock: Any) -> None:
    from dingdan.domain.errors import Unauthenticated

    issued = await tokens.issue_token("erp", uows(), clock() + timedelta(days=1),
                                      roles=["integration"], actor=SYSTEM)
    actor = await tokens.authenticate(issued.token, uows(read_only=True))
    assert actor.roles == frozenset({"integration"}) and actor.warehouse_ids is None
    clock.advance(days=1)
    with pytest.raises(Unauthenticated):
        await tokens.authenticate(issued.token, uows(read_only=True))
    other = await tokens.issue_token("erp2", uows(), roles=["integration"], actor=SYSTEM)
    await tokens.revoke_token(other.id, uows(), actor=SYSTEM)
    with pytest.raises(Unauthenticated):
        await tokens.authenticate(other.token, uows(read_only=True))


async def test_a_personal_token_acts_within_its_owner_s_current_roles(
        uows: UnitOfWorkFactory) -> None:
    from dingdan.domain.errors import Unauthenticated

    w = await World.create(uows)
    user = await users.create_user(users.CreateUser(users.UserFields(
        "赵敏", f"{ref().lower()}@example.com", roles=frozenset({"warehouse", "finance"}),
        warehouses=frozenset({w.warehouse})), SYSTEM), uows())
    narrow = await tokens.issue_token("scanner", uows(), roles=["warehouse", "admin"],
                                      actor=SYSTEM, user_id=user["id"])
    full = await tokens.issue_token("mine", uows(), roles=[], actor=SYSTEM, user_id=user["id"])
    a = await tokens.authenticate(narrow.token, uows(read_only=True))
    assert a.roles == frozenset({"warehouse"})  # never more than the owner has
    assert a.warehouse_ids == frozenset({w.warehouse_id})
    b = await tokens.authenticate(full.token, uows(read_only=True))
    assert b.roles == frozenset({"warehouse", "finance"})
    await users.set_active(users.SetActive(user["id"], False, SYSTEM), uows())
    with pytest.raises(Unauthenticated):
        await tokens.authenticate(full.token, uows(read_only=True))
