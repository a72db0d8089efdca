"""Export of a filtered order list as the rows of an order-tracking sheet: one row per order
line, with the order's number, customer, contact, product, quantity, unit price, amount,
placed-at and promised dates, status, payment method and promo code.

Rows are produced page by page (short read transactions, bounded memory), so the web layer
can stream them as CSV or Excel whatever the size of the list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from dingdan.domain.events import Actor
from dingdan.domain.permissions import Permission
from dingdan.services import queries
from dingdan.services._access import require
from dingdan.store.backoffice import BackofficeRepo
from dingdan.store.orders import ListQuery
from dingdan.store.uow import UnitOfWork

PAGE = 500
MAX_ROWS = 200_000  # Excel holds 1,048,576 rows; a bigger export belongs in a report job


@dataclass(frozen=True, slots=True)
class ExportRow:
    number: str
    customer: str
    phone: str | None
    email: str | None
    sku: str
    product: str
    quantity: int
    unit_price: int  # minor units
    amount: int  # quantity x unit price, minor units
    currency: str
    order_total: int
    placed_at: datetime
    ship_by: datetime | None
    deliver_by: datetime | None
    status: str
    payment_method: str | None
    promo_code: str | None


async def export_rows(q: ListQuery, actor: Actor, uows: Callable[[], UnitOfWork],
                      max_rows: int = MAX_ROWS) -> AsyncIterator[ExportRow]:
    """The sheet's rows for every order the filters select, in the list's sort order."""
    require(actor, Permission.ORDER_READ)
    cursor: str | None = None
    produced = 0
    while produced < max_rows:
        # The read use case masks personal data for people without pii.read.
        rows, cursor = await queries.list_orders(replace(q, limit=PAGE, cursor=cursor), uows(),
                                                 actor=actor)
        if not rows:
            return
        uow = uows()
        async with uow:
            lines = await BackofficeRepo(uow.conn).lines_for([r["id"] for r in rows])
        for o in rows:
            phone, email = o["customer_phone"], o["customer_email"]
            for ln in lines[o["id"]]:
                yield ExportRow(
                    number=o["number"], customer=o["customer_name"], phone=phone, email=email,
                    sku=ln["sku"], product=ln["name"], quantity=ln["quantity"],
                    unit_price=ln["unit_price"], amount=ln["quantity"] * ln["unit_price"],
                    currency=o["currency"], order_total=o["total"], placed_at=o["placed_at"],
                    ship_by=o["ship_by"], deliver_by=o["deliver_by"], status=o["status"],
                    payment_method=o["payment_method"], promo_code=o["promo_code"])
                produced += 1
        if cursor is None:
            return
