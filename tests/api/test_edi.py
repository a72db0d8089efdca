"""EDI round trips through the API: an EDIFACT ORDERS (D.96A) and an X12 850 land once each,
answered with ORDRSP / 855 (accepted, or not and why); an interchange that does not parse is
refused with the CONTRL / 997 that says why, and writes nothing."""

from __future__ import annotations

import warnings

import httpx
from api_support import place, refused, walk
from pydifact.exceptions import MissingImplementationWarning
from pydifact.segmentcollection import Interchange

from conftest import ref
from helpers import seed_catalogue

URL = "/api/v1/edi/interchanges"


def orders_d96a(sender: str, number: str, sku: str, qty: int = 2) -> str:
    return (
        "UNA:+.? '"
        f"UNB+UNOC:3+{sender}:14+DINGDAN:14+261111:0930+IC{number[-6:]}'"
        "UNH+1+ORDERS:D:96A:UN'"
        f"BGM+220+{number}+9'"
        "DTM+137:20261111:102'"
        "CUX+2:CNY:9'"
        "NAD+BY+6901234000004::9'"
        "NAD+DP+++张三+南山区科技园路1号+深圳市+广东省+518057+CN'"
        "CTA+DL+:张三'"
        "COM+13800138000:TE'"
        f"LIN+1++{sku}:SA'"
        f"QTY+21:{qty}'"
        "PRI+AAA:12.50'"
        "UNS+S'"
        "CNT+2:1'"
        "UNT+14+1'"
        f"UNZ+1+IC{number[-6:]}'")


def x12_850(sender: str, number: str, sku: str, qty: int = 3) -> str:
    isa = (f"ISA*00*          *00*          *ZZ*{sender.ljust(15)}*ZZ*{'DINGDAN'.ljust(15)}"
           "*261111*0930*U*00401*000000101*0*P*>")
    assert len(isa) == 105
    return "~".join([
        isa, f"GS*PO*{sender}*DINGDAN*20261111*0930*101*X*004010",
        "ST*850*0001", f"BEG*00*SA*{number}**20261111", "CUR*BY*CNY",
        "N1*ST*李四", "N3*浦东新区世纪大道 1 号", "N4*上海市*上海市*200120*CN",
        "PER*DC*李四*TE*13900139000",
        f"PO1*1*{qty}*EA*9.90**SK*{sku}", "CTT*1", "SE*10*0001", "GE*1*101",
        "IEA*1*000000101"]) + "~"


