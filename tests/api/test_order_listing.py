"""GET /orders: each filter, sorting, cursor pagination and search by number, phone or name.

Every list is narrowed by a random channel, so tests sharing a PostgreSQL database only ever
see their own orders.
"""

from __future__ import annotations

import pytest
from api_support import channel, mobile, place, refused, walk

from conftest import ref
from helpers import seed_catalogue

ORDERS = "/api/v1/orders"


async def numbers(client, **params):
    r = await client.get(ORDERS, params=params)
    assert r.status_code == 200, r.text
    return [o["number"] for o in r.json()["items"]]


async def test_the_channel_filter_lists_only_that_channels_orders(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a = cat["skus"]["A"]
    mine, other = channel(), channel()
    first = await place(app_client, [(a, 1)], channel=mine)
    second = await place(app_client, [(a, 1)], channel=mine)
    await place(app_client, [(a, 1)], channel=other)
    assert sorted(await numbers(app_client, channel=mine)) == sorted(
        [first["number"], second["number"]])


async def test_the_list_shows_a_summary_of_each_order(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    ch = channel()
    order = await place(app_client, [(cat["skus"]["A"], 2)], channel=ch, tags=["vip"])
    r = await app_client.get(ORDERS, params={"channel": ch})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert {k: item[k] for k in ("number", "status", "status_label", "amounts", "customer",
                                 "tags", "version")} == {
        k: order[k] for k in ("number", "status", "status_label", "amounts", "customer",
                              "tags", "version")}
    assert "lines" not in item


async def test_the_status_filter_takes_one_or_several_statuses(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a, ch = cat["skus"]["A"], channel()
    pending = await place(app_client, [(a, 1)], channel=ch)
    paid = await walk(app_client, (await place(app_client, [(a, 1)], channel=ch))["number"],
                      "paid")
    cancelled = await walk(app_client,
                           (await place(app_client, [(a, 1)], channel=ch))["number"], "cancelled")
    assert await numbers(app_client, channel=ch, status="paid") == [paid["number"]]
    assert sorted(await numbers(app_client, channel=ch, status=["pending_payment", "cancelled"])
                  ) == sorted([pending["number"], cancelled["number"]])


async def test_an_unknown_status_filter_is_refused(app_client):
    await refused(app_client, "GET", ORDERS, 422, "VALIDATION_FAILED",
                  params={"status": ["paid", "lost"]})


async def test_placed_between_includes_the_start_and_excludes_the_end(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a, ch = cat["skus"]["A"], channel()
    day1 = await place(app_client, [(a, 1)], channel=ch, placed_at="2026-11-01T00:00:00+08:00")
    day2 = await place(app_client, [(a, 1)], channel=ch, placed_at="2026-11-02T12:00:00+08:00")
    day3 = await place(app_client, [(a, 1)], channel=ch, placed_at="2026-11-03T00:00:00+08:00")
    got = await numbers(app_client, channel=ch, placed_from="2026-11-01T00:00:00+08:00",
                        placed_to="2026-11-03T00:00:00+08:00")
    assert sorted(got) == sorted([day1["number"], day2["number"]])
    assert await numbers(app_client, channel=ch, placed_from="2026-11-02T16:00:00Z") == [
        day3["number"]]


async def test_a_placed_between_time_without_a_timezone_is_refused(app_client):
    await refused(app_client, "GET", ORDERS, 422, "VALIDATION_FAILED",
                  params={"placed_from": "2026-11-01T00:00:00"})


async def test_the_province_filter(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a, ch = cat["skus"]["A"], channel()
    body_gd = {"recipient": "李娜", "phone": "13912345678", "province": "广东省",
               "city": "广州市", "district": "天河区", "street": "天河路 1 号"}
    guangdong = await place(app_client, [(a, 1)], channel=ch, shipping_address=body_gd)
    await place(app_client, [(a, 1)], channel=ch)
    assert await numbers(app_client, channel=ch, province="广东省") == [guangdong["number"]]


async def test_the_sku_filter_finds_orders_with_a_line_of_that_sku(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 10})
    a, b, ch = cat["skus"]["A"], cat["skus"]["B"], channel()
    both = await place(app_client, [(a, 1), (b, 1)], channel=ch)
    only_a = await place(app_client, [(a, 1)], channel=ch)
    assert await numbers(app_client, channel=ch, sku=b) == [both["number"]]
    assert sorted(await numbers(app_client, channel=ch, sku=a)) == sorted(
        [both["number"], only_a["number"]])


async def test_customer_phone_name_and_email_filters(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a, ch = cat["skus"]["A"], channel()
    phone = mobile()
    name = ref("客户")
    found = await place(app_client, [(a, 1)], channel=ch, customer={
        "name": name, "phone": phone, "email": f"{name.lower()}@example.com"})
    await place(app_client, [(a, 1)], channel=ch)
    want = [found["number"]]
    assert await numbers(app_client, channel=ch, phone=phone) == want
    assert await numbers(app_client, channel=ch, phone=f"+86 {phone}") == want
    assert await numbers(app_client, channel=ch, name=name) == want
    assert await numbers(app_client, channel=ch, email=f"{name.upper()}@EXAMPLE.COM") == want


async def test_the_tag_filter(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    a, ch = cat["skus"]["A"], channel()
    tagged = await place(app_client, [(a, 1)], channel=ch, tags=["vip", "双11"])
    await place(app_client, [(a, 1)], channel=ch, tags=["normal"])
    assert await numbers(app_client, channel=ch, tag="双11") == [tagged["number"]]


async def test_filters_combine(app_client):
    cat = await seed_catalogue(app_client, {"A": 10, "B": 10})
    a, b, ch = cat["skus"]["A"], cat["skus"]["B"], channel()
    hit = await place(app_client, [(b, 1)], channel=ch, tags=["vip"])
    await place(app_client, [(a, 1)], channel=ch, tags=["vip"])
    await place(app_client, [(b, 1)], channel=ch)
    assert await numbers(app_client, channel=ch, sku=b, tag="vip") == [hit["number"]]


# --- search ---------------------------------------------------------------------------------


async def test_search_finds_an_order_by_its_number_in_any_case(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    ch = channel()
    order = await place(app_client, [(cat["skus"]["A"], 1)], channel=ch)
    await place(app_client, [(cat["skus"]["A"], 1)], channel=ch)
    assert await numbers(app_client, channel=ch, q=order["number"]) == [order["number"]]
    assert await numbers(app_client, channel=ch, q=f" {order['number'].lower()} ") == [
        order["number"]]


async def test_search_finds_orders_by_phone_whole_or_by_its_last_digits(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    ch, phone = channel(), mobile()
    order = await place(app_client, [(cat["skus"]["A"], 1)], channel=ch,
                        customer={"name": "赵敏", "phone": phone})
    await place(app_client, [(cat["skus"]["A"], 1)], channel=ch)
    want = [order["number"]]
    assert await numbers(app_client, channel=ch, q=phone) == want
    assert await numbers(app_client, channel=ch, q=f"+86{phone}") == want
    assert await numbers(app_client, channel=ch, q=phone[-4:]) == want


async def test_search_finds_orders_by_customer_name(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    ch, name = channel(), ref("周")
    order = await place(app_client, [(cat["skus"]["A"], 1)], channel=ch,
                        customer={"name": name, "phone": mobile()})
    await place(app_client, [(cat["skus"]["A"], 1)], channel=ch)
    assert await numbers(app_client, channel=ch, q=name) == [order["number"]]


async def test_a_search_that_matches_nothing_gives_an_empty_page(app_client):
    cat = await seed_catalogue(app_client, {"A": 10})
    ch = channel()
    await place(app_client, [(cat["skus"]["A"], 1)], channel=ch)
    r = await app_client.get(ORDERS, params={"channel": ch, "q": "no-such-thing%"})
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None}


# --- sorting and pagination -----------------------------------------------------------------


async def place_spread(client, count):
    """``count`` orders in one new channel with distinct totals and placed-at times."""
    cat = await seed_catalogue(client, {"A": 100})
    ch = channel()
    made = []
    for i, qty in enumerate([3, 1, 5, 2, 4][:count]):
        made.append(await place(client, [(cat["skus"]["A"], qty)], channel=ch,
                                placed_at=f"2026-11-0{(i * 2) % 9 + 1}T08:00:00+08:00"))
    return ch, made


@pytest.mark.parametrize(("sort", "key", "reverse"), [
    ("total", lambda o: o["amounts"]["total"], False),
    ("-total", lambda o: o["amounts"]["total"], True),
    ("placed_at", lambda o: o["placed_at"], False),
    ("-placed_at", lambda o: o["placed_at"], True),
    ("number", lambda o: o["number"], False),
    ("-number", lambda o: o["number"], True),
])
async def test_orders_sort_by_the_key_asked_for(app_client, sort, key, reverse):
    ch, made = await place_spread(app_client, 5)
    expected = [o["number"] for o in sorted(made, key=key, reverse=reverse)]
    assert await numbers(app_client, channel=ch, sort=sort) == expected


async def test_the_default_order_is_newest_first(app_client):
    ch, made = await place_spread(app_client, 5)
    newest_first = sorted(made, key=lambda o: o["placed_at"], reverse=True)
    assert await numbers(app_client, channel=ch) == [o["number"] for o in newest_first]


async def test_an_unknown_sort_key_is_refused(app_client):
    body = await refused(app_client, "GET", ORDERS, 422, "VALIDATION_FAILED",
                         params={"sort": "customer_phone"})
    assert body["errors"][0]["loc"] == "sort"


@pytest.mark.parametrize("sort", ["-placed_at", "total", "-total", "number", "updated_at"])
async def test_cursor_pagination_visits_every_order_once_in_order(app_client, sort):
    ch, _ = await place_spread(app_client, 5)
    everything = await numbers(app_client, channel=ch, sort=sort)
    assert len(everything) == 5
    seen, cursor, pages = [], None, 0
    while True:
        params = {"channel": ch, "sort": sort, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await app_client.get(ORDERS, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [o["number"] for o in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert pages == 3


async def test_pagination_breaks_ties_so_orders_placed_at_the_same_instant_all_appear(
        app_client):
    # The test clock does not move: every order has the same placed_at.
    cat = await seed_catalogue(app_client, {"A": 100})
    ch = channel()
    made = {(await place(app_client, [(cat["skus"]["A"], 1)], channel=ch))["number"]
            for _ in range(5)}
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"channel": ch, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await app_client.get(ORDERS, params=params)).json()
        seen += [o["number"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WzEsMiwzXQ", "WyJ4IiwgMV0",
                                    "WyIyMDI2LTExLTAxVDAwOjAwOjAwIiwxXQ"])
async def test_a_cursor_this_api_did_not_give_out_is_refused(app_client, cursor):
    # junk; "not json"; [1,2,3]; ["x", 1] and ["2026-11-01T00:00:00", 1]: not an aware time,
    # which the default sort (placed_at) needs
    body = await refused(app_client, "GET", ORDERS, 422, "VALIDATION_FAILED",
                         params={"cursor": cursor})
    assert body["errors"][0]["loc"] == "cursor"


async def test_a_cursor_from_one_sort_used_with_another_is_refused(app_client):
    ch, _ = await place_spread(app_client, 3)
    r = await app_client.get(ORDERS, params={"channel": ch, "sort": "number", "limit": 1})
    cursor = r.json()["next_cursor"]
    assert cursor
    body = await refused(app_client, "GET", ORDERS, 422, "VALIDATION_FAILED",
                         params={"channel": ch, "sort": "total", "cursor": cursor})
    assert body["errors"][0]["loc"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "201", "ten"])
async def test_a_limit_out_of_range_is_refused(app_client, limit):
    body = await refused(app_client, "GET", ORDERS, 422, "VALIDATION_FAILED",
                         params={"limit": limit})
    assert body["errors"][0]["loc"] == "limit"
