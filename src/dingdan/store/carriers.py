"""The carrier catalogue, rate rows and surcharges, rate-shopping choices, and what rate
shopping reads of an order (its lines' weights and dimensions, its warehouse's province)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from dingdan.store.deliveries import insert_ignoring_duplicates
from dingdan.store.tables import order_lines, orders, products, warehouses
from dingdan.store.tables_carriers import (
    carrier_services,
    carriers,
    labels,
    rate_choices,
    rate_rows,
    remote_surcharges,
    waybill_numbers,
)


class CarrierRepo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def carriers(self) -> list[dict[str, Any]]:
        rows = await self.conn.execute(select(carriers).order_by(carriers.c.code))
        return [dict(r._mapping) for r in rows]

    async def carrier(self, code: str) -> dict[str, Any] | None:
        row = (await self.conn.execute(select(carriers).where(carriers.c.code == code))).first()
        return dict(row._mapping) if row else None

    async def services(self, active_only: bool = False) -> list[dict[str, Any]]:
        """Services with their carrier's code, divisor and activity."""
        stmt = (select(carrier_services, carriers.c.code.label("carrier"),
                       carriers.c.volumetric_divisor, carriers.c.active.label("carrier_active"))
                .select_from(carrier_services.join(
                    carriers, carriers.c.id == carrier_services.c.carrier_id))
                .order_by(carriers.c.code, carrier_services.c.code))
        if active_only:
            stmt = stmt.where(carrier_services.c.active.is_(True), carriers.c.active.is_(True))
        return [dict(r._mapping) for r in await self.conn.execute(stmt)]

    async def insert_carrier(self, values: Mapping[str, Any]) -> int:
        return int((await self.conn.execute(
            insert(carriers).values(**values).returning(carriers.c.id))).scalar_one())

    async def update_carrier(self, carrier_id: int, values: Mapping[str, Any]) -> None:
        await self.conn.execute(update(carriers).where(carriers.c.id == carrier_id)
                                .values(**values, version=carriers.c.version + 1))

    async def put_service(self, carrier_id: int, code: str, values: Mapping[str, Any]) -> int:
        """Insert or update one service of a carrier; its id."""
        found = (await self.conn.execute(select(carrier_services.c.id).where(
            carrier_services.c.carrier_id == carrier_id, carrier_services.c.code == code))
        ).first()
        if found:
            await self.conn.execute(
                update(carrier_services).where(carrier_services.c.id == found[0])
                .values(**{k: v for k, v in values.items() if k != "created_at"},
                        version=carrier_services.c.version + 1))
            return int(found[0])
        return int((await self.conn.execute(
            insert(carrier_services).values(carrier_id=carrier_id, code=code, version=1,
                                            **values)
            .returning(carrier_services.c.id))).scalar_one())

    async def replace_rates(self, service_ids: Sequence[int],
                            rows: Sequence[Mapping[str, Any]]) -> None:
        """A service's new tariff replaces its old one, whole."""
        await self.conn.execute(delete(rate_rows).where(rate_rows.c.service_id.in_(
            list(service_ids))))
        if rows:
            await self.conn.execute(insert(rate_rows), [dict(r) for r in rows])

    async def rates(self, origin: str, destination: str) -> list[dict[str, Any]]:
        """The rate rows of one lane, of every active service."""
        rows = await self.conn.execute(
            select(rate_rows).where(rate_rows.c.origin == origin,
                                    rate_rows.c.destination == destination)
            .order_by(rate_rows.c.service_id, rate_rows.c.min_weight_g))
        return [dict(r._mapping) for r in rows]

    async def rate_rows(self, service_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(rate_rows).where(rate_rows.c.service_id == service_id)
            .order_by(rate_rows.c.origin, rate_rows.c.destination, rate_rows.c.min_weight_g))
        return [dict(r._mapping) for r in rows]

    async def surcharges(self, province: str, city: str | None) -> dict[int, int]:
        """Each carrier's remote-area surcharge for this destination (the city's if it has
        one, else the province's)."""
        rows = await self.conn.execute(
            select(remote_surcharges).where(remote_surcharges.c.province == province))
        found: dict[int, tuple[bool, int]] = {}
        for r in rows:
            if r.city is not None and r.city != city:
                continue
            specific = r.city is not None
            if r.carrier_id not in found or specific:
                found[r.carrier_id] = (specific, int(r.amount))
        return {carrier_id: amount for carrier_id, (_, amount) in found.items()}

    async def replace_surcharges(self, carrier_id: int,
                                 rows: Sequence[Mapping[str, Any]]) -> None:
        await self.conn.execute(delete(remote_surcharges)
                                .where(remote_surcharges.c.carrier_id == carrier_id))
        if rows:
            await self.conn.execute(insert(remote_surcharges), [dict(r) for r in rows])

    async def parcel_of(self, order_id: int) -> dict[str, Any]:
        """What rate shopping needs of an order: its lines with each product's weight and
        dimensions, its destination, its warehouse's province."""
        order = (await self.conn.execute(
            select(orders.c.ship_province, orders.c.ship_city, orders.c.deliver_by,
                   orders.c.payment_method, warehouses.c.region)
            .select_from(orders.outerjoin(warehouses, warehouses.c.id == orders.c.warehouse_id))
            .where(orders.c.id == order_id))).one()
        lines = await self.conn.execute(
            select(order_lines.c.sku, order_lines.c.quantity, products.c.weight_g,
                   products.c.length_mm, products.c.width_mm, products.c.height_mm)
            .select_from(order_lines.join(products, products.c.sku == order_lines.c.sku))
            .where(order_lines.c.order_id == order_id).order_by(order_lines.c.line_no))
        return {**dict(order._mapping), "lines": [dict(r._mapping) for r in lines]}

    async def record_choice(self, values: Mapping[str, Any]) -> int:
        return int((await self.conn.execute(
            insert(rate_choices).values(**values).returning(rate_choices.c.id))).scalar_one())

    async def choices(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(rate_choices).where(rate_choices.c.order_id == order_id)
            .order_by(rate_choices.c.id.desc()))
        return [dict(r._mapping) for r in rows]

    # -- waybill numbers and labels ---------------------------------------------------

    async def add_numbers(self, carrier_id: int, numbers: Sequence[str],
                          now: datetime) -> int:
        """Add a range to the carrier's pool; numbers already there are kept. How many were
        new."""
        added = 0
        for chunk in range(0, len(numbers), 1000):
            result = await self.conn.execute(
                insert_ignoring_duplicates(self.conn, waybill_numbers)
                .returning(waybill_numbers.c.id),
                [{"carrier_id": carrier_id, "number": n, "created_at": now}
                 for n in numbers[chunk:chunk + 1000]])
            added += len(result.all())
        return added

    async def free_numbers(self, carrier_id: int) -> int:
        return int((await self.conn.execute(
            select(func.count()).select_from(waybill_numbers)
            .where(waybill_numbers.c.carrier_id == carrier_id,
                   waybill_numbers.c.order_id.is_(None)))).scalar_one())

    async def take_number(self, carrier_id: int, order_id: int,
                          now: datetime) -> str | None:
        """The pool's next free number, now the order's; None when the pool is empty. The
        conditional update is the claim: two packers never get the same number."""
        for _ in range(20):
            row = (await self.conn.execute(
                select(waybill_numbers.c.id, waybill_numbers.c.number)
                .where(waybill_numbers.c.carrier_id == carrier_id,
                       waybill_numbers.c.order_id.is_(None))
                .order_by(waybill_numbers.c.id).limit(1))).first()
            if row is None:
                return None
            claimed = await self.conn.execute(
                update(waybill_numbers).where(waybill_numbers.c.id == row.id,
                                              waybill_numbers.c.order_id.is_(None))
                .values(order_id=order_id, issued_at=now))
            if claimed.rowcount == 1:
                return str(row.number)
        return None

    async def insert_label(self, values: Mapping[str, Any]) -> int:
        return int((await self.conn.execute(
            insert(labels).values(**values).returning(labels.c.id))).scalar_one())

    async def labels(self, order_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(labels, carriers.c.code.label("carrier"),
                   carriers.c.name_zh.label("carrier_name_zh"),
                   carrier_services.c.code.label("service"),
                   carrier_services.c.name_zh.label("service_name_zh"))
            .select_from(labels.join(carriers, carriers.c.id == labels.c.carrier_id)
                         .outerjoin(carrier_services,
                                    carrier_services.c.id == labels.c.service_id))
            .where(labels.c.order_id == order_id).order_by(labels.c.id.desc()))
        return [dict(r._mapping) for r in rows]

    async def update_label(self, label_id: int, version: int,
                           values: Mapping[str, Any]) -> bool:
        result = await self.conn.execute(
            update(labels).where(labels.c.id == label_id, labels.c.version == version)
            .values(**values, version=version + 1))
        return result.rowcount == 1

    async def warehouse(self, warehouse_id: int | None) -> dict[str, Any] | None:
        if warehouse_id is None:
            return None
        row = (await self.conn.execute(
            select(warehouses).where(warehouses.c.id == warehouse_id))).first()
        return dict(row._mapping) if row else None

    async def service(self, service_id: int) -> dict[str, Any] | None:
        row = (await self.conn.execute(
            select(carrier_services, carriers.c.code.label("carrier"),
                   carriers.c.name_zh.label("carrier_name_zh"))
            .select_from(carrier_services.join(
                carriers, carriers.c.id == carrier_services.c.carrier_id))
            .where(carrier_services.c.id == service_id))).first()
        return dict(row._mapping) if row else None
