"""Every endpoint of the API, with the permission it needs and a way to call it successfully.

The permission matrix test (``test_permission_matrix.py``) sends each call with a token of
each role; the audit walk (``test_audit.py``) sends each changing call once and looks for its
audit row. Both first check that this catalogue lists exactly the endpoints of the OpenAPI
document, so a new endpoint cannot slip past them.

``make`` sets up what the call needs (as the system or the admin client) and returns the
request; ``audit`` is the audit action a success records.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, insert

from aftersales_support import AgreeingGateway, case_after, complaint_on, failed_refund
from conftest import ref
from dingdan.domain import aftersales as case_rules
from dingdan.domain import lifecycle
from dingdan.domain.aftersales import CaseAction, CaseType
from dingdan.domain.events import SYSTEM
from dingdan.domain.lifecycle import Action, OrderFacts, PaymentStatus, Status
from dingdan.domain.permissions import Permission, permission_for
from dingdan.services import tokens, users
from dingdan.store.tables_carriers import rate_choices
from dingdan.store.uow import UnitOfWorkFactory
from helpers import order_body
from people_support import ACTION_INPUT, PATHS, World

API = "/api/v1"
P = Permission


@dataclass
class Call:
    url: str
    json: Any = None
    params: dict[str, Any] | None = None
    files: dict[str, Any] | None = None  # a multipart upload (with ``data``, its fields)
    data: dict[str, Any] | None = None
    content: bytes | None = None  # a raw body (EDI)


@dataclass
class Ctx:
    admin: httpx.AsyncClient
    uows: UnitOfWorkFactory
    world: World
    webhooks: list[int] = field(default_factory=list)  # deleted by close()
    rows: list[tuple[Any, int]] = field(default_factory=list)  # (table, id) deleted by close()

    @classmethod
    async def create(cls, admin: httpx.AsyncClient) -> Ctx:
        uows: UnitOfWorkFactory = admin.app.state.uow  # type: ignore[attr-defined]
        return cls(admin, uows, await World.create(uows))

    async def close(self) -> None:
        """Remove what other tests would trip over in a shared database: webhooks, and the
        dead letters and alerts made here (a worker in another test would pick them up)."""
        for webhook_id in self.webhooks:
            await self.admin.delete(f"{API}/webhooks/{webhook_id}")
        async with self.uows() as uow:
            for table, row_id in self.rows:
                await uow.conn.execute(delete(table).where(table.c.id == row_id))
            await uow.commit()

    async def order(self, status: Status = Status.PENDING_PAYMENT, cod: bool = False) -> str:
        number = await self.world.place(cod)
        await self.world.drive(number, status)
        return number

    async def person(self, active: bool = True) -> int:
        user = await users.create_user(users.CreateUser(users.UserFields(
            "李娜", f"{ref().lower()}@example.com", roles=frozenset({"viewer"})), SYSTEM),
            self.uows())
        if not active:
            await users.set_active(users.SetActive(user["id"], False, SYSTEM), self.uows())
        return int(user["id"])

    async def token(self) -> int:
        issued = await tokens.issue_token(ref("shop"), self.uows(), roles=["integration"],
                                          actor=SYSTEM)
        return issued.id

    async def insert(self, table: Any, values: dict[str, Any]) -> int:
        async with self.uows() as uow:
            new_id = (await uow.conn.execute(insert(table).values(**values)
                                             .returning(table.c.id))).scalar_one()
            await uow.commit()
        self.rows.append((table, int(new_id)))
        return int(new_id)


@dataclass
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document
    permission: Permission | None  # None: anyone signed in
    make: Callable[[Ctx], Awaitable[Call]]
    audit: str | None = None  # what a success records in the audit log
    label: str = ""  # tells variants of one endpoint apart
    cleanup: Callable[[Ctx, Call, httpx.Response], Awaitable[None]] | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}{f' ({self.label})' if self.label else ''}"


def _const(url: str, **kw: Any) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        return Call(url, **kw)
    return make


# --- orders ---------------------------------------------------------------------------------

def _action_source(action: Action) -> tuple[Status, bool]:
    """A status the action is taken from on a normal order (or a cash-on-delivery one)."""
    for t in lifecycle.TRANSITIONS:
        if t.action is action and t.source in PATHS:
            for cod in (False, True):
                facts = OrderFacts(t.source, PaymentStatus.UNPAID, "cod" if cod else "alipay",
                                   Status.PAID)
                if t.guard is None or t.guard(facts):
                    return t.source, cod
    raise AssertionError(f"no way to {action}")


def _lifecycle(action: Action, source: Status | None = None,
               label: str = "") -> Endpoint:
    status, cod = (source, False) if source else _action_source(action)

    async def make(ctx: Ctx) -> Call:
        number = await ctx.order(status, cod)
        return Call(f"{API}/orders/{number}/{action.value.replace('_', '-')}",
                    json=ACTION_INPUT.get(action) or None)

    return Endpoint("POST", f"{API}/orders/{{number}}/{action.value.replace('_', '-')}",
                    permission_for(action, status.value), make, f"order.{action.value}", label)


async def _new_order(ctx: Ctx, suffix: str = "") -> Call:
    return Call(f"{API}/orders/{await ctx.order()}{suffix}")


async def _place(ctx: Ctx) -> Call:
    return Call(f"{API}/orders", json=order_body([(ctx.world.sku, 1)], external_id=ref("E")))


async def _contact(ctx: Ctx) -> Call:
    call = await _new_order(ctx, "/contact")
    call.json = {"customer": {"name": "张伟", "phone": "13900139000",
                              "email": "zw@example.com"}, "reason": "new phone"}
    return call


async def _address(ctx: Ctx) -> Call:
    call = await _new_order(ctx, "/shipping-address")
    call.json = {"shipping_address": {
        "recipient": "张伟", "phone": "13800138000", "province": "上海市", "city": "上海市",
        "district": "浦东新区", "street": "陆家嘴环路 1 号", "postcode": "200120"},
        "reason": "moved"}
    return call


async def _note(ctx: Ctx) -> Call:
    call = await _new_order(ctx, "/notes")
    call.json = {"note": "客户来电"}
    return call


ORDERS: list[Endpoint] = [
    Endpoint("POST", f"{API}/orders", P.ORDER_CREATE, _place, "order.place"),
    Endpoint("GET", f"{API}/orders", P.ORDER_READ, _const(f"{API}/orders")),
    Endpoint("GET", f"{API}/orders/{{number}}", P.ORDER_READ, _new_order),
    Endpoint("GET", f"{API}/orders/{{number}}/events", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/events")),
    *(_lifecycle(a) for a in Action if a is not Action.TIMEOUT),
    _lifecycle(Action.CANCEL, Status.PICKING, "late"),
    Endpoint("POST", f"{API}/orders/{{number}}/notes", P.ORDER_NOTE, _note, "order.note"),
    Endpoint("PUT", f"{API}/orders/{{number}}/contact", P.ORDER_EDIT, _contact,
             "order.contact"),
    Endpoint("PUT", f"{API}/orders/{{number}}/shipping-address", P.ORDER_EDIT, _address,
             "order.address"),
]

# --- catalogue and stock --------------------------------------------------------------------


async def _product(ctx: Ctx) -> Call:
    return Call(f"{API}/products/{ctx.world.sku}", json={"name": ref("保温杯")})


async def _warehouse(ctx: Ctx) -> Call:
    return Call(f"{API}/warehouses/{ctx.world.warehouse}", json={"city": ref("城")})


def _move(path: str, quantity: int) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        return Call(f"{API}/stock/{path}", json={"sku": ctx.world.sku,
                                                 "warehouse": ctx.world.warehouse,
                                                 "quantity": quantity, "reason": "count"})
    return make


CATALOGUE: list[Endpoint] = [
    Endpoint("GET", f"{API}/products", P.ORDER_READ, _const(f"{API}/products")),
    Endpoint("POST", f"{API}/products", P.CATALOGUE_WRITE, lambda ctx: _const(
        f"{API}/products", json={"sku": ref("P"), "name": "新品", "price": 100})(ctx),
        "product.create"),
    Endpoint("GET", f"{API}/products/{{sku}}", P.ORDER_READ,
             lambda ctx: _const(f"{API}/products/{ctx.world.sku}")(ctx)),
    Endpoint("PATCH", f"{API}/products/{{sku}}", P.CATALOGUE_WRITE, _product, "product.update"),
    Endpoint("GET", f"{API}/warehouses", P.ORDER_READ, _const(f"{API}/warehouses")),
    Endpoint("POST", f"{API}/warehouses", P.CATALOGUE_WRITE, lambda ctx: _const(
        f"{API}/warehouses", json={"code": ref("W"), "name": "新仓", "region": "江苏",
                                   "active": False})(ctx), "warehouse.create"),
    Endpoint("GET", f"{API}/warehouses/{{code}}", P.ORDER_READ,
             lambda ctx: _const(f"{API}/warehouses/{ctx.world.warehouse}")(ctx)),
    Endpoint("PATCH", f"{API}/warehouses/{{code}}", P.CATALOGUE_WRITE, _warehouse,
             "warehouse.update"),
    Endpoint("GET", f"{API}/stock", P.ORDER_READ,
             lambda ctx: _const(f"{API}/stock", params={"sku": ctx.world.sku})(ctx)),
    Endpoint("POST", f"{API}/stock/receipts", P.STOCK_WRITE, _move("receipts", 5),
             "stock.receipt"),
    Endpoint("POST", f"{API}/stock/adjustments", P.STOCK_WRITE, _move("adjustments", -1),
             "stock.adjustment"),
    Endpoint("GET", f"{API}/stock/movements", P.ORDER_READ, _const(f"{API}/stock/movements")),
]

# --- people, tokens, audit ------------------------------------------------------------------


def _user(suffix: str = "", active: bool = True,
          body: dict[str, Any] | None = None) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        return Call(f"{API}/users/{await ctx.person(active)}{suffix}", json=body)
    return make


async def _revoke(ctx: Ctx) -> Call:
    return Call(f"{API}/tokens/{await ctx.token()}/revoke")


async def _anonymise(ctx: Ctx) -> Call:
    phone = f"139{random.randrange(10**8):08d}"
    await ctx.world.completed_for(phone)
    return Call(f"{API}/privacy/anonymise", json={"phone": phone, "reason": "客户申请删除 #1"})


PEOPLE: list[Endpoint] = [
    Endpoint("GET", f"{API}/me", None, _const(f"{API}/me")),
    Endpoint("GET", f"{API}/users", P.PEOPLE_MANAGE, _const(f"{API}/users")),
    Endpoint("POST", f"{API}/users", P.PEOPLE_MANAGE, lambda ctx: _const(
        f"{API}/users", json={"name": "王芳", "email": f"{ref().lower()}@example.com",
                              "roles": ["finance"]})(ctx), "user.create"),
    Endpoint("GET", f"{API}/users/{{user_id}}", P.PEOPLE_MANAGE, _user()),
    Endpoint("PATCH", f"{API}/users/{{user_id}}", P.PEOPLE_MANAGE,
             _user(body={"roles": ["reviewer"]}), "user.update"),
    Endpoint("POST", f"{API}/users/{{user_id}}/deactivate", P.PEOPLE_MANAGE,
             _user("/deactivate"), "user.deactivate"),
    Endpoint("POST", f"{API}/users/{{user_id}}/activate", P.PEOPLE_MANAGE,
             _user("/activate", active=False), "user.activate"),
    Endpoint("POST", f"{API}/users/{{user_id}}/password", P.PEOPLE_MANAGE,
             _user("/password", body={"password": "a new good one"}), "user.password_reset"),
    Endpoint("GET", f"{API}/tokens", P.PEOPLE_MANAGE, _const(f"{API}/tokens")),
    Endpoint("POST", f"{API}/tokens", P.PEOPLE_MANAGE, lambda ctx: _const(
        f"{API}/tokens", json={"name": ref("erp"), "roles": ["integration"],
                               "expires_in_days": 30})(ctx), "token.issue"),
    Endpoint("POST", f"{API}/tokens/{{token_id}}/revoke", P.PEOPLE_MANAGE, _revoke,
             "token.revoke"),
    Endpoint("GET", f"{API}/audit", P.AUDIT_READ, _const(f"{API}/audit")),
    Endpoint("POST", f"{API}/privacy/anonymise", P.PII_ERASE, _anonymise,
             "customer.anonymise"),
]

# --- webhooks, push, notifications, SLAs (issue 4) ------------------------------------------


async def _webhook(ctx: Ctx) -> int:
    r = await ctx.admin.post(f"{API}/webhooks", json={
        "url": "https://erp.example.com/hook", "event_types": ["order.shipped"],
        "active": False})  # never delivered to: other tests share the database
    assert r.status_code == 201, r.text
    ctx.webhooks.append(int(r.json()["id"]))
    return ctx.webhooks[-1]


async def _forget_webhook(ctx: Ctx, call: Call, r: httpx.Response) -> None:
    ctx.webhooks.append(int(r.json()["id"]))


def _hook(suffix: str = "", body: dict[str, Any] | None = None,
          ) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        return Call(f"{API}/webhooks/{await _webhook(ctx)}{suffix}", json=body)
    return make


async def _dead_letter(ctx: Ctx) -> int:
    from dingdan.store.tables_delivery import deliveries

    now = datetime.now(UTC)
    return await ctx.insert(deliveries, {
        "event_id": ref("EV"), "channel": "email", "recipient": "nobody@example.com",
        "kind": "shipped", "audience": "customer", "event_type": "order.shipped",
        "order_number": None, "language": "zh-CN", "status": "dead", "attempts": 8,
        "next_attempt_at": now, "payload": {}, "fallback": [], "created_at": now,
        "updated_at": now, "dead_at": now, "last_error": "test"})


async def _replay_one(ctx: Ctx) -> Call:
    return Call(f"{API}/dead-letters/{await _dead_letter(ctx)}/replay")


async def _replay_bulk(ctx: Ctx) -> Call:
    return Call(f"{API}/dead-letters/replay", json={"ids": [await _dead_letter(ctx)]})


async def _alert(ctx: Ctx) -> Call:
    from dingdan.store.tables_delivery import alerts

    now = datetime.now(UTC)
    alert_id = await ctx.insert(alerts, {
        "order_number": await ctx.order(), "stage": "payment", "kind": "at_risk",
        "role": "finance", "deadline": now + timedelta(hours=1), "created_at": now})
    return Call(f"{API}/alerts/{alert_id}/acknowledge")


async def _policy(ctx: Ctx) -> Call:
    """The first stage's policy, put back as it is (other tests keep their SLAs)."""
    r = await ctx.admin.get(f"{API}/sla/policies")
    p = r.json()[0]
    return Call(f"{API}/sla/policies/{p['stage']}", json={
        k: p[k] for k in ("minutes", "working_time", "warn_minutes", "role", "active")})


