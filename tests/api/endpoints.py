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

from conftest import ref
from dingdan.domain import lifecycle
from dingdan.domain.events import SYSTEM
from dingdan.domain.lifecycle import Action, OrderFacts, PaymentStatus, Status
from dingdan.domain.permissions import Permission, permission_for
from dingdan.services import tokens, users
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

ENDPOINTS: list[Endpoint] = [*ORDERS, *CATALOGUE, *PEOPLE, *NOTIFICATIONS, *ANALYTICS]

# Changing calls with no audit row, and why.
NOT_AUDITED: dict[str, str] = {
    f"DELETE {API}/push/subscriptions":
        "anyone holding the browser's push endpoint URL may drop it (a customer's own device; "
        "no person of the merchant's to record)",
    f"POST {API}/notification-templates/preview": "renders a template; changes nothing",
}
# Open to callers who are not signed in.
PUBLIC: set[str] = {f"GET {API}/push/vapid-public-key", f"DELETE {API}/push/subscriptions"}


def api_operations(app: Any) -> set[str]:
    """``METHOD path`` of every operation in the OpenAPI document under /api/v1."""
    return {f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items()
            if path.startswith(API) for method in ops}
