"""The intake pages: an import uploaded, reported row by row, imported (with its progress
fragment) and its report downloaded formula-safe; the phone-order form with its pasted line,
customer look-up, product search and placement once per form."""

from __future__ import annotations

import csv
import io
import random
import re

from conftest import ref

HX = {"HX-Request": "true"}


def _sheet(sku: str, *extra_rows: str) -> bytes:
    return ("订单号,收货人,手机,省,市,区,详细地址,SKU,数量\n"
            f"P1,张三,13800138000,广东省,深圳市,南山区,科技园路1号,{sku},1\n"
            + "".join(r + "\n" for r in extra_rows)).encode()


async def test_an_import_is_checked_reported_and_imported_from_the_pages(office, admin,
                                                                          catalogue):
    sku = catalogue["skus"]["A"]
    channel = ref("pg").lower()
    cs = await office.client("customer_service")
    assert "/imports" in (await cs.get("/")).text  # in the navigation of who may import
    r = await cs.post("/imports", data={"channel": channel}, headers=HX, files={
        "file": ("o.csv", _sheet(sku, f"P2,李四,13900139000,上海市,上海市,浦东新区,"
                                      f"=HYPERLINK(1),{sku},1"), "text/csv")})
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/imports/"), r.text
    url = r.headers["HX-Redirect"]
    page = (await cs.get(url)).text
    assert 'data-testid="import-bad-rows">1<' in page
    assert "formula" in page and 'data-testid="import-run-partial"' in page
    assert 'data-testid="import-run"' not in page  # a bad row: no whole import offered

    report = (await cs.get(f"{url}/report.csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0][:4] == ["Row", "Column", "Code", "Message"]
    assert rows[2][:3] == ["3", "street", "formula"]
    assert all(not cell.startswith("=") for row in rows for cell in row)

    r = await cs.post(f"{url}/run", data={"partial": "1"}, headers=HX)
    assert r.status_code == 200, r.text
    page = (await cs.get(url)).text
    assert 'data-testid="import-status">Completed<' in page
    assert 'data-testid="import-created">1<' in page
    number = re.search(r'href="/orders/(DD\w+)"', page)
    assert number is not None
    # once done, the progress fragment sends the browser back to the whole page
    r = await cs.get(f"{url}/progress", headers=HX)
    assert r.headers.get("HX-Redirect") == url


async def test_a_viewer_may_not_import(office, catalogue):
    viewer = await office.client("viewer")
    r = await viewer.post("/imports", data={"channel": "csv"}, headers=HX, files={
        "file": ("o.csv", _sheet(catalogue["skus"]["A"]), "text/csv")})
    assert r.status_code == 403
    assert "/imports" not in (await viewer.get("/")).text


async def test_a_phone_order_is_filled_from_one_line_and_placed_once(office, admin, catalogue):
    sku = catalogue["skus"]["A"]
    phone = f"139{random.randrange(10**8):08d}"  # this customer's alone (a shared database)
    cs = await office.client("customer_service", lang="zh-CN")
    page = (await cs.get("/orders/new")).text
    key = re.search(r'name="key" value="(\w+)"', page)
    assert key is not None
    r = await cs.post("/orders/new/parse", headers=HX,
                      data={"line": f"张三 {phone} 广东省深圳市南山区科技园路1号"})
    for value in ("张三", phone, "广东省", "深圳市", "南山区", "科技园路1号"):
        assert f'value="{value}"' in r.text
    r = await cs.get("/orders/new/products", params={"q": sku}, headers=HX)
    assert f'<option value="{sku}">' in r.text

    form = {"key": key.group(1), "name": "张三", "phone": phone, "province": "广东省",
            "city": "深圳市", "district": "南山区", "street": "科技园路1号", "sku_0": sku,
            "qty_0": "2", "payment_method": "cod"}
    r = await cs.post("/orders/new", data=form, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/orders/DD"), r.text
    again = await cs.post("/orders/new", data=form, headers=HX)  # a double click
    assert again.headers["HX-Redirect"] == r.headers["HX-Redirect"]
    number = r.headers["HX-Redirect"].rsplit("/", 1)[1]
    order = (await admin.get(f"/api/v1/orders/{number}")).json()
    assert (order["channel"], order["lines"][0]["quantity"]) == ("phone", 2)

    # the same customer calls again: their phone brings the address back
    r = await cs.get("/orders/new/customer", params={"phone": phone}, headers=HX)
    assert 'data-testid="entry-found"' in r.text and 'value="科技园路1号"' in r.text


async def test_a_bad_phone_order_is_refused_naming_the_fields(office, catalogue):
    cs = await office.client("customer_service")
    r = await cs.post("/orders/new", headers=HX, data={
        "key": ref("k"), "name": "张三", "phone": "123", "province": "广东省", "city": "深圳市",
        "district": "", "street": "科技园路1号", "sku_0": catalogue["skus"]["A"], "qty_0": "1"})
    assert r.status_code == 422
    assert "shipping_address.phone" in r.text and "shipping_address.district" in r.text
