"""Sheet imports through the API: the check (dry run) reports row by row and writes no order;
an import lands each order once, each whole or not at all; a re-import with changes is an
update applied or refused out loud; broken files are refused and change nothing."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx
import pytest
from api_support import assert_problem, db_state, refused, stock_row
from openpyxl import Workbook

from conftest import ref
from helpers import seed_catalogue

HEADER = "订单号,收货人,手机,省,市,区,详细地址,SKU,数量,单价,运费\n"


def csv_of(*rows: str, header: str = HEADER, bom: bool = False,
           encoding: str = "utf-8") -> bytes:
    data = (header + "".join(r + "\n" for r in rows)).encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def row(order_id: str, sku: str, qty: int | str = 1, price: str = "10.00",
        name: str = "张三", street: str = "科技园路1号", fee: str = "5") -> str:
    return f"{order_id},{name},13800138000,广东省,深圳市,南山区,{street},{sku},{qty},{price},{fee}"


async def upload(client: httpx.AsyncClient, content: bytes, channel: str,
                 filename: str = "orders.csv", **form: Any) -> httpx.Response:
    return await client.post("/api/v1/imports", data={"channel": channel, **form},
                             files={"file": (filename, content, "text/csv")})


async def orders_of(client: httpx.AsyncClient, channel: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/orders", params={"channel": channel})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def report(client: httpx.AsyncClient, batch_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/imports/{batch_id}/report")
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    return rows


@pytest.fixture
def channel() -> str:
    return ref("csv").lower()


async def test_a_good_file_is_checked_without_writing_orders_then_imported_once(
        app_client: httpx.AsyncClient, channel: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 20, "B": 20})
    a, b = cat["skus"]["A"], cat["skus"]["B"]
    content = csv_of(row("T1", a, 2), row("T1", b, 1, "12.5"), row("T2", a, 3), bom=True)
    r = await upload(app_client, content, channel)
    assert r.status_code == 201, r.text
    batch = r.json()
    assert (batch["status"], batch["row_count"], batch["order_count"], batch["bad_rows"]) == (
        "checked", 3, 2, 0)
    assert await orders_of(app_client, channel) == []  # the check is a dry run
    assert (await stock_row(app_client, a))["reserved"] == 0

    r = await app_client.post(f"/api/v1/imports/{batch['id']}/run")
    assert r.status_code == 202, r.text
    done = (await app_client.get(f"/api/v1/imports/{batch['id']}")).json()
    assert (done["status"], done["done"], done["created"], done["failed"]) == (
        "completed", 2, 2, 0)
    orders = {o["external_id"]: o for o in await orders_of(app_client, channel)}
    assert set(orders) == {"T1", "T2"}
    t1 = (await app_client.get(f"/api/v1/orders/{orders['T1']['number']}")).json()
    assert t1["amounts"]["total"] == 2 * 1000 + 1250 + 500
    assert (await stock_row(app_client, a))["reserved"] == 5

    # The same file again: every order is already there, none lands twice.
    again = (await upload(app_client, content, channel)).json()
    await app_client.post(f"/api/v1/imports/{again['id']}/run")
    assert {r["outcome"] for r in await report(app_client, again["id"])} == {"unchanged"}
    assert len(await orders_of(app_client, channel)) == 2
    assert (await stock_row(app_client, a))["reserved"] == 5


async def test_bad_rows_are_reported_by_row_and_column_and_block_a_whole_import(
        app_client: httpx.AsyncClient, channel: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 20})
    a = cat["skus"]["A"]
    content = csv_of(row("G1", a), row("B1", "NO-SUCH-SKU"), row("B2", a, "two"),
                     row("B3", a, name="=HYPERLINK(\"http://x\")"), row("G2", a, 1, "abc"))
    batch = (await upload(app_client, content, channel)).json()
    assert batch["bad_rows"] == 4
    found = {(e["row"], e["column"], e["code"]) for e in await report(app_client, batch["id"])
             if e["code"]}
    assert found == {(3, "sku", "unknown_sku"), (4, "quantity", "not_a_number"),
                     (5, "recipient", "formula"), (6, "unit_price", "not_an_amount")}
    # Whole import refused by the batch's table: nothing changes.
    body = await refused(app_client, "POST", f"/api/v1/imports/{batch['id']}/run", 409,
                         "ILLEGAL_TRANSITION")
    assert "partial" in body["params"]["reason"]
    # Partial on request: the good order alone.
    r = await app_client.post(f"/api/v1/imports/{batch['id']}/run", json={"partial": True})
    assert r.status_code == 202, r.text
    assert [o["external_id"] for o in await orders_of(app_client, channel)] == ["G1"]
    outcomes = {e["order_id"]: e["outcome"] for e in await report(app_client, batch["id"])}
    assert outcomes == {"G1": "created", "B1": "bad", "B2": "bad", "B3": "bad", "G2": "bad"}


async def test_gb18030_and_xlsx_files_are_read(app_client: httpx.AsyncClient,
                                               channel: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 20})
    a = cat["skus"]["A"]
    gb = (await upload(app_client, csv_of(row("C1", a), encoding="gb18030"), channel)).json()
    assert (gb["order_count"], gb["bad_rows"]) == (1, 0)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Order ID", "Recipient", "Phone", "Province", "City", "District", "Street",
                  "SKU", "Qty", "Price"])
    sheet.append(["X1", "李四", 13900139000, "上海市", "上海市", "浦东新区", "世纪大道 1 号", a, 2,
                  9.5])
    buf = io.BytesIO()
    book.save(buf)
    x = (await upload(app_client, buf.getvalue(), channel, "orders.xlsx")).json()
    assert (x["order_count"], x["bad_rows"]) == (1, 0), await report(app_client, x["id"])
    await app_client.post(f"/api/v1/imports/{x['id']}/run")
    [order] = [o for o in await orders_of(app_client, channel) if o["external_id"] == "X1"]
    assert order["amounts"]["total"] == 1900


async def test_a_reimport_with_changes_updates_the_order_or_is_refused_by_its_stage(
        app_client: httpx.AsyncClient, channel: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 20})
    a = cat["skus"]["A"]
    first = (await upload(app_client, csv_of(row("U1", a, 2), row("U2", a, 1)),
                          channel)).json()
    await app_client.post(f"/api/v1/imports/{first['id']}/run")
    numbers = {o["external_id"]: o["number"] for o in await orders_of(app_client, channel)}
    r = await app_client.post(f"/api/v1/orders/{numbers['U2']}/cancel",
                              json={"reason": "customer called"})
    assert r.status_code == 200, r.text

    changed = csv_of(row("U1", a, 4, street="科技园路2号"), row("U2", a, 3))
    second = (await upload(app_client, changed, channel)).json()
    await app_client.post(f"/api/v1/imports/{second['id']}/run")
    outcomes = {e["order_id"]: e for e in await report(app_client, second["id"])}
    assert outcomes["U1"]["outcome"] == "updated"
    assert (outcomes["U2"]["outcome"], outcomes["U2"]["code"]) == (
        "failed", "channel_order_locked")
    u1 = (await app_client.get(f"/api/v1/orders/{numbers['U1']}")).json()
    assert u1["lines"][0]["quantity"] == 4
    assert u1["shipping_address"]["street"] == "科技园路2号"
    assert (await stock_row(app_client, a))["reserved"] == 4  # U1 re-reserved; U2 released
    events = (await app_client.get(f"/api/v1/orders/{numbers['U1']}/events")).json()
    update = [e for e in events if e["type"] == "order.channel_updated"]
    assert update and update[0]["data"]["changes"]["lines"]["after"] == [[a, 4, 1000]]


@pytest.mark.parametrize(("content", "filename", "reason"), [
    (b"\x00\x01\x02binary", "orders.csv", "not a text file"),
    (b"\xff\xfe\xfa\xfb" * 10, "orders.csv", "neither UTF-8 nor GB18030"),
    (b"", "orders.csv", "empty"),
    (b"not a zip at all", "orders.xlsx", "not one"),
    (HEADER.encode(), "orders.csv", "no rows"),
])
async def test_broken_files_are_refused_whole_and_change_nothing(
        app_client: httpx.AsyncClient, channel: str, content: bytes, filename: str,
        reason: str) -> None:
    body = await refused(app_client, "POST", "/api/v1/imports", 422, "IMPORT_FILE_INVALID",
                         data={"channel": channel},
                         files={"file": (filename, content, "application/octet-stream")})
    assert reason in body["params"]["reason"]


async def test_missing_columns_are_named(app_client: httpx.AsyncClient, channel: str) -> None:
    body = await refused(app_client, "POST", "/api/v1/imports", 422, "IMPORT_FILE_INVALID",
                         data={"channel": channel},
                         files={"file": ("o.csv", b"order_id,sku\nA1,X\n", "text/csv")})
    assert {e["loc"] for e in body["errors"]} >= {"rows.1.quantity", "rows.1.recipient"}


async def test_a_zip_bomb_posing_as_xlsx_is_refused_before_it_is_unpacked(
        app_client: httpx.AsyncClient, channel: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    body = await refused(app_client, "POST", "/api/v1/imports", 422, "IMPORT_FILE_INVALID",
                         data={"channel": channel},
                         files={"file": ("bomb.xlsx", buf.getvalue(), "application/zip")})
    assert "MB" in body["params"]["reason"] or "zip bomb" in body["params"]["reason"]


async def test_a_column_mapping_names_the_files_own_headers_and_is_kept_per_source(
        app_client: httpx.AsyncClient, channel: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 5})
    header = "Nr,Empfänger,Tel,Prov,Stadt,Bezirk,Strasse,Artikel,Menge\n"
    sku = cat["skus"]["A"]
    content = (header + f"M1,王五,13700137000,北京市,北京市,朝阳区,建国路 1 号,{sku},1\n").encode()
    mapping = ('{"order_id": "Nr", "recipient": "Empfänger", "phone": "Tel", "province": '
               '"Prov", "city": "Stadt", "district": "Bezirk", "street": "Strasse", '
               '"sku": "Artikel", "quantity": "Menge"}')
    r = await upload(app_client, content, channel, mapping=mapping)
    assert r.status_code == 201, r.text
    assert (r.json()["order_count"], r.json()["bad_rows"]) == (1, 0)
    # saved for the source: its next file is read the same way without the mapping
    r = await upload(app_client, content.replace(b"M1,", b"M2,"), channel)
    assert r.status_code == 201, r.text
    assert (r.json()["order_count"], r.json()["bad_rows"]) == (1, 0)
    # another source has no such mapping
    await refused(app_client, "POST", "/api/v1/imports", 422, "IMPORT_FILE_INVALID",
                  data={"channel": channel + "-b"},
                  files={"file": ("o.csv", content, "text/csv")})


async def test_a_discarded_batch_cannot_be_imported(app_client: httpx.AsyncClient,
                                                   channel: str) -> None:
    cat = await seed_catalogue(app_client, {"A": 5})
    batch = (await upload(app_client, csv_of(row("D1", cat["skus"]["A"])), channel)).json()
    r = await app_client.post(f"/api/v1/imports/{batch['id']}/discard")
    assert r.status_code == 200 and r.json()["status"] == "discarded"
    before = await db_state(app_client)
    r = await app_client.post(f"/api/v1/imports/{batch['id']}/run")
    assert_problem(r, 409, "ILLEGAL_TRANSITION")
    assert await db_state(app_client) == before


async def test_a_sheet_may_be_larger_than_other_bodies_but_not_unbounded(
        app_client: httpx.AsyncClient, channel: str) -> None:
    # 2 MB, past the 1 MiB of other bodies: read and judged (too many rows), not refused unread
    many = HEADER.encode() + b"A1,x,x,x,x,x,x,x,1\n" * 110_000
    body = await refused(app_client, "POST", "/api/v1/imports", 422, "IMPORT_FILE_INVALID",
                         data={"channel": channel}, files={"file": ("o.csv", many, "text/csv")})
    assert "more than 20000 rows" in body["params"]["reason"]
    huge = b"x" * (21 << 20)  # past DINGDAN_MAX_UPLOAD_BYTES (20 MiB)
    await refused(app_client, "POST", "/api/v1/imports", 413, "PAYLOAD_TOO_LARGE",
                  data={"channel": channel}, files={"file": ("o.csv", huge, "text/csv")})
