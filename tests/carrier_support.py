"""Helpers for the carrier tests: carriers with random codes, rate tables as CSV, and orders
from a warehouse in a province of the test's own (a lane no other test prices)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from conftest import ref
from helpers import order_body

HEADER = "carrier,service,origin,destination,min_kg,max_kg,first_kg,first_price,step_kg," \
         "step_price,transit_days"


def code() -> str:
    return f"C{uuid.uuid4().hex[:8].upper()}"


async def carrier(client: httpx.AsyncClient, services: list[tuple[str, int, bool]],
                  divisor: int = 6000, surcharges: list[dict[str, Any]] | None = None) -> str:
    c = code()
    body: dict[str, Any] = {"name_zh": f"快递{c}", "name_en": f"Express {c}",
                            "volumetric_divisor": divisor, "services": [
        {"code": s, "name_zh": s, "name_en": s, "transit_days": days, "cod": cod}
        for s, days, cod in services]}
    if surcharges is not None:
        body["remote_surcharges"] = surcharges
    r = await client.put(f"/api/v1/carriers/{c}", json=body)
    assert r.status_code == 200, r.text
    return c


async def upload(client: httpx.AsyncClient, text: str, name: str = "rates.csv",
                 ) -> httpx.Response:
    return await client.post("/api/v1/rate-tables",
                             files={"file": (name, text.encode(), "text/csv")})


async def parcel_order(client: httpx.AsyncClient, origin: str, *, weight_g: int | None = 1500,
                       deliver_by: datetime | None = None) -> str:
    """An approved order from a warehouse in ``origin`` (a lane of this test's own)."""
    wh = ref("WH")
    r = await client.post("/api/v1/warehouses", json={"code": wh, "name": "仓", "region": origin})
    assert r.status_code == 201, r.text
    sku = ref("P")
    product: dict[str, Any] = {"sku": sku, "name": "保温杯", "price": 9900}
    if weight_g:
        product["weight_g"] = weight_g
    assert (await client.post("/api/v1/products", json=product)).status_code == 201
    r = await client.post("/api/v1/stock/receipts", json={
        "sku": sku, "warehouse": wh, "quantity": 5, "reason": "opening stock"})
    assert r.status_code == 201, r.text
    extra: dict[str, Any] = {}
    if deliver_by:
        extra["deliver_by"] = deliver_by.isoformat()
    r = await client.post("/api/v1/orders", json=order_body([(sku, 1)], **extra))
    assert r.status_code == 201, r.text
    number = str(r.json()["number"])
    for step, body in (("pay", {"payment_reference": "ALI-1"}), ("submit-review", None),
                       ("approve", None)):
        r = await client.post(f"/api/v1/orders/{number}/{step}", json=body)
        assert r.status_code == 200, (step, r.text)
    return number


def rates_csv(origin: str, rows: list[tuple[str, str, str, str, float, float, float, float]],
              ) -> str:
    """rows: (carrier, service, destination, days, first_price, step_price, min, max)."""
    lines = [HEADER]
    for c, s, dest, days, first, step, lo, hi in rows:
        lines.append(f"{c},{s},{origin},{dest},{lo},{hi},1,{first},1,{step},{days}")
    return "\n".join(lines) + "\n"
