"""Builders shared by tests: catalogue set-up and order bodies."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import ref


async def seed_catalogue(client: httpx.AsyncClient, stock: dict[str, int] | None = None,
                         warehouses: tuple[tuple[str, int], ...] = (("SH", 10),),
                         price: int = 1000) -> dict[str, Any]:
    """Create products and warehouses with random codes; receive ``stock`` in the first."""
    codes = {}
    for label, priority in warehouses:
        code = ref(label)
        r = await client.post("/api/v1/warehouses", json={
            "code": code, "name": f"{label} 仓", "region": "上海", "priority": priority})
        assert r.status_code == 201, r.text
        codes[label] = code
    skus = {}
    for label, qty in (stock or {"A": 100}).items():
        sku = ref(label)
        r = await client.post("/api/v1/products", json={"sku": sku, "name": f"商品 {label}",
                                                         "price": price})
        assert r.status_code == 201, r.text
        skus[label] = sku
        if qty:
            first = codes[warehouses[0][0]]
            r = await client.post("/api/v1/stock/receipts", json={
                "sku": sku, "warehouse": first, "quantity": qty, "reason": "opening stock"})
            assert r.status_code == 201, r.text
    return {"skus": skus, "warehouses": codes}


def order_body(lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "api",
        "customer": {"name": "张伟", "phone": "13800138000", "email": "zhang.wei@example.com"},
        "shipping_address": {"recipient": "张伟", "phone": "13800138000", "province": "上海市",
                             "city": "上海市", "district": "浦东新区",
                             "street": "世纪大道 100 号", "postcode": "200120"},
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
        "payment_method": "alipay",
    }
    body.update(extra)
    return body
