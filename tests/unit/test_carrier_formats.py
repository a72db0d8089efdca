"""The providers' documented formats, byte for byte: Kuaidi100's MD5 signs, SF's msgDigest
with Java's URL encoding, and parsing their pushes."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from carrier_peers import kuaidi100_push, route, sf_push, trace
from dingdan.adapters.carriers import kuaidi100, sf
from dingdan.adapters.carriers.port import CarrierProtocolError


def test_kuaidi100_signs_are_upper_case_md5() -> None:
    assert kuaidi100.push_sign("abc", "salt") == hashlib.md5(b"abcsalt").hexdigest().upper()
    assert kuaidi100.query_sign("{}", "K", "C") == hashlib.md5(b"{}KC").hexdigest().upper()
    form = kuaidi100_push("SF1", [trace("103", "已揽收", "2026-11-11 18:00:00")], salt="s")
    assert kuaidi100.verify_push(form["param"], form["sign"], "s")
    assert kuaidi100.verify_push(form["param"], form["sign"].lower(), "s")
    assert not kuaidi100.verify_push(form["param"], form["sign"], "t")
    assert not kuaidi100.verify_push(form["param"] + " ", form["sign"], "s")


def test_a_kuaidi100_push_is_read_as_documented() -> None:
    form = kuaidi100_push("SF1", [trace("301", "已签收", "2026-11-12 10:30:00", None),
                                  trace("103", "已揽收", "2026-11-11 18:00:00")],
                          status="shutdown")
    update = kuaidi100.parse_push(form["param"])
    assert (update.tracking_number, update.carrier, update.finished) == ("SF1", "shunfeng", True)
    assert [(s.code, s.text, s.place) for s in update.scans] == [
        ("301", "已签收", None), ("103", "已揽收", "上海市")]
    assert update.scans[0].occurred_at == datetime(2026, 11, 12, 2, 30, tzinfo=UTC)


def test_without_sub_states_the_result_state_stands_for_the_newest_trace() -> None:
    param = json.dumps({"status": "polling", "lastResult": {
        "nu": "YT1", "com": "yuantong", "state": "5", "data": [
            {"context": "派件中", "time": "2026-11-12 08:00:00", "status": "派件"},
            {"context": "在途", "time": "2026-11-11 08:00:00", "status": "在途"}]}})
    codes = [s.code for s in kuaidi100.parse_push(param).scans]
    assert codes == ["5", "在途"]  # the older trace keeps its text status: kept, unknown


@pytest.mark.parametrize("param", [
    "not json", "[]", '{"lastResult": null}', '{"lastResult": {"nu": "", "data": []}}',
    '{"lastResult": {"nu": "X", "data": [{"context": "x", "time": "yesterday"}]}}',
    '{"lastResult": {"nu": "X", "data": ["x"]}}'])
def test_a_push_not_in_kuaidi100s_format_is_refused(param: str) -> None:
    with pytest.raises(CarrierProtocolError):
        kuaidi100.parse_push(param)


def test_java_url_encoding() -> None:
    assert sf.java_url_encode("a b*c~d.e-f_g") == "a+b*c%7Ed.e-f_g"
    assert sf.java_url_encode("顺丰") == "%E9%A1%BA%E4%B8%B0"
    assert sf.java_url_encode('{"a":1}') == "%7B%22a%22%3A1%7D"


def test_sf_msg_digest_is_base64_of_md5_of_the_encoded_text() -> None:
    expected = base64.b64encode(hashlib.md5(b"%7B%7D123word").digest()).decode()
    assert sf.msg_digest("{}", "123", "word") == expected
    form = sf_push([route("SF9", "80", "2026-11-12 11:00:00", "已签收")], check_word="w")
    assert sf.verify_push(form["msgData"], form["timestamp"], form["msgDigest"], "w")
    assert not sf.verify_push(form["msgData"], form["timestamp"], form["msgDigest"], "v")


def test_an_sf_route_push_is_grouped_by_waybill() -> None:
    form = sf_push([route("SF1", "50", "2026-11-11 18:00:00", "已收取"),
                    route("SF2", "80", "2026-11-12 11:00:00", "已签收"),
                    route("SF1", "44", "2026-11-12 08:00:00", "派送中")])
    updates = sf.parse_route_push(form["msgData"])
    assert [(u.tracking_number, [s.code for s in u.scans]) for u in updates] == [
        ("SF1", ["50", "44"]), ("SF2", ["80"])]
    older = json.dumps({"Body": {"WaybillRoute": [route("SF3", "80", "2026-11-12 11:00:00",
                                                        "x")]}})
    assert sf.parse_route_push(older)[0].tracking_number == "SF3"


@pytest.mark.parametrize("msg", ["{}", '{"WaybillRoute": []}', "nope",
                                 '{"WaybillRoute": [{"mailno": "X"}]}'])
def test_an_sf_push_not_in_the_documented_format_is_refused(msg: str) -> None:
    with pytest.raises(CarrierProtocolError):
        sf.parse_route_push(msg)
