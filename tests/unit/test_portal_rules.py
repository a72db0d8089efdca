"""The customer page's rules, pure: signed links (expiry, tampering, rotation), the
last-four-digits proof, the customer's stages, and the link in customer messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from dingdan.domain.lifecycle import Status
from dingdan.domain.portal import (
    STAGES,
    last_four_matches,
    link_expiry,
    next_step,
    sign_link,
    stages,
    verify_link,
)
from dingdan.domain.privacy import mask_name
from dingdan.services.templates import render_context

NOW = datetime(2026, 11, 11, 8, 0, tzinfo=UTC)
KEY, OLD = b"k" * 32, b"o" * 32
N = "DD261111ABCDEFG"


def test_a_signed_link_opens_its_order_until_it_expires():
    token = sign_link(KEY, N, NOW + timedelta(days=1))
    assert verify_link([KEY], N, token, NOW)
    assert verify_link([KEY], N, token, NOW + timedelta(hours=23))
    assert not verify_link([KEY], N, token, NOW + timedelta(days=1))
    assert not verify_link([KEY], "DD261111ABCDEFH", token, NOW)  # another order
    assert not verify_link([KEY], N, token, NOW, purpose="invoice")  # another purpose


@pytest.mark.parametrize("change", ["mac", "expiry", "junk", "empty", "none"])
def test_a_tampered_link_opens_nothing(change: str):
    token = sign_link(KEY, N, NOW + timedelta(days=1))
    expiry, _, mac = token.partition(".")
    bad = {"mac": f"{expiry}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
           "expiry": f"{int(expiry, 16) + 3600:x}.{mac}", "junk": "x.y", "empty": "",
           "none": None}[change]
    assert not verify_link([KEY], N, bad, NOW)


def test_a_rotated_key_keeps_old_links_working_until_it_is_dropped():
    old_link = sign_link(OLD, N, NOW + timedelta(days=1))
    assert verify_link([KEY, OLD], N, old_link, NOW)
    assert not verify_link([KEY], N, old_link, NOW)


def test_links_in_messages_live_through_after_sales():
    assert link_expiry(NOW) - NOW >= timedelta(days=365)


def test_the_last_four_digits_of_either_phone_prove_the_order():
    phones = ("+8613800138000", "13912345678")
    assert last_four_matches(phones, "8000")
    assert last_four_matches(phones, " 5678 ")
    assert not last_four_matches(phones, "1234")
    assert not last_four_matches(phones, "800")
    assert not last_four_matches(phones, "80000")
    assert not last_four_matches((None, ""), "0000")
    assert not last_four_matches(("12",), "??12")


def _reached(*pairs: tuple[Status, int]) -> dict[Status, datetime]:
    return {s: NOW + timedelta(hours=h) for s, h in pairs}


def test_stages_mark_the_current_one_and_when_each_was_reached():
    views = stages(Status.PICKING, None, NOW, _reached(
        (Status.PAID, 1), (Status.PENDING_REVIEW, 1), (Status.APPROVED, 2),
        (Status.ALLOCATED, 2), (Status.PICKING, 3)))
    assert [v.key for v in views] == [s.key for s in STAGES]
    state = {v.key: v.state for v in views}
    assert state == {"placed": "done", "paid": "done", "confirmed": "done",
                     "preparing": "current", "shipped": "todo", "out_for_delivery": "todo",
                     "delivered": "todo"}
    at = {v.key: v.at for v in views}
    assert at["placed"] == NOW and at["paid"] == NOW + timedelta(hours=1)
    assert at["preparing"] == NOW + timedelta(hours=3) and at["shipped"] is None


def test_a_cancelled_order_stops_where_it_was_and_a_held_one_waits_there():
    views = stages(Status.CANCELLED, None, NOW, _reached((Status.PAID, 1),
                                                         (Status.CANCELLED, 2)))
    assert [v.state for v in views][:3] == ["done", "stopped", "todo"]
    views = stages(Status.ON_HOLD, Status.APPROVED, NOW, _reached((Status.PAID, 1),
                                                                  (Status.APPROVED, 2)))
    assert [v.state for v in views][:4] == ["done", "done", "held", "todo"]


def test_a_completed_order_has_every_stage_done_or_skipped():
    views = stages(Status.COMPLETED, None, NOW, _reached(
        (Status.PAID, 1), (Status.APPROVED, 2), (Status.SHIPPED, 3), (Status.DELIVERED, 4),
        (Status.COMPLETED, 5)))
    assert {v.key: v.state for v in views} == {
        "placed": "done", "paid": "done", "confirmed": "done", "preparing": "skipped",
        "shipped": "done", "out_for_delivery": "skipped", "delivered": "done"}


def test_every_status_says_what_happens_next():
    for status in Status:
        assert next_step(status, "alipay")
    assert next_step(Status.PENDING_PAYMENT, "cod") == "cod_review"


def test_names_are_masked_to_their_first_letter():
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("Wei Zhang") == "W*** Z***"
    assert mask_name(None) is None


def test_customer_messages_link_to_the_page_with_a_signed_token():
    payload = {"type": "order.shipped", "occurred_at": NOW.isoformat(), "order_number": N,
               "order": {"number": N, "status": "shipped", "customer": {"name": "张伟"}}}
    ctx = render_context(payload, kind="shipped", audience="customer", language="zh-CN",
                         base_url="https://shop.example/", tz=ZoneInfo("Asia/Shanghai"),
                         link_key=KEY)
    url = urlsplit(ctx["order"]["url"])
    assert url.path == f"/track/{N}"
    token = parse_qs(url.query)["t"][0]
    assert verify_link([KEY], N, token, NOW + timedelta(days=300))
    unsigned = render_context(payload, kind="shipped", audience="customer", language="en",
                              base_url="https://shop.example", tz=ZoneInfo("Asia/Shanghai"))
    assert unsigned["order"]["url"] == f"https://shop.example/track/{N}"
