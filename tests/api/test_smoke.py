from helpers import order_body, seed_catalogue


async def test_place_and_walk_an_order_to_completion(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 5})
    a, b = cat["skus"]["A"], cat["skus"]["B"]
    r = await app_client.post("/api/v1/orders", json=order_body([(a, 2), (b, 1)]))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending_payment"
    assert order["amounts"]["total"] == 3000
    n = order["number"]
    steps = [("pay", {"payment_reference": "ALI123"}), ("submit-review", None), ("approve", None),
             ("allocate", None), ("pick", None), ("pack", None),
             ("ship", {"carrier": "SF", "tracking_number": "SF100"}), ("in-transit", None),
             ("out-for-delivery", None), ("deliver", None), ("complete", None)]
    for path, body in steps:
        r = await app_client.post(f"/api/v1/orders/{n}/{path}", json=body)
        assert r.status_code == 200, (path, r.text)
    assert r.json()["status"] == "completed"
    events = (await app_client.get(f"/api/v1/orders/{n}/events")).json()
    assert events[0]["type"] == "order.placed"
    assert len(events) == 12
    stock = (await app_client.get("/api/v1/stock", params={"sku": a})).json()
    assert stock[0]["on_hand"] == 8 and stock[0]["reserved"] == 0