def _some_day() -> date:
    return date(2090, 1, 1) + timedelta(days=random.randrange(20_000))


async def _put_day(ctx: Ctx) -> Call:
    return Call(f"{API}/sla/holidays/{_some_day().isoformat()}",
                json={"kind": "holiday", "name": "测试假日"})


async def _delete_day(ctx: Ctx) -> Call:
    day = _some_day().isoformat()
    r = await ctx.admin.put(f"{API}/sla/holidays/{day}", json={"kind": "holiday", "name": "x"})
    assert r.status_code == 200, r.text
    return Call(f"{API}/sla/holidays/{day}")


async def _template_key(ctx: Ctx) -> str:
    r = await ctx.admin.get(f"{API}/notification-templates")
    t = r.json()[0]
    return f"{t['kind']}/{t['channel']}/{t['language']}"


async def _template(ctx: Ctx) -> Call:
    return Call(f"{API}/notification-templates/{await _template_key(ctx)}")


async def _put_template(ctx: Ctx) -> Call:
    call = await _template(ctx)
    current = (await ctx.admin.get(call.url)).json()
    call.json = {"subject": current["subject"], "text": current["text"],
                 "html": current["html"]}
    return call


async def _revert_template(ctx: Ctx, call: Call, r: httpx.Response) -> None:
    await ctx.admin.delete(call.url)  # other tests see the packaged default again


