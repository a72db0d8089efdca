"""The permission matrix through the service layer: every role × every use case and every
lifecycle action, allowed or denied exactly as ``MATRIX`` and ``ACTION_PERMISSION`` say.

Each case calls the real use case with an actor holding one role. An allowed case must
succeed; a denied one must raise ``Forbidden``, change nothing and be logged. Removing the
check from any use case makes a denied case pass through, and this test fail. A meta test
makes sure every use case of the covered modules has a case here.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from aftersales_support import CALENDAR, AgreeingGateway, case_after, complaint_on, failed_refund
from conftest import ref
from dingdan.domain import lifecycle
from dingdan.domain.aftersales import CaseAction, CaseType, Reason
from dingdan.domain.complaints import Category, Channel, ComplaintAction
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
from dingdan.domain.refunds import Method
from dingdan.services import (
    aftersales,
    analytics,
    audit,
    blocklist,
    carriers,
    catalogue,
    channel_orders,
    complaints,
    customers,
    edi,
    imports,
    inventory,
    labels,
    orders,
    portal,
    privacy,
    queries,
    refunds,
    review,
    shops,
    tokens,
    tracking,
    users,
)
from dingdan.store.audit import AuditQuery
from dingdan.store.orders import ListQuery
from dingdan.store.tables_people import audit_log
from dingdan.store.uow import UnitOfWorkFactory
from people_support import ACTION_INPUT, CHEAP, ROLES, World, actor_of

P = Permission
SHANGHAI = ZoneInfo("Asia/Shanghai")

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


async def _completed_customer(w: World) -> str:
    phone = f"139{random.randrange(10**8):08d}"
    await w.completed_for(phone)
    return phone


async def _order(w: World) -> str:
    return await w.place()


async def _customers(w: World) -> tuple[int, int]:
    """Two customer records (the second to be merged into the first)."""
    ids = []
    async with w.uows() as uow:
        for name in ("王芳", "王芳 (dup)"):
            now = uow.now()
            ids.append(await uow.customers.create(dict(
                kind="person", name=name, tier="standard", blocked=False, version=1,
                created_at=now, updated_at=now)))
        await uow.commit()
    return ids[0], ids[1]


async def _paid_order(w: World) -> str:
    number = await w.place()
    await w.drive(number, Status.PAID)
    return number


async def _blocklist_entry(w: World) -> int:
    row = await blocklist.add_entry(blocklist.BlockEntry(
        "email", f"{ref().lower()}@example.com", "test", SYSTEM), w.uows())
    return int(row["id"])


async def _rules_version(w: World) -> int:
    return int((await review.current_rules(w.uows(read_only=True), actor=SYSTEM))["version"])
async def _carrier(w: World) -> str:
    code = ref("C")[:14].replace("-", "")
    await carriers.put_carrier(carriers.CarrierFields(code, "测试快递", "Test", services=(
        carriers.ServiceFields("standard", "标快", "Standard", 2),)), w.uows(), actor=SYSTEM)
    return code


async def _rated(w: World) -> str:
    """A packed order whose rate shopping chose a service with numbers in its pool."""
    code = await _carrier(w)
    await labels.add_waybill_numbers(labels.AddWaybillNumbers(code, 1, 3, SYSTEM, width=12),
                                     w.uows())
    number = await w.place()
    await w.drive(number, Status.PACKED)
    async with w.uows() as uow:
        state = await uow.orders.get_state(number)
        service = next(s for s in await uow.carriers.services() if s["carrier"] == code)
        assert state is not None
        await uow.carriers.record_choice({
            "order_id": state.id, "service_id": service["id"], "price": 1200,
            "currency": "CNY", "promised_at": uow.now(), "keeps_promise": True,
            "weight_g": 1000, "alternatives": [], "reason": "test", "actor": "system:test",
            "created_at": uow.now()})
        await uow.commit()
    return number


async def _labelled(w: World) -> tuple[str, int]:
    number = await _rated(w)
    label = await labels.issue_label(labels.IssueLabel(number, SYSTEM), w.uows())
    return number, int(label["id"])


def _rate_sheet(carrier: str) -> bytes:
    return ("carrier,service,origin,destination,min_kg,max_kg,first_kg,first_price,step_kg,"
            f"step_price\n{carrier},standard,广东,上海,0,30,1,12,1,2\n").encode()


async def _shipped(w: World) -> str:
    number = await w.place()
    await w.drive(number, Status.SHIPPED)
    return number
async def _delivered(w: World) -> str:
    return await w.order_in(Status.DELIVERED)


async def _paid(w: World) -> str:
    return await w.order_in(Status.PAID)


async def _complaint(w: World) -> str:
    return await complaint_on(w, w.uows)


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
    UseCase("privacy.anonymise_customer", P.PII_ERASE,
            lambda w, a, phone: privacy.anonymise_customer(privacy.AnonymiseCustomer(
                a, "客户申请删除", phone=phone), w.uows()), _completed_customer),
    UseCase("portal.status_page", P.PORTAL_VIEW, lambda w, a, n: portal.status_page(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("portal.change_delivery_address", P.ORDER_EDIT,
            lambda w, a, n: portal.change_delivery_address(portal.ChangeDeliveryAddress(
                n, _moved_address(), a), w.uows()), _order),
    UseCase("portal.invoice", P.PORTAL_VIEW, lambda w, a, n: portal.invoice(
        n, w.uows(read_only=True), actor=a), lambda w: w.order_in(Status.PAID)),
    UseCase("portal.cancel_order", P.ORDER_CANCEL, lambda w, a, n: portal.cancel_order(
        portal.CancelOrder(n, "ordered twice", a), w.uows()), _order),
    UseCase("portal.rate_order", P.PORTAL_RATE, lambda w, a, n: portal.rate_order(
        portal.RateOrder(n, 5, 4, "好", a), w.uows()), lambda w: w.order_in(Status.DELIVERED)),
    UseCase("portal.request_help", P.PORTAL_HELP, lambda w, a, n: portal.request_help(
        portal.RequestHelp(n, "question", "何时发货？", a), w.uows()), _order),
    UseCase("customers.get_customer", P.ORDER_READ, lambda w, a, c: customers.get_customer(
        c[0], w.uows(read_only=True), actor=a), _customers),
    UseCase("customers.list_customers", P.ORDER_READ,
            lambda w, a, _: customers.list_customers("张", 5, w.uows(read_only=True), actor=a)),
    UseCase("customers.update_customer", P.CUSTOMER_WRITE,
            lambda w, a, c: customers.update_customer(customers.UpdateCustomer(
                c[0], {"notes": ref("note")}, a), w.uows()), _customers),
    UseCase("customers.merge_customers", P.CUSTOMER_WRITE,
            lambda w, a, c: customers.merge_customers(customers.MergeCustomers(
                c[0], c[1], a), w.uows()), _customers),
    UseCase("review.order_review", P.ORDER_READ, lambda w, a, n: review.order_review(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("review.queue_reasons", P.ORDER_READ, lambda w, a, n: review.queue_reasons(
        [n], w.uows(read_only=True), actor=a), _order),
    UseCase("review.current_rules", P.ORDER_READ, lambda w, a, _: review.current_rules(
        w.uows(read_only=True), actor=a)),
    UseCase("blocklist.list_entries", P.SETTINGS_WRITE,
            lambda w, a, _: blocklist.list_entries(w.uows(read_only=True), actor=a)),
    UseCase("blocklist.add_entry", P.SETTINGS_WRITE, lambda w, a, _: blocklist.add_entry(
        blocklist.BlockEntry("email", f"{ref().lower()}@example.com", "test", a), w.uows())),
    UseCase("blocklist.remove_entry", P.SETTINGS_WRITE, lambda w, a, i: blocklist.remove_entry(
        i, w.uows(), actor=a), _blocklist_entry),
    UseCase("review.dry_run", P.SETTINGS_WRITE, lambda w, a, _: review.dry_run(
        review.DryRun([], 7, a), w.uows(read_only=True))),
    UseCase("review.run_rules", P.ORDER_REVIEW, lambda w, a, n: review.run_rules(
        review.RunRules(n, a), w.uows()), _paid_order),
    # Published switched off: other tests sharing the database keep paid orders waiting.
    UseCase("review.publish_rules", P.SETTINGS_WRITE, lambda w, a, v: review.publish_rules(
        review.PublishRules([], False, a, v), w.uows()), _rules_version),
    UseCase("tracking.parcel_history", P.ORDER_READ, lambda w, a, n: tracking.parcel_history(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("tracking.tracking_exceptions", P.ORDER_READ,
            lambda w, a, _: tracking.tracking_exceptions(w.uows(read_only=True), actor=a)),
    UseCase("tracking.request_subscription", P.ORDER_TRACK,
            lambda w, a, n: tracking.request_subscription(n, w.uows(), actor=a), _shipped),
    UseCase("carriers.list_carriers", P.ORDER_READ,
            lambda w, a, _: carriers.list_carriers(w.uows(read_only=True), actor=a)),
    UseCase("carriers.put_carrier", P.SETTINGS_WRITE, lambda w, a, _: carriers.put_carrier(
        carriers.CarrierFields(ref("C")[:14].replace("-", ""), "测试快递", "Test"), w.uows(),
        actor=a)),
    UseCase("carriers.import_rate_table", P.SETTINGS_WRITE,
            lambda w, a, c: carriers.import_rate_table(_rate_sheet(c), "r.csv", w.uows(), actor=a),
            _carrier),
    UseCase("carriers.shop_rates", P.ORDER_FULFIL, lambda w, a, n: carriers.shop_rates(
        carriers.ShopRates(n, a, weight_g=1000), w.uows()), _order),
    UseCase("carriers.rate_choices", P.ORDER_READ, lambda w, a, n: carriers.rate_choices(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("labels.add_waybill_numbers", P.SETTINGS_WRITE,
            lambda w, a, c: labels.add_waybill_numbers(labels.AddWaybillNumbers(
                c, 1, 2, a, width=12), w.uows()), _carrier),
    UseCase("labels.issue_label", P.ORDER_FULFIL, lambda w, a, n: labels.issue_label(
        labels.IssueLabel(n, a), w.uows()), _rated),
    UseCase("labels.list_labels", P.ORDER_READ, lambda w, a, n: labels.list_labels(
        n, w.uows(read_only=True), actor=a), _order),
    UseCase("labels.label_pdf_of", P.ORDER_FULFIL, lambda w, a, nl: labels.label_pdf_of(
        nl[0], nl[1], w.uows(read_only=True), actor=a), _labelled),
    UseCase("labels.void_label", P.ORDER_FULFIL, lambda w, a, nl: labels.void_label(
        nl[0], nl[1], "重新打包", w.uows(), actor=a), _labelled),
    UseCase("labels.ship_with_label", P.ORDER_FULFIL, lambda w, a, nl: labels.ship_with_label(
        nl[0], nl[1], w.uows, actor=a), _labelled),
    # after-sales and complaints (issue 13)
    UseCase("aftersales.open_case", P.AFTERSALES_HANDLE, lambda w, a, n: aftersales.open_case(
        aftersales.OpenCase(n, CaseType.RETURN_REFUND, Reason.DEFECTIVE,
                            (aftersales.CaseLine(1, 1),)), w.uows(), actor=a), _delivered),
    UseCase("aftersales.act_on_case", P.AFTERSALES_HANDLE,
            lambda w, a, c: aftersales.act_on_case(
                aftersales.ActOnCase(c, CaseAction.APPROVE, a), w.uows()), case_after),
    UseCase("aftersales.get_case", P.ORDER_READ, lambda w, a, c: aftersales.get_case(
        c, w.uows(read_only=True), actor=a), case_after),
    UseCase("aftersales.list_cases", P.ORDER_READ, lambda w, a, _: aftersales.list_cases(
        aftersales.CaseQuery(), w.uows(read_only=True), actor=a)),
    UseCase("aftersales.list_return_rules", P.ORDER_READ,
            lambda w, a, _: aftersales.list_return_rules(w.uows(read_only=True), actor=a)),
    UseCase("aftersales.put_return_rule", P.SETTINGS_WRITE,
            lambda w, a, _: aftersales.put_return_rule(aftersales.PutReturnRule(
                ref("RR"), 15, True, a), w.uows())),
    UseCase("refunds.issue_refund", P.ORDER_REFUND, lambda w, a, n: refunds.issue_refund(
        refunds.IssueRefund(n, Method.MANUAL, a, amount=100, reference="ICBC-1"), w.uows,
        {}), _paid),
    UseCase("refunds.retry_refund", P.ORDER_REFUND, lambda w, a, r: refunds.retry_refund(
        refunds.RetryRefund(r, a), w.uows, {"alipay": AgreeingGateway()}), failed_refund),
    UseCase("refunds.order_refunds", P.ORDER_READ, lambda w, a, n: refunds.order_refunds(
        n, w.uows(read_only=True), actor=a), _paid),
    UseCase("refunds.list_refunds", P.ORDER_READ, lambda w, a, _: refunds.list_refunds(
        w.uows(read_only=True), actor=a)),
    UseCase("complaints.open_complaint", P.COMPLAINT_HANDLE,
            lambda w, a, n: complaints.open_complaint(complaints.OpenComplaint(
                n, Category.OTHER, Channel.EMAIL, "态度不好"), w.uows(), actor=a,
                calendar=CALENDAR), _delivered),
    UseCase("complaints.reply", P.COMPLAINT_HANDLE, lambda w, a, c: complaints.reply(
        complaints.Reply(c, "您好，已处理", a), w.uows()), _complaint),
    UseCase("complaints.act_on_complaint", P.COMPLAINT_HANDLE,
            lambda w, a, c: complaints.act_on_complaint(complaints.ActOnComplaint(
                c, ComplaintAction.WITHDRAW, a, reason="客户撤回"), w.uows()), _complaint),
    UseCase("complaints.get_complaint", P.ORDER_READ, lambda w, a, c: complaints.get_complaint(
        c, w.uows(read_only=True), actor=a), _complaint),
    UseCase("complaints.list_complaints", P.ORDER_READ,
            lambda w, a, _: complaints.list_complaints(complaints.ComplaintQuery(),
                                                       w.uows(read_only=True), actor=a)),
    UseCase("complaints.complaint_causes", P.ORDER_READ,
            lambda w, a, _: complaints.complaint_causes(w.uows(read_only=True), actor=a,
                                                        now=w.uows.clock())),
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



# --- intake (issue 10) ---------------------------------------------------------------------

def _sheet(w: World) -> bytes:
    return ("order_id,recipient,phone,province,city,district,street,sku,quantity\n"
            f"{ref('IMP')},张伟,13800138000,上海市,上海市,浦东新区,世纪大道 1 号,{w.sku},1\n"
            ).encode()


def _check(w: World, actor: Actor) -> Any:
    return imports.check_import(imports.CheckImport("csv-perm", "o.csv", _sheet(w), actor,
                                                    SHANGHAI), w.uows())


async def _batch(w: World) -> int:
    return int((await _check(w, SYSTEM))["id"])


async def _started(w: World) -> int:
    batch_id = await _batch(w)
    await imports.start_import(batch_id, w.uows(), actor=SYSTEM)
    return batch_id


def _shop(a: Actor) -> shops.ConnectShop:
    return shops.ConnectShop(ref("shop").lower(), "woocommerce", "Woo 店",
                             "wc_secret_" + ref("S"), a)


async def _shipped_edi(w: World) -> str:
    answer = await edi.receive_edi(
        "UNA:+.? 'UNB+UNOC:3+P:14+D:14+261111:0930+R'UNH+1+ORDERS:D:96A:UN'"
        f"BGM+220+{ref('PO')}+9'NAD+DP+++张伟+世纪大道 1 号+上海市+上海市+200120+CN'"
        f"COM+13800138000:TE'LIN+1++{w.sku}:SA'QTY+21:1'UNS+S'UNT+8+1'UNZ+1+R'", SYSTEM,
        w.uows)
    number = answer.orders[0].number
    assert number is not None
    await w.drive(number, Status.SHIPPED)
    return number


INTAKE_CASES: list[UseCase] = [
    UseCase("channel_orders.receive_channel_order", P.ORDER_CREATE,
            lambda w, a, _: channel_orders.receive_channel_order(
                channel_orders.ChannelOrder(replace(_draft(w), channel="shop-perm"), a),
                w.uows)),
    UseCase("imports.check_import", P.ORDER_CREATE, lambda w, a, _: _check(w, a)),
    UseCase("imports.get_import", P.ORDER_CREATE, lambda w, a, b: imports.get_import(
        b, w.uows(read_only=True), actor=a), _batch),
    UseCase("imports.list_imports", P.ORDER_CREATE, lambda w, a, _: imports.list_imports(
        w.uows(read_only=True), actor=a)),
    UseCase("imports.import_report", P.ORDER_CREATE, lambda w, a, b: imports.import_report(
        b, w.uows(read_only=True), actor=a), _batch),
    UseCase("imports.start_import", P.ORDER_CREATE, lambda w, a, b: imports.start_import(
        b, w.uows(), actor=a), _batch),
    UseCase("imports.discard_import", P.ORDER_CREATE, lambda w, a, b: imports.discard_import(
        b, w.uows(), actor=a), _batch),
    UseCase("imports.continue_import", P.ORDER_CREATE, lambda w, a, b: imports.continue_import(
        b, w.uows, actor=a, tz=SHANGHAI), _started),
    UseCase("shops.connect_shop", P.SETTINGS_WRITE, lambda w, a, _: shops.connect_shop(
        _shop(a), w.uows())),
    UseCase("shops.list_shops", P.SETTINGS_WRITE, lambda w, a, _: shops.list_shops(
        w.uows(read_only=True), actor=a)),
    UseCase("edi.receive_edi", P.ORDER_CREATE, lambda w, a, _: edi.receive_edi(
        "UNA:+.? 'UNB+UNOC:3+P:14+D:14+261111:0930+R'UNH+1+ORDERS:D:96A:UN'"
        f"BGM+220+{ref('PO')}+9'NAD+DP+++张伟+世纪大道 1 号+上海市+上海市+200120+CN'"
        f"COM+13800138000:TE'LIN+1++{w.sku}:SA'QTY+21:1'UNS+S'UNT+8+1'UNZ+1+R'", a, w.uows)),
    UseCase("edi.ship_notice", P.ORDER_READ, lambda w, a, n: edi.ship_notice(
        n, w.uows(read_only=True), actor=a), _shipped_edi),
]
USE_CASES += INTAKE_CASES

# Lifecycle actions go through orders.change_status: each (status, action) row of the
# transition table is a case of its own, below. ``orders.step`` applies a row inside a use
# case that checked already; the customer link and the rules run inside placing and paying;
# ``orders.record_event`` is a helper of other capabilities' use cases, which check first.
COVERED_ELSEWHERE = {"orders.change_status", "orders.step", "orders.record_event",
                     "customers.link_on_intake", "review.on_intake", "review.review_if_due",
                     "aftersales.apply_action"}
# The person acting on themselves, or no one signed in yet: no permission to hold.
# shops.receive_shop_message: the shop's signature is the credential (a channel actor then
# acts with the integration role, checked by receive_channel_order).
NOT_PERMISSION_CHECKED = {"shops.receive_shop_message",
                          "tokens.authenticate", "users.sign_in", "users.session_actor",
                          "users.touch_session", "users.sign_out",
                          "users.change_password", "users.sign_out_everywhere",
                          "portal.prove_by_phone",  # the customer proving who they are
                          # the customer, proven by the order's contact (services/_cases.py)
                          "aftersales.open_case_as_customer",
                          "aftersales.act_on_case_as_customer",
                          "aftersales.get_case_as_customer", "aftersales.customer_cases",
                          "aftersales.returnable_lines",
                          "complaints.open_complaint_as_customer",
                          "complaints.customer_message", "complaints.get_complaint_as_customer",
                          # the worker's timed job, as the system
                          "complaints.scan_breaches"}
MODULES = (orders, catalogue, inventory, queries, tokens, users, audit, portal, privacy,
           customers, review, blocklist, channel_orders, imports, shops, edi, tracking,
           carriers, labels, aftersales, refunds, complaints, analytics)
# Carriers' pushes prove who they are by their signature; the worker's jobs act as the system.
NOT_PERMISSION_CHECKED |= {"tracking.receive_update", "tracking.receive_kuaidi100_push",
                           "tracking.receive_sf_push", "tracking.scan_silent_parcels",
                           "tracking.subscribe_pending"}


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
