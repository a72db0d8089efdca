"""Order rows: insert, read, status updates with optimistic concurrency, list and search."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.tables import order_events, order_lines, order_tags, orders, warehouses


@dataclass(frozen=True, slots=True)
class OrderState:
    """The facts a use case needs to change an order (no lines, no timeline)."""

    id: int
    number: str
    status: str
    payment_status: str
    fulfillment_status: str
    held_from: str | None
    payment_method: str | None
    warehouse_id: int | None
    version: int
    currency: str
    total: int
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    channel: str
    external_id: str | None
    carrier: str | None
    tracking_number: str | None


_STATE_COLS = [getattr(orders.c, f) for f in OrderState.__dataclass_fields__]


@dataclass(frozen=True, slots=True)
class ListQuery:
    status: Sequence[str] = ()
    channel: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    province: str | None = None
    sku: str | None = None
    phone: str | None = None
    name: str | None = None
    email: str | None = None
    tag: str | None = None
    number: str | None = None  # exact order number
    warehouse_id: int | None = None
    # Set by the read use case, not by callers: the warehouses a limited person may see.
    visible_warehouses: tuple[int, ...] | None = None
    q: str | None = None  # number, phone, name or SKU
    sort: str = "-placed_at"
    limit: int = 50
    cursor: str | None = None


SORTABLE = {"placed_at", "total", "number", "updated_at"}

# The statements of order intake, built once: building a statement (bind parameters, cache
# key) costs more than executing it. Values go in as execution parameters.
_BY_KEY = orders.c.idempotency_key == bindparam("p_key")
_BY_CHANNEL_ID = and_(orders.c.channel == bindparam("p_channel"),
                      orders.c.external_id == bindparam("p_external_id"))
_FIND = {(key, ext): select(orders.c.number, orders.c.request_hash).where(cond).limit(1)
         for key, ext, cond in ((True, False, _BY_KEY), (False, True, _BY_CHANNEL_ID),
                                (True, True, or_(_BY_KEY, _BY_CHANNEL_ID)))}
_INSERT_ORDER = insert(orders).returning(orders.c.id)
_INSERT_LINES = insert(order_lines)
_LINES = (select(order_lines).where(order_lines.c.order_id == bindparam("p_order_id"))
          .order_by(order_lines.c.line_no))
_GET = (select(orders, warehouses.c.code.label("warehouse_code"))
        .select_from(orders.outerjoin(warehouses, warehouses.c.id == orders.c.warehouse_id))
        .where(orders.c.number == bindparam("p_number")))


class OrderRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def find_existing(self, idempotency_key: str | None, channel: str,
                            external_id: str | None) -> tuple[str, str | None] | None:
        """(number, request hash) of an order already made with this key or channel id."""
        if not (idempotency_key or external_id):
            return None
        row = (await self.conn.execute(
            _FIND[bool(idempotency_key), bool(external_id)],
            {"p_key": idempotency_key, "p_channel": channel, "p_external_id": external_id},
        )).first()
        return (row.number, row.request_hash) if row else None

    async def insert(self, values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
                     tags: Sequence[str]) -> int:
        order_id: int = (await self.conn.execute(_INSERT_ORDER, dict(values))).scalar_one()
        await self.conn.execute(_INSERT_LINES,
                                [{"order_id": order_id, **line} for line in lines])
        if tags:
            await self.conn.execute(insert(order_tags),
                                    [{"order_id": order_id, "tag": t} for t in tags])
        return order_id

    async def get_state(self, number: str) -> OrderState | None:
        row = (await self.conn.execute(
            select(*_STATE_COLS).where(orders.c.number == number))).first()
        return OrderState(*row) if row else None

    async def update(self, order_id: int, version: int, values: Mapping[str, Any]) -> bool:
        """Write ``values`` if the order is still at ``version``; bump the version."""
        result = await self.conn.execute(
            update(orders).where(orders.c.id == order_id, orders.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def lines(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(_LINES, {"p_order_id": order_id})
        return [dict(r._mapping) for r in rows]

    async def get(self, number: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(_GET, {"p_number": number})).first()
        if row is None:
            return None
        order = dict(row._mapping)
        order["lines"] = await self.lines(order["id"])
        return order

    async def timeline(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(order_events).where(order_events.c.order_id == order_id)
            .order_by(order_events.c.id))
        return [dict(r._mapping) for r in rows]

    async def page(self, q: ListQuery) -> tuple[list[dict[str, Any]], str | None]:
        """One page of orders and the cursor of the next page (None on the last page)."""
        key_name = q.sort.lstrip("-")
        desc = q.sort.startswith("-")
        key = orders.c[key_name]
        stmt = select(orders).where(*self._filters(q))
        if q.cursor:
            value, last_id = decode_cursor(q.cursor, key_name)
            tie = and_(key == value, orders.c.id < last_id if desc else orders.c.id > last_id)
            stmt = stmt.where(or_(key < value if desc else key > value, tie))
        order = (key.desc(), orders.c.id.desc()) if desc else (key.asc(), orders.c.id.asc())
        rows = [dict(r._mapping) for r in
                await self.conn.execute(stmt.order_by(*order).limit(q.limit + 1))]
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        next_cursor = encode_cursor(rows[-1][key_name], rows[-1]["id"]) if more else None
        return rows, next_cursor

    async def count(self, q: ListQuery) -> int:
        stmt = select(func.count()).select_from(orders).where(*self._filters(q))
        return int((await self.conn.execute(stmt)).scalar_one())

    @staticmethod
    def _filters(q: ListQuery) -> list[Any]:
        f: list[Any] = []
        if q.status:
            f.append(orders.c.status.in_(list(q.status)))
        if q.channel:
            f.append(orders.c.channel == q.channel)
        if q.placed_from:
            f.append(orders.c.placed_at >= q.placed_from)
        if q.placed_to:
            f.append(orders.c.placed_at < q.placed_to)
        if q.province:
            f.append(orders.c.ship_province == q.province)
        if q.phone:
            f.append(or_(orders.c.customer_phone == q.phone, orders.c.ship_phone == q.phone))
        if q.name:
            f.append(orders.c.customer_name == q.name)
        if q.email:
            f.append(orders.c.customer_email == q.email.lower())
        if q.sku:
            f.append(exists().where(order_lines.c.order_id == orders.c.id,
                                    order_lines.c.sku == q.sku))
        if q.number:
            f.append(orders.c.number == q.number.strip().upper())
        if q.warehouse_id is not None:
            f.append(orders.c.warehouse_id == q.warehouse_id)
        if q.visible_warehouses is not None:
            f.append(orders.c.warehouse_id.in_(q.visible_warehouses))
        if q.tag:
            f.append(exists().where(order_tags.c.order_id == orders.c.id,
                                    order_tags.c.tag == q.tag))
        if q.q:
            text = q.q.strip()
            f.append(or_(orders.c.number == text.upper(), orders.c.customer_phone == text,
                         orders.c.customer_phone.like(f"%{_escape(text)}", escape="\\"),
                         orders.c.customer_name == text,
                         exists().where(order_lines.c.order_id == orders.c.id,
                                        order_lines.c.sku == text)))
        return f


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_cursor(value: Any, last_id: int) -> str:
    raw = orjson.dumps([value.isoformat() if isinstance(value, datetime) else value, last_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key_name: str) -> tuple[Any, int]:
    """Raises ValueError on a cursor that was not made by :func:`encode_cursor`."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    value, last_id = orjson.loads(raw)
    if not isinstance(last_id, int):
        raise ValueError("bad cursor")
    if key_name in ("placed_at", "updated_at"):
        value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError("bad cursor")
    # A value of the wrong type (a cursor made for another sort) must not reach the SQL.
    elif not isinstance(value, _CURSOR_TYPES.get(key_name, object)) or isinstance(value, bool):
        raise ValueError("bad cursor")
    return value, last_id


_CURSOR_TYPES: dict[str, type] = {"total": int, "number": str}