async def _overridden_template(ctx: Ctx) -> Call:
    call = await _put_template(ctx)
    r = await ctx.admin.put(call.url, json=call.json)
    assert r.status_code == 200, r.text
    return Call(call.url)


async def _preview(ctx: Ctx) -> Call:
    kind, channel, language = (await _template_key(ctx)).split("/")
    return Call(f"{API}/notification-templates/preview",
                json={"kind": kind, "channel": channel, "language": language})


def _subscription() -> dict[str, Any]:
    return {"endpoint": f"https://push.example.com/{ref('EP')}",
            "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1"
                               "XbjhazAkj7I99e8QcYP7DkM",
                     "auth": "tBHItJI5svbpez7KI4CCXg"}}


async def _subscribe(ctx: Ctx) -> Call:
    return Call(f"{API}/push/subscriptions", json={"subscription": _subscription(),
                                                   "order_number": await ctx.order()})


async def _unsubscribe(ctx: Ctx) -> Call:
    sub = _subscription()
    r = await ctx.admin.post(f"{API}/push/subscriptions",
                             json={"subscription": sub, "order_number": await ctx.order()})
    assert r.status_code == 201, r.text
    return Call(f"{API}/push/subscriptions", params={"endpoint": sub["endpoint"]})


async def _contact_key(ctx: Ctx) -> str:
    return f"{ref().lower()}@example.com"


async def _preferences(ctx: Ctx) -> Call:
    return Call(f"{API}/notification-preferences/{await _contact_key(ctx)}",
                json={"channels": {"*": ["email"]}})


