"""The review queue, stock pages, the home page and the export."""

from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook

from web.conftest import place, walk

HX = {"HX-Request": "true"}


async def test_the_review_queue_shows_why_and_lets_a_reviewer_take_and_approve(
        office, admin, catalogue):
    sku = catalogue["skus"]["A"]
    number = await place(admin, sku)
    await walk(admin, number, "pay")
    r = await admin.post(f"/api/v1/orders/{number}/submit-review",
                         json={"reason": "金额超过 5000 元"})
    assert r.status_code == 200, r.text
    reviewer = await office.client("reviewer")
    page = (await reviewer.get("/review")).text
    row = page[page.index(f'data-number="{number}"'):]
    row = row[:row.index("</tr>")]
    assert "金额超过 5000 元" in row and "Unassigned" in row
    r = await reviewer.post(f"/review/{number}/assign", headers=HX)
    assert r.status_code == 200 and "reviewer-tests" in r.text
    mine = (await reviewer.get("/review", params={"mine": "1"})).text
    assert number in mine
    other = await office.client("reviewer")
    assert number not in (await other.get("/review", params={"mine": "1"})).text
    r = await reviewer.post(f"/review/{number}/approve", headers=HX)
    assert r.status_code == 200, r.text
    assert number not in r.text
    assert "approved" in (await admin.get(f"/api/v1/orders/{number}")).text


async def test_only_reviewers_take_orders_from_the_queue(office, admin, catalogue):
    number = await place(admin, catalogue["skus"]["A"])
    await walk(admin, number, "pay", "submit-review")
    service = await office.client("customer_service")
    page = (await service.get("/review")).text
    assert f'data-testid="approve-{number}"' not in page
    assert f'data-testid="assign-{number}"' not in page
    r = await service.post(f"/review/{number}/assign", headers=HX)
    assert r.status_code == 403
    r = await service.post(f"/review/{number}/approve", headers=HX)
    assert r.status_code == 403


async def test_hold_and_release_from_the_queue(office, admin, catalogue):
    number = await place(admin, catalogue["skus"]["A"])
    await walk(admin, number, "pay", "submit-review")
    reviewer = await office.client("reviewer")
    r = await reviewer.post(f"/review/{number}/hold", data={"reason": "地址可疑"}, headers=HX)
    assert r.status_code == 200 and number not in r.text
    page = (await reviewer.get("/review", params={"status": "on_hold"})).text
    assert number in page and "地址可疑" in page
    r = await reviewer.post(f"/review/{number}/release?status=on_hold",
                            data={"reason": "已核实"}, headers=HX)
    assert r.status_code == 200 and number not in r.text
    assert number in (await reviewer.get("/review")).text


async def test_stock_page_filters_low_stock_and_records_moves_with_reasons(
        office, admin, catalogue):
    plenty, scarce = catalogue["skus"]["A"], catalogue["skus"]["B"]
    warehouse = catalogue["warehouses"]["SH"]
    page = (await admin.get("/stock", params={"low": "1", "threshold": "5",
                                              "warehouse": warehouse})).text
    table = page[page.index('data-testid="stock-table"'):]
    table = table[:table.index("</table>")]
    assert scarce in table and plenty not in table
    r = await admin.post("/stock/move", headers=HX, data={
        "kind": "receipt", "sku": scarce, "warehouse": warehouse, "quantity": "20",
        "reason": "到货", "reference": "PO-1"})
    assert r.status_code == 200, r.text
    assert "到货" in r.text and "PO-1" in r.text
    r = await admin.post("/stock/move", headers=HX, data={
        "kind": "adjustment", "sku": scarce, "warehouse": warehouse, "quantity": "-2",
        "reason": " "})
    assert r.status_code == 422
    r = await admin.post("/stock/move", headers=HX, data={
        "kind": "adjustment", "sku": scarce, "warehouse": warehouse, "quantity": "-100",
        "reason": "盘亏"})
    assert r.status_code == 422 and "below_reserved" not in r.text
    levels = (await admin.get("/api/v1/stock", params={"sku": scarce})).json()
    assert levels[0]["on_hand"] == 23
    viewer = await office.client("viewer")
    assert "/stock/move" not in (await viewer.get("/stock")).text
    r = await viewer.post("/stock/move", headers=HX, data={
        "kind": "receipt", "sku": scarce, "warehouse": warehouse, "quantity": "1",
        "reason": "x"})
    assert r.status_code == 403


async def test_products_and_warehouses_are_listed(office, admin, catalogue):
    sku = catalogue["skus"]["A"]
    page = (await admin.get("/products", params={"q": sku})).text
    assert sku in page and "¥10.00" in page
    assert catalogue["warehouses"]["SH"] in (await admin.get("/warehouses")).text