def segments(text: str) -> list[tuple[str, list[object]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImplementationWarning)
        parsed = Interchange.from_str(text)
        return [(s.tag, s.elements) for m in parsed.get_messages() for s in m.segments]


async def test_an_edifact_order_lands_once_and_is_answered_with_ordrsp(
        app_client: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sender, number = ref("P"), ref("PO")
    body = orders_d96a(sender, number, cat["skus"]["A"]).encode()
    r = await app_client.post(URL, content=body, headers={"Content-Type": "application/edifact"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["format"] == "edifact"
    [order] = answer["orders"]
    assert (order["external_id"], order["outcome"]) == (number, "created")
    ack = segments(answer["acknowledgements"][0])
    assert ("BGM", ["231", f"R{number}", "29"]) in ack  # 29: accepted without amendment
    assert ("RFF", [["ON", number]]) in ack
    placed = (await app_client.get(f"/api/v1/orders/{order['number']}")).json()
    assert placed["channel"] == f"edi-{sender.lower()}"
    assert (placed["amounts"]["total"], placed["shipping_address"]["district"]) == (
        2500, "南山区")

    again = (await app_client.post(URL, content=body)).json()  # the partner re-sends it
    assert again["orders"][0]["outcome"] == "unchanged"
    assert again["orders"][0]["number"] == order["number"]


async def test_an_order_dingdan_cannot_take_is_answered_not_accepted_with_why(
        app_client: httpx.AsyncClient) -> None:
    body = orders_d96a(ref("P"), ref("PO"), "NO-SUCH-SKU").encode()
    answer = (await app_client.post(URL, content=body)).json()
    assert answer["orders"][0]["outcome"] == "refused"
    ack = segments(answer["acknowledgements"][0])
    bgm = next(el for tag, el in ack if tag == "BGM")
    assert bgm[2] == "27"  # not accepted
    ftx = next(el for tag, el in ack if tag == "FTX")
    assert "lines.0.sku" in str(ftx)


async def test_an_x12_850_lands_once_and_is_answered_with_855(
        app_client: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sender, number = ref("X")[:15], ref("PO")
    body = x12_850(sender, number, cat["skus"]["A"]).encode()
    answer = (await app_client.post(URL, content=body,
                                    headers={"Content-Type": "application/edi-x12"})).json()
    assert answer["format"] == "x12", answer
    [order] = answer["orders"]
    assert order["outcome"] == "created", order
    ack = answer["acknowledgements"][0]
    assert f"BAK*00*AC*{number}*" in ack and "ST*855*0001" in ack
    assert ack.startswith("ISA*") and ack.endswith("IEA*1*000000101~")
    placed = (await app_client.get(f"/api/v1/orders/{order['number']}")).json()
    assert (placed["lines"][0]["quantity"], placed["amounts"]["total"]) == (3, 2970)
    again = (await app_client.post(URL, content=body)).json()
    assert again["orders"][0]["outcome"] == "unchanged"


async def test_an_interchange_that_does_not_parse_gets_contrl_or_997_and_writes_nothing(
        app_client: httpx.AsyncClient) -> None:
    broken = ("UNA:+.? 'UNB+UNOC:3+PARTNER1:14+DINGDAN:14+261111:0930+IC1'"
              "UNH+1+ORDERS:D:96A:UN'BGM+220")
    problem = await refused(app_client, "POST", URL, 422, "EDI_REJECTED", content=broken.encode())
    contrl = segments(problem["params"]["acknowledgement"])
    uci = next(el for tag, el in contrl if tag == "UCI")
    assert uci[0] == "IC1" and uci[3] == "7"  # the interchange, rejected

    cut = x12_850("PARTNER2", "PO1", "SKU")[:-40]
    problem = await refused(app_client, "POST", URL, 422, "EDI_REJECTED", content=cut.encode())
    ack = problem["params"]["acknowledgement"]
    assert "ST*997*0001" in ack and "AK9*R" in ack and "IEA" in problem["params"]["reason"]

    problem = await refused(app_client, "POST", URL, 422, "EDI_REJECTED",
                            content=b"<order>not EDI</order>")
    assert "neither" in problem["params"]["reason"]


async def test_a_shipped_edi_order_has_its_desadv_or_856(app_client: httpx.AsyncClient) -> None:
    cat = await seed_catalogue(app_client, {"A": 10})
    sku = cat["skus"]["A"]
    sender, number = ref("P"), ref("PO")
    answer = (await app_client.post(URL, content=orders_d96a(sender, number, sku).encode())
              ).json()
    order_no = answer["orders"][0]["number"]
    notice_url = f"/api/v1/orders/{order_no}/ship-notice"
    await refused(app_client, "GET", notice_url, 409, "ILLEGAL_TRANSITION")  # not shipped
    await walk(app_client, order_no, "shipped")
    notice = (await app_client.get(notice_url)).json()
    assert notice["format"] == "edifact"
    segs = segments(notice["message"])
    assert ("BGM", ["351", order_no, "9"]) in segs
    assert ("RFF", [["ON", number]]) in segs and ("RFF", [["CN", "SF1234567890"]]) in segs
    assert ("LIN", ["1", "", [sku, "SA"]]) in segs and ("QTY", [["12", "2"]]) in segs
    assert notice["message"].startswith(f"UNB+UNOC:3+DINGDAN:14+{sender}:14+")  # to the partner

    x_sender, x_number = ref("X")[:15], ref("PO")
    answer = (await app_client.post(URL, content=x12_850(x_sender, x_number, sku).encode())
              ).json()
    x_order = answer["orders"][0]["number"]
    await walk(app_client, x_order, "shipped")
    notice = (await app_client.get(f"/api/v1/orders/{x_order}/ship-notice")).json()
    assert notice["format"] == "x12"
    msg = notice["message"]
    assert "ST*856*0001" in msg and f"PRF*{x_number}" in msg and f"LIN**SK*{sku}" in msg
    assert "REF*CN*SF1234567890" in msg and "SN1**3*EA" in msg

    plain = await place(app_client, [(sku, 1)])  # an API order has no ship notice
    await refused(app_client, "GET", f"/api/v1/orders/{plain['number']}/ship-notice", 404,
                  "NOT_FOUND")