NOTIFICATIONS: list[Endpoint] = [
    Endpoint("GET", f"{API}/webhooks", P.SETTINGS_WRITE, _const(f"{API}/webhooks")),
    Endpoint("POST", f"{API}/webhooks", P.SETTINGS_WRITE, _const(
        f"{API}/webhooks", json={"url": "https://erp.example.com/hook",
                                 "event_types": ["order.*"], "active": False}),
             "webhook.create", cleanup=_forget_webhook),
    Endpoint("GET", f"{API}/webhooks/{{subscription_id}}", P.SETTINGS_WRITE, _hook()),
    Endpoint("PATCH", f"{API}/webhooks/{{subscription_id}}", P.SETTINGS_WRITE,
             _hook(body={"description": "ERP"}), "webhook.update"),
    Endpoint("DELETE", f"{API}/webhooks/{{subscription_id}}", P.SETTINGS_WRITE, _hook(),
             "webhook.delete"),
    Endpoint("GET", f"{API}/webhooks/{{subscription_id}}/deliveries", P.SETTINGS_WRITE,
             _hook("/deliveries")),
    Endpoint("POST", f"{API}/webhooks/{{subscription_id}}/replay", P.SETTINGS_WRITE,
             # a window with no events: nothing is queued for other tests' workers
             _hook("/replay", {"since": "2099-01-01T00:00:00+08:00"}), "webhook.replay"),
    Endpoint("GET", f"{API}/push/vapid-public-key", None, _const(f"{API}/push/vapid-public-key")),
    # following an order's pushes means reading the customer's messages: personal data
    Endpoint("POST", f"{API}/push/subscriptions", P.PII_READ, _subscribe, "push.subscribe"),
    Endpoint("DELETE", f"{API}/push/subscriptions", None, _unsubscribe),
    Endpoint("GET", f"{API}/orders/{{number}}/messages", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/messages")),
    Endpoint("GET", f"{API}/orders/{{number}}/sla", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/sla")),
    Endpoint("GET", f"{API}/dead-letters", P.ORDER_READ, _const(f"{API}/dead-letters")),
    Endpoint("POST", f"{API}/dead-letters/{{delivery_id}}/replay", P.SETTINGS_WRITE, _replay_one,
             "dead_letters.replay"),
    Endpoint("POST", f"{API}/dead-letters/replay", P.SETTINGS_WRITE, _replay_bulk,
             "dead_letters.replay"),
    Endpoint("GET", f"{API}/sla/policies", P.ORDER_READ, _const(f"{API}/sla/policies")),
    Endpoint("PUT", f"{API}/sla/policies/{{stage}}", P.SETTINGS_WRITE, _policy,
             "sla_policy.put"),
    Endpoint("GET", f"{API}/sla/holidays", P.ORDER_READ, _const(f"{API}/sla/holidays")),
    Endpoint("PUT", f"{API}/sla/holidays/{{day}}", P.SETTINGS_WRITE, _put_day, "holiday.put"),
    Endpoint("DELETE", f"{API}/sla/holidays/{{day}}", P.SETTINGS_WRITE, _delete_day,
             "holiday.delete"),
    Endpoint("GET", f"{API}/alerts", P.ORDER_READ, _const(f"{API}/alerts")),
    Endpoint("POST", f"{API}/alerts/{{alert_id}}/acknowledge", P.ORDER_NOTE, _alert,
             "alert.acknowledge"),
    Endpoint("GET", f"{API}/notification-preferences/{{contact}}", P.ORDER_READ,
             lambda ctx: _const(f"{API}/notification-preferences/13800138000")(ctx)),
    Endpoint("PUT", f"{API}/notification-preferences/{{contact}}", P.ORDER_EDIT, _preferences,
             "preferences.put"),
    Endpoint("GET", f"{API}/notification-templates", P.ORDER_READ,
             _const(f"{API}/notification-templates")),
    Endpoint("GET", f"{API}/notification-templates/{{kind}}/{{channel}}/{{language}}",
             P.ORDER_READ, _template),
    Endpoint("PUT", f"{API}/notification-templates/{{kind}}/{{channel}}/{{language}}",
             P.SETTINGS_WRITE, _put_template, "template.put", cleanup=_revert_template),
    Endpoint("DELETE", f"{API}/notification-templates/{{kind}}/{{channel}}/{{language}}",
             P.SETTINGS_WRITE, _overridden_template, "template.revert"),
    Endpoint("POST", f"{API}/notification-templates/preview", P.ORDER_READ, _preview),
]

# --- customers and the auto-review (issue 9) ------------------------------------------------


async def _customer_row(ctx: Ctx, name: str = "王芳") -> int:
    from dingdan.store.tables_review import customers

    now = datetime.now(UTC)
    return await ctx.insert(customers, dict(kind="person", name=name, tier="standard",
                                            blocked=False, version=1, created_at=now,
                                            updated_at=now))


async def _customer(ctx: Ctx) -> Call:
    return Call(f"{API}/customers/{await _customer_row(ctx)}")


async def _customer_edit(ctx: Ctx) -> Call:
    return Call(f"{API}/customers/{await _customer_row(ctx)}", json={"tier": "trusted"})


async def _customer_merge(ctx: Ctx) -> Call:
    away = await _customer_row(ctx, "王芳 (dup)")  # made first: removed first by close()
    keep = await _customer_row(ctx)
    return Call(f"{API}/customers/{keep}/merge", json={"from_customer": away})


async def _publish_rules(ctx: Ctx) -> Call:
    current = (await ctx.admin.get(f"{API}/review/rules")).json()
    # switched off: other tests sharing the database keep paid orders waiting for a person
    return Call(f"{API}/review/rules", json={"rules": [], "enabled": False,
                                             "expected_version": current["version"]})


async def _run_rules(ctx: Ctx) -> Call:
    return Call(f"{API}/orders/{await ctx.order(Status.PAID)}/run-rules")


def _block_body() -> dict[str, Any]:
    return {"kind": "email", "value": f"{ref().lower()}@example.com", "reason": "chargebacks"}


async def _blocked(ctx: Ctx) -> Call:
    r = await ctx.admin.post(f"{API}/review/blocklist", json=_block_body())
    assert r.status_code == 201, r.text
    return Call(f"{API}/review/blocklist/{r.json()['id']}")


async def _unblock(ctx: Ctx, call: Call, r: httpx.Response) -> None:
    await ctx.admin.delete(f"{API}/review/blocklist/{r.json()['id']}")


async def _bulk_approve(ctx: Ctx) -> Call:
    return Call(f"{API}/review/approve",
                json={"numbers": [await ctx.order(Status.PENDING_REVIEW)]})


REVIEW: list[Endpoint] = [
    Endpoint("GET", f"{API}/customers", P.ORDER_READ, _const(f"{API}/customers")),
    Endpoint("GET", f"{API}/customers/{{customer_id}}", P.ORDER_READ, _customer),
    Endpoint("PATCH", f"{API}/customers/{{customer_id}}", P.CUSTOMER_WRITE, _customer_edit,
             "customer.update"),
    Endpoint("POST", f"{API}/customers/{{customer_id}}/merge", P.CUSTOMER_WRITE,
             _customer_merge, "customer.merge"),
    Endpoint("GET", f"{API}/review/rules", P.ORDER_READ, _const(f"{API}/review/rules")),
    Endpoint("PUT", f"{API}/review/rules", P.SETTINGS_WRITE, _publish_rules,
             "review_rules.publish"),
    Endpoint("GET", f"{API}/orders/{{number}}/review", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/review")),
    Endpoint("POST", f"{API}/review/approve", P.ORDER_REVIEW, _bulk_approve, "order.approve"),
    Endpoint("GET", f"{API}/review/blocklist", P.SETTINGS_WRITE,
             _const(f"{API}/review/blocklist")),
    # an email no order uses: other tests sharing the database are not held by it
    Endpoint("POST", f"{API}/review/blocklist", P.SETTINGS_WRITE,
             lambda ctx: _const(f"{API}/review/blocklist", json=_block_body())(ctx),
             "blocklist.add", cleanup=_unblock),
    Endpoint("DELETE", f"{API}/review/blocklist/{{entry_id}}", P.SETTINGS_WRITE, _blocked,
             "blocklist.remove"),
    Endpoint("POST", f"{API}/review/dry-run", P.SETTINGS_WRITE, _const(
        f"{API}/review/dry-run", json={"rules": [
            {"code": "big", "reason_type": "other", "when": ["order.total > 100"]}]})),
    Endpoint("POST", f"{API}/orders/{{number}}/run-rules", P.ORDER_REVIEW, _run_rules,
             "order.run_rules"),
]


# --- intake: sheet imports, connected shops (issue 10) ----------------------------------------


def _sheet(ctx: Ctx) -> bytes:
    return ("order_id,recipient,phone,province,city,district,street,sku,quantity\n"
            f"{ref('IMP')},张伟,13800138000,上海市,上海市,浦东新区,世纪大道 1 号,"
            f"{ctx.world.sku},1\n").encode()


async def _upload(ctx: Ctx) -> Call:
    return Call(f"{API}/imports", files={"file": ("orders.csv", _sheet(ctx), "text/csv")},
                data={"channel": "csv-perm"})


async def _batch(ctx: Ctx, suffix: str = "") -> Call:
    from zoneinfo import ZoneInfo

    from dingdan.services import imports

    batch = await imports.check_import(imports.CheckImport(
        "csv-perm", "orders.csv", _sheet(ctx), SYSTEM, ZoneInfo("Asia/Shanghai")), ctx.uows())
    return Call(f"{API}/imports/{batch['id']}{suffix}")


async def _shop(ctx: Ctx) -> Call:
    return Call(f"{API}/channel-sources", json={
        "code": ref("shop").lower(), "kind": "shopify", "name": "Shopify 店",
        "secret": "shpss_" + ref("S") * 2})


async def _edi(ctx: Ctx) -> Call:
    number = ref("PO")
    return Call(f"{API}/edi/interchanges", content=(
        "UNA:+.? 'UNB+UNOC:3+PARTNER:14+DINGDAN:14+261111:0930+IC1'UNH+1+ORDERS:D:96A:UN'"
        f"BGM+220+{number}+9'NAD+DP+++张伟+世纪大道 1 号+上海市+上海市+200120+CN'"
        f"COM+13800138000:TE'LIN+1++{ctx.world.sku}:SA'QTY+21:1'UNS+S'UNT+8+1'UNZ+1+IC1'"
    ).encode())


async def _shipped_edi(ctx: Ctx) -> Call:
    from dingdan.services import edi

    sent = (await _edi(ctx)).content
    assert sent is not None
    answer = await edi.receive_edi(sent.decode(), SYSTEM, ctx.uows)
    number = answer.orders[0].number
    assert number is not None, answer
    await ctx.world.drive(number, Status.SHIPPED)
    return Call(f"{API}/orders/{number}/ship-notice")


INTAKE: list[Endpoint] = [
    Endpoint("POST", f"{API}/imports", P.ORDER_CREATE, _upload, "import.check"),
    Endpoint("GET", f"{API}/imports", P.ORDER_CREATE, _const(f"{API}/imports")),
    Endpoint("GET", f"{API}/imports/{{batch_id}}", P.ORDER_CREATE, _batch),
    Endpoint("GET", f"{API}/imports/{{batch_id}}/report", P.ORDER_CREATE,
             lambda ctx: _batch(ctx, "/report")),
    Endpoint("POST", f"{API}/imports/{{batch_id}}/run", P.ORDER_CREATE,
             lambda ctx: _batch(ctx, "/run"), "import.import"),
    Endpoint("POST", f"{API}/imports/{{batch_id}}/discard", P.ORDER_CREATE,
             lambda ctx: _batch(ctx, "/discard"), "import.discard"),
    Endpoint("POST", f"{API}/channel-sources", P.SETTINGS_WRITE, _shop, "channel_source.create"),
    Endpoint("GET", f"{API}/channel-sources", P.SETTINGS_WRITE, _const(f"{API}/channel-sources")),
    Endpoint("POST", f"{API}/edi/interchanges", P.ORDER_CREATE, _edi, "order.place"),
    Endpoint("GET", f"{API}/orders/{{number}}/ship-notice", P.ORDER_READ, _shipped_edi),
]


async def _shipped_order(ctx: Ctx, suffix: str = "") -> Call:
    return Call(f"{API}/orders/{await ctx.order(Status.SHIPPED)}{suffix}")


TRACKING: list[Endpoint] = [
    # Signed by the carrier, not by a person: the walk sends JSON and gets 422; the signed
    # pushes (and their tracking.scans audit rows) are in test_tracking_push.py.
    Endpoint("POST", f"{API}/carrier-callbacks/kuaidi100", None,
             _const(f"{API}/carrier-callbacks/kuaidi100")),
    Endpoint("POST", f"{API}/carrier-callbacks/sf-express", None,
             _const(f"{API}/carrier-callbacks/sf-express")),
    Endpoint("GET", f"{API}/orders/{{number}}/tracking", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/tracking")),
    Endpoint("POST", f"{API}/orders/{{number}}/tracking-subscriptions", P.ORDER_TRACK,
             lambda ctx: _shipped_order(ctx, "/tracking-subscriptions"), "tracking.subscribe"),
    Endpoint("GET", f"{API}/tracking/exceptions", P.ORDER_READ,
             _const(f"{API}/tracking/exceptions")),
]

def _carrier_code() -> str:
    return f"C{random.randrange(16**8):08X}"


async def _put_carrier(ctx: Ctx) -> Call:
    return Call(f"{API}/carriers/{_carrier_code()}", json={
        "name_zh": "测试快递", "name_en": "Test Express",
        "services": [{"code": "standard", "name_zh": "标快", "name_en": "Standard",
                      "transit_days": 2}]})


async def _rate_table(ctx: Ctx) -> Call:
    carrier = _carrier_code()
    r = await ctx.admin.put(f"{API}/carriers/{carrier}", json={
        "name_zh": "测试快递", "name_en": "Test Express",
        "services": [{"code": "standard", "name_zh": "标快", "name_en": "Standard",
                      "transit_days": 2}]})
    assert r.status_code == 200, r.text
    sheet = ("carrier,service,origin,destination,min_kg,max_kg,first_kg,first_price,step_kg,"
             f"step_price\n{carrier},standard,广东,上海,0,30,1,12,1,2\n")
    return Call(f"{API}/rate-tables", files={"file": ("rates.csv", sheet.encode(), "text/csv")})


CARRIERS: list[Endpoint] = [
    Endpoint("GET", f"{API}/carriers", P.ORDER_READ, _const(f"{API}/carriers")),
    Endpoint("PUT", f"{API}/carriers/{{code}}", P.SETTINGS_WRITE, _put_carrier, "carrier.put"),
    Endpoint("POST", f"{API}/rate-tables", P.SETTINGS_WRITE, _rate_table, "rate_table.import"),
    Endpoint("POST", f"{API}/orders/{{number}}/rate-shop", P.ORDER_FULFIL,
             lambda ctx: _with_json(_new_order(ctx, "/rate-shop"), {"weight_g": 1000}),
             "order.rate_shop"),
    Endpoint("GET", f"{API}/orders/{{number}}/rate-choices", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/rate-choices")),
]


async def _with_json(call: Awaitable[Call], body: Any) -> Call:
    made = await call
    made.json = body
    return made


async def _carrier_with_numbers(ctx: Ctx) -> tuple[str, int]:
    """A carrier with one service and three waybill numbers: (code, service id)."""
    code = _carrier_code()
    r = await ctx.admin.put(f"{API}/carriers/{code}", json={
        "name_zh": "测试快递", "name_en": "Test Express",
        "services": [{"code": "standard", "name_zh": "标快", "name_en": "Standard",
                      "transit_days": 2}]})
    assert r.status_code == 200, r.text
    r = await ctx.admin.post(f"{API}/carriers/{code}/waybill-numbers",
                             json={"first": 1, "count": 3, "width": 12})
    assert r.status_code == 201, r.text
    async with ctx.uows(read_only=True) as uow:
        service = next(s for s in await uow.carriers.services() if s["carrier"] == code)
    return code, int(service["id"])


async def _rated_packed_order(ctx: Ctx) -> str:
    """A packed order whose rate shopping chose a service with numbers in its pool."""
    _, service_id = await _carrier_with_numbers(ctx)
    number = await ctx.order(Status.PACKED)
    async with ctx.uows(read_only=True) as uow:
        state = await uow.orders.get_state(number)
        now = uow.now()
    assert state is not None
    await ctx.insert(rate_choices, {
        "order_id": state.id, "service_id": service_id, "price": 1200, "currency": "CNY",
        "promised_at": now, "keeps_promise": True, "weight_g": 1000, "alternatives": [],
        "reason": "test", "actor": "system:test", "created_at": now})
    return number


async def _labelled(ctx: Ctx, suffix: str, body: Any = None) -> Call:
    number = await _rated_packed_order(ctx)
    r = await ctx.admin.post(f"{API}/orders/{number}/labels", json={})
    assert r.status_code == 201, r.text
    return Call(f"{API}/orders/{number}/labels/{r.json()['id']}{suffix}", json=body)


async def _numbers(ctx: Ctx) -> Call:
    code, _ = await _carrier_with_numbers(ctx)
    return Call(f"{API}/carriers/{code}/waybill-numbers", json={"first": 100, "count": 2,
                                                                "width": 12})


async def _label(ctx: Ctx) -> Call:
    return Call(f"{API}/orders/{await _rated_packed_order(ctx)}/labels", json={})


LABELS: list[Endpoint] = [
    Endpoint("POST", f"{API}/carriers/{{code}}/waybill-numbers", P.SETTINGS_WRITE, _numbers,
             "waybill_numbers.add"),
    Endpoint("POST", f"{API}/orders/{{number}}/labels", P.ORDER_FULFIL, _label, "label.issue"),
    Endpoint("GET", f"{API}/orders/{{number}}/labels", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/labels")),
    Endpoint("GET", f"{API}/orders/{{number}}/labels/{{label_id}}/pdf", P.ORDER_FULFIL,
             lambda ctx: _labelled(ctx, "/pdf")),
    Endpoint("POST", f"{API}/orders/{{number}}/labels/{{label_id}}/void", P.ORDER_FULFIL,
             lambda ctx: _labelled(ctx, "/void", {"reason": "重新打包"}), "label.void"),
    Endpoint("POST", f"{API}/orders/{{number}}/labels/{{label_id}}/ship", P.ORDER_FULFIL,
             lambda ctx: _labelled(ctx, "/ship"), "order.ship"),
]

# --- after-sales, refunds, complaints (issue 13) ----------------------------------------------

CA = CaseAction
# The actions that bring a case to where each endpoint's action may be taken.
_CASE_PATHS: dict[CaseAction, tuple[tuple[CaseAction, ...], CaseType]] = {
    CA.APPROVE: ((), CaseType.RETURN_REFUND),
    CA.DECLINE: ((), CaseType.RETURN_REFUND),
    CA.CANCEL: ((), CaseType.RETURN_REFUND),
    CA.SEND_BACK: ((CA.APPROVE,), CaseType.RETURN_REFUND),
    CA.RECEIVE: ((CA.APPROVE, CA.SEND_BACK), CaseType.RETURN_REFUND),
    CA.INSPECT: ((CA.APPROVE, CA.SEND_BACK, CA.RECEIVE), CaseType.RETURN_REFUND),
    CA.EXCHANGE: ((CA.APPROVE, CA.SEND_BACK, CA.RECEIVE, CA.INSPECT), CaseType.EXCHANGE),
    CA.REPAIR: ((CA.APPROVE, CA.SEND_BACK, CA.RECEIVE, CA.INSPECT), CaseType.EXCHANGE),
    CA.CLOSE: ((CA.APPROVE, CA.SEND_BACK, CA.RECEIVE, CA.INSPECT, CA.EXCHANGE),
               CaseType.EXCHANGE),
    CA.REFUND: ((CA.APPROVE,), CaseType.REFUND_ONLY),
}
_CASE_BODY: dict[CaseAction, dict[str, Any]] = {
    CA.DECLINE: {"reason": "not our product"}, CA.CANCEL: {"reason": "customer asked"},
    CA.SEND_BACK: {"return_waybill": "SF1000000002"},
    CA.INSPECT: {"conditions": [{"line_no": 1, "condition": "good"}]},
    CA.REFUND: {"method": "manual", "reference": "ICBC-2"},
}


def _case_endpoint(action: CaseAction) -> Endpoint:
    upto, type = _CASE_PATHS[action]
    path = action.value.replace("_", "-")

    async def make(ctx: Ctx) -> Call:
        case = await case_after(ctx.world, *upto, type=type)
        return Call(f"{API}/aftersales/{case}/{path}", json=_CASE_BODY.get(action))

    row = next(t for t in case_rules.TRANSITIONS if t.action is action)
    audit = "refund.issue" if action is CA.REFUND else f"aftersales.{action.value}"
    return Endpoint("POST", f"{API}/aftersales/{{number}}/{path}", Permission(row.permission),
                    make, audit)


async def _open_case(ctx: Ctx) -> Call:
    number = await ctx.order(Status.DELIVERED)
    return Call(f"{API}/aftersales", json={"order_number": number, "type": "claim",
                                           "reason": "damaged",
                                           "lines": [{"line_no": 1, "quantity": 1}]})


async def _order_refund(ctx: Ctx) -> Call:
    return Call(f"{API}/orders/{await ctx.order(Status.PAID)}/refunds",
                json={"method": "manual", "amount": 100, "reference": "ICBC-3"})


async def _retry(ctx: Ctx) -> Call:
    ctx.admin.app.state.refund_gateways = {"alipay": AgreeingGateway()}  # type: ignore[attr-defined]
    return Call(f"{API}/refunds/{await failed_refund(ctx.world)}/retry")


def _complaint(suffix: str, body: dict[str, Any] | None = None,
               *first: tuple[str, dict[str, Any]]) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        number = await complaint_on(ctx.world, ctx.uows)
        for step, step_body in first:
            r = await ctx.admin.post(f"{API}/complaints/{number}/{step}", json=step_body)
            assert r.status_code in (200, 201), r.text
        return Call(f"{API}/complaints/{number}{suffix}", json=body)
    return make


_ANSWERED = ("replies", {"body": "您好"})
_RESOLVED = ("resolve", {"resolution": "已补发"})

AFTERSALES: list[Endpoint] = [
    Endpoint("GET", f"{API}/aftersales", P.ORDER_READ, _const(f"{API}/aftersales")),
    Endpoint("POST", f"{API}/aftersales", P.AFTERSALES_HANDLE, _open_case, "aftersales.open"),
    Endpoint("GET", f"{API}/aftersales/{{number}}", P.ORDER_READ,
             lambda ctx: _with_case(ctx)),
    *(_case_endpoint(a) for a in _CASE_PATHS),
    Endpoint("GET", f"{API}/orders/{{number}}/refunds", P.ORDER_READ,
             lambda ctx: _new_order(ctx, "/refunds")),
    Endpoint("POST", f"{API}/orders/{{number}}/refunds", P.ORDER_REFUND, _order_refund,
             "refund.issue"),
    Endpoint("GET", f"{API}/refunds", P.ORDER_READ, _const(f"{API}/refunds")),
    Endpoint("POST", f"{API}/refunds/{{refund_id}}/retry", P.ORDER_REFUND, _retry,
             "refund.retry"),
    Endpoint("GET", f"{API}/return-rules", P.ORDER_READ, _const(f"{API}/return-rules")),
    Endpoint("PUT", f"{API}/return-rules/{{sku_prefix}}", P.SETTINGS_WRITE,
             lambda ctx: _const(f"{API}/return-rules/{ref('RR')}",
                                json={"window_days": 15, "returnable": True})(ctx),
             "return_rule.put"),
    Endpoint("GET", f"{API}/complaints", P.ORDER_READ, _const(f"{API}/complaints")),
    Endpoint("GET", f"{API}/complaints/causes", P.ORDER_READ,
             _const(f"{API}/complaints/causes")),
    Endpoint("POST", f"{API}/complaints", P.COMPLAINT_HANDLE, lambda ctx: _new_complaint(ctx),
             "complaint.open"),
    Endpoint("GET", f"{API}/complaints/{{number}}", P.ORDER_READ, _complaint("")),
    Endpoint("POST", f"{API}/complaints/{{number}}/replies", P.COMPLAINT_HANDLE,
             _complaint("/replies", {"body": "您好，已为您处理"}), "complaint.reply"),
    Endpoint("POST", f"{API}/complaints/{{number}}/resolve", P.COMPLAINT_HANDLE,
             _complaint("/resolve", {"resolution": "已补发"}, _ANSWERED), "complaint.resolve"),
    Endpoint("POST", f"{API}/complaints/{{number}}/reopen", P.COMPLAINT_HANDLE,
             _complaint("/reopen", {"reason": "客户不满意"}, _ANSWERED, _RESOLVED),
             "complaint.reopen"),
    Endpoint("POST", f"{API}/complaints/{{number}}/close", P.COMPLAINT_HANDLE,
             _complaint("/close", None, _ANSWERED, _RESOLVED), "complaint.close"),
    Endpoint("POST", f"{API}/complaints/{{number}}/withdraw", P.COMPLAINT_HANDLE,
             _complaint("/withdraw", {"reason": "客户撤回"}), "complaint.withdraw"),
]


def _proof(number: str) -> dict[str, str]:
    return {"order_number": number, "contact": "13800138000"}  # the World's customer


def _portal_case(suffix: str, body: dict[str, Any] | None = None,
                 *upto: CaseAction) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        case = await case_after(ctx.world, *upto)
        got = await ctx.admin.get(f"{API}/aftersales/{case}")
        return Call(f"{API}/portal/aftersales/{case}{suffix}",
                    json={**_proof(got.json()["order_number"]), **(body or {})})
    return make


def _portal_complaint(suffix: str, body: dict[str, Any] | None = None,
                      ) -> Callable[[Ctx], Awaitable[Call]]:
    async def make(ctx: Ctx) -> Call:
        number = await complaint_on(ctx.world, ctx.uows)
        got = await ctx.admin.get(f"{API}/complaints/{number}")
        return Call(f"{API}/portal/complaints/{number}{suffix}",
                    json={**_proof(got.json()["order_number"]), **(body or {})})
    return make


async def _portal_open(ctx: Ctx) -> Call:
    return Call(f"{API}/portal/aftersales", json={
        **_proof(await ctx.order(Status.DELIVERED)), "type": "return_refund",
        "reason": "wrong_size", "lines": [{"line_no": 1, "quantity": 1}]})


async def _portal_lookup(ctx: Ctx) -> Call:
    return Call(f"{API}/portal/aftersales/lookup",
                json=_proof(await ctx.order(Status.DELIVERED)))


async def _portal_complain(ctx: Ctx) -> Call:
    return Call(f"{API}/portal/complaints", json={
        **_proof(await ctx.order(Status.DELIVERED)), "category": "late_delivery",
        "summary": "太慢了"})


PORTAL: list[Endpoint] = [
    Endpoint("POST", f"{API}/portal/aftersales", None, _portal_open, "aftersales.open"),
    Endpoint("POST", f"{API}/portal/aftersales/lookup", None, _portal_lookup),
    Endpoint("POST", f"{API}/portal/aftersales/{{number}}/cancel", None,
             _portal_case("/cancel", {"reason": "不想退了"}), "aftersales.cancel"),
    Endpoint("POST", f"{API}/portal/aftersales/{{number}}/send-back", None,
             _portal_case("/send-back", {"return_waybill": "SF777"}, CA.APPROVE),
             "aftersales.send_back"),
    Endpoint("POST", f"{API}/portal/complaints", None, _portal_complain, "complaint.open"),
    Endpoint("POST", f"{API}/portal/complaints/{{number}}/lookup", None,
             _portal_complaint("/lookup")),
    Endpoint("POST", f"{API}/portal/complaints/{{number}}/messages", None,
             _portal_complaint("/messages", {"body": "还没收到"}),
             "complaint.customer_message"),
]


async def _with_case(ctx: Ctx) -> Call:
    return Call(f"{API}/aftersales/{await case_after(ctx.world)}")


async def _new_complaint(ctx: Ctx) -> Call:
    return Call(f"{API}/complaints", json={
        "order_number": await ctx.order(Status.DELIVERED), "category": "late_delivery",
        "channel": "phone", "summary": "快递太慢"})



# --- analytics (read-only) ------------------------------------------------------------------


async def _forecast(ctx: Ctx) -> Call:
    return Call(f"{API}/analytics/forecast/{ctx.world.sku}")


ANALYTICS: list[Endpoint] = [
    *(Endpoint("GET", f"{API}/analytics/{name}", P.ANALYTICS_READ,
               _const(f"{API}/analytics/{name}")) for name in ("summary", "trend", "stages",
                                                               "gantt")),
    Endpoint("GET", f"{API}/analytics/breakdown/{{dimension}}", P.ANALYTICS_READ,
             _const(f"{API}/analytics/breakdown/province")),
    Endpoint("GET", f"{API}/analytics/forecast/{{sku}}", P.ANALYTICS_READ, _forecast),
]


ENDPOINTS: list[Endpoint] = [*ORDERS, *CATALOGUE, *PEOPLE, *NOTIFICATIONS, *REVIEW, *INTAKE,
                             *TRACKING, *CARRIERS, *LABELS, *AFTERSALES, *PORTAL, *ANALYTICS]

# Changing calls with no audit row, and why.
NOT_AUDITED: dict[str, str] = {
    f"DELETE {API}/push/subscriptions":
        "anyone holding the browser's push endpoint URL may drop it (a customer's own device; "
        "no person of the merchant's to record)",
    f"POST {API}/notification-templates/preview": "renders a template; changes nothing",
    f"POST {API}/review/dry-run": "replays rules over recorded facts; changes nothing",
    f"POST {API}/portal/aftersales/lookup": "the customer reads their cases (proof in the body)",
    f"POST {API}/portal/complaints/{{number}}/lookup": "the customer reads their complaint",
}
NOT_AUDITED.update({
    f"POST {API}/carrier-callbacks/kuaidi100": "a carrier's signed form push; the walk's JSON "
        "is refused (422). Signed pushes record tracking.scans (test_tracking_push.py)",
    f"POST {API}/carrier-callbacks/sf-express": "as the Kuaidi100 push",
})
# Open to callers who are not signed in.
PUBLIC: set[str] = {f"GET {API}/push/vapid-public-key", f"DELETE {API}/push/subscriptions",
                    f"POST {API}/carrier-callbacks/kuaidi100",
                    f"POST {API}/carrier-callbacks/sf-express",
                    # the customer, proven by the order's contact (issue 13)
                    *(f"POST {API}{p}" for p in (
                        "/portal/aftersales", "/portal/aftersales/lookup",
                        "/portal/aftersales/{number}/cancel",
                        "/portal/aftersales/{number}/send-back", "/portal/complaints",
                        "/portal/complaints/{number}/lookup",
                        "/portal/complaints/{number}/messages"))}


def api_operations(app: Any) -> set[str]:
    """``METHOD path`` of every operation in the OpenAPI document under /api/v1."""
    return {f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items()
            if path.startswith(API) for method in ops}