async def test_home_counts_today_and_lists_overdue_orders(office, admin, catalogue, clock):
    sku = catalogue["skus"]["A"]
    late = await place(admin, sku, ship_by=clock.now.isoformat())
    await place(admin, sku)
    clock.advance(hours=3)
    page = (await admin.get("/")).text
    counts = dict(re.findall(r'data-testid="count-([\w-]+)">\s*<span class="n">([\d,]+)', page))
    assert int(counts["new"].replace(",", "")) >= 2
    assert int(counts["awaiting-payment"].replace(",", "")) >= 2
    assert int(counts["overdue"].replace(",", "")) >= 1
    alerts = page[page.index('id="alerts"'):]
    assert late in alerts and "3 h" in alerts


async def test_export_writes_the_order_tracking_sheet_as_csv_and_excel(office, admin, catalogue):
    a, b = catalogue["skus"]["A"], catalogue["skus"]["B"]
    r = await admin.post("/api/v1/orders", json={
        "channel": "tmall", "customer": {"name": "张伟", "phone": "13800138000"},
        "shipping_address": {"recipient": "张伟", "phone": "13800138000", "province": "上海市",
                             "city": "上海市", "district": "浦东新区", "street": "世纪大道 1 号"},
        "lines": [{"sku": a, "quantity": 2}, {"sku": b, "quantity": 1, "unit_price": 2550}],
        "payment_method": "wechat_pay", "promo_code": "DOUBLE11"})
    number = r.json()["number"]
    r = await admin.get("/orders/export.csv", params={"q": number})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:9] == ["Number", "Customer", "Phone", "Email", "SKU", "Product", "Quantity",
                           "Unit price", "Amount"]
    assert [row[4] for row in rows[1:]] == [a, b]
    assert rows[2][6:9] == ["1", "25.50", "25.50"]
    assert rows[1][10] == "45.50"  # the order total
    assert rows[1][-3:] == ["Pending payment", "WeChat Pay", "DOUBLE11"]
    r = await admin.get("/orders/export.xlsx", params={"q": number},
                        headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0] == "订单号" and values[0][5] == "商品"
    assert values[1][0] == number and values[2][4] == b
    assert float(values[2][7]) == 25.5
    assert values[1][-3:] == ["待付款", "微信支付", "DOUBLE11"]


async def test_home_shows_open_sla_alerts_and_they_can_be_acknowledged(
        office, admin, catalogue, clock):
    from dingdan.store.sla import SlaRepo

    number = await place(admin, catalogue["skus"]["A"])
    uow = office.app.state.uow()
    async with uow:
        alert_id = await SlaRepo(uow.conn).add_alert({
            "order_number": number, "stage": "ship", "kind": "breached", "role": "warehouse",
            "deadline": clock.now, "created_at": clock.now})
        await uow.commit()
    service = await office.client("customer_service")
    page = (await service.get("/")).text
    alerts = page[page.index('data-testid="sla-alerts"'):]
    assert number in alerts and "Breached" in alerts
    r = await service.post(f"/alerts/{alert_id}/acknowledge", headers=HX)
    assert r.status_code == 200, r.text
    assert "Acknowledged" in r.text and "customer_service-tests" in r.text
    viewer = await office.client("viewer")
    assert f"/alerts/{alert_id}/acknowledge" not in (await viewer.get("/")).text
    r = await viewer.post(f"/alerts/{alert_id}/acknowledge", headers=HX)
    assert r.status_code == 403


async def test_products_and_warehouses_are_created_from_their_pages(office, admin):
    from conftest import ref

    sku, code = ref("TEA"), ref("HZ")
    r = await admin.post("/products", headers=HX, data={"sku": sku, "name": "龙井 250g",
                                                        "price": "128.50"})
    assert r.status_code == 200, r.text
    assert sku in r.text and "¥128.50" in r.text
    product = (await admin.get(f"/api/v1/products/{sku}")).json()
    assert product["price"] == 12850
    r = await admin.post("/products", headers=HX, data={"sku": ref("X"), "name": "x",
                                                        "price": "1.234"})
    assert r.status_code == 422
    r = await admin.post("/warehouses", headers=HX, data={"code": code, "name": "杭州仓",
                                                          "region": "浙江", "priority": "5"})
    assert r.status_code == 200 and code in r.text
    r = await admin.post("/warehouses", headers=HX, data={"code": code, "name": "again",
                                                          "region": "浙江"})
    assert r.status_code == 409
    service = await office.client("customer_service")
    assert 'method="post" action="/products"' not in (await service.get("/products")).text
    r = await service.post("/products", headers=HX, data={"sku": ref("Y"), "name": "y",
                                                          "price": "1"})
    assert r.status_code == 403
