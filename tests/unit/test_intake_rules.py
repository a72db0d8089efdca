"""The intake rules, pure: the import batch's table, sheet rows into orders, and what a
channel's later change may do in each stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dingdan.domain import channel_orders as rules
from dingdan.domain import imports as sheet
from dingdan.domain.imports import IMPORT, BatchAction, BatchFacts, BatchStatus
from dingdan.domain.lifecycle import Status
from dingdan.domain.permissions import Permission
from machine_support import check_machine

B, BA = BatchStatus, BatchAction
PICTURE = {
    (B.CHECKED, BA.IMPORT): B.IMPORTING,
    (B.CHECKED, BA.DISCARD): B.DISCARDED,
    (B.IMPORTING, BA.FINISH): B.COMPLETED,
}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_batch_table_is_the_picture() -> None:
    check_machine(IMPORT, PICTURE, facts=lambda s, a: BatchFacts(s, 0, 1, False),
                  refusing_facts=lambda s, a: BatchFacts(s, 3, 1, False), initial=B.CHECKED,
                  permissions=frozenset(p.value for p in Permission))


@pytest.mark.parametrize(("bad", "good", "partial", "allowed"), [
    (0, 2, False, True), (1, 2, False, False), (1, 2, True, True), (3, 0, True, False),
])
def test_a_batch_is_imported_whole_only_without_bad_rows(bad: int, good: int, partial: bool,
                                                        allowed: bool) -> None:
    facts = BatchFacts(B.CHECKED, bad, good, partial)
    assert (BA.IMPORT in IMPORT.allowed_actions(B.CHECKED, facts)) is allowed


def _rows(*values: dict[str, str]) -> list[sheet.SheetRow]:
    return [sheet.SheetRow(i, {sheet.Column(k): v for k, v in row.items()})
            for i, row in enumerate(values, start=2)]


BASE = {"order_id": "A1", "recipient": "张三", "phone": "13800138000", "province": "广东省",
        "city": "深圳市", "district": "南山区", "street": "科技园路1号", "sku": "S1",
        "quantity": "2"}


def test_chinese_and_english_headers_are_found_and_missing_ones_named() -> None:
    columns, errors = sheet.find_columns(["订单号", "收货人", "手机", "省", "市", "区", "详细地址",
                                          "SKU", "数量", "单价"])
    assert not errors and columns[sheet.Column.UNIT_PRICE] == 9
    _, errors = sheet.find_columns(["Order ID", "SKU"])
    assert {e.column for e in errors} == {"recipient", "phone", "province", "city", "district",
                                          "street", "quantity"}
    assert all((e.row, e.code) == (1, "missing_column") for e in errors)


def test_rows_of_one_order_make_one_draft_with_its_lines() -> None:
    [order] = sheet.group_orders("csv", _rows(
        {**BASE, "unit_price": "12.50", "shipping_fee": "5", "placed_at": "2026-11-11 09:30"},
        {**BASE, "sku": "S2", "quantity": "1"}), SHANGHAI)
    assert order.draft is not None and not order.errors
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.draft.lines] == [
        ("S1", 2, 1250), ("S2", 1, None)]
    assert order.draft.shipping_fee == 500
    assert order.draft.placed_at == datetime(2026, 11, 11, 1, 30, tzinfo=UTC)
    assert order.draft.customer.name == "张三"  # the recipient when no customer is given


def test_every_bad_cell_is_named_by_row_and_column() -> None:
    [order] = sheet.group_orders("csv", _rows(
        {**BASE, "quantity": "x", "unit_price": "1.234"},
        {**BASE, "street": "另一条路", "sku": "", "recipient": "@SUM(A1)"}), SHANGHAI)
    assert order.draft is None
    assert {(e.row, e.column, e.code) for e in order.errors} == {
        (2, "quantity", "not_a_number"), (2, "unit_price", "not_an_amount"),
        (3, "street", "differs_within_order"), (3, "recipient", "formula"),
        (3, "recipient", "differs_within_order"), (3, "sku", "required")}


@pytest.mark.parametrize(("value", "formula"), [
    ("=1+1", True), ("@SUM(A1)", True), ("+cmd|' /C calc'!A0", True), ("-2+3", True),
    ("＝1", True), ("+86 138 0013 8000", False), ("-5", False), ("张三", False), ("", False),
])
def test_formulas_are_told_from_phones_and_numbers(value: str, formula: bool) -> None:
    assert sheet.looks_like_formula(value) is formula


def test_rule_errors_are_placed_on_the_sheet() -> None:
    [order] = sheet.group_orders("csv", _rows(BASE, {**BASE, "sku": "S2"}), SHANGHAI)
    from dingdan.domain.errors import FieldError

    placed = sheet.locate(order, [FieldError("lines.1.sku", "unknown_sku", "no"),
                                  FieldError("shipping_address.phone", "invalid_phone", "no")])
    assert [(e.row, e.column) for e in placed] == [(3, "sku"), (2, "phone")]


@pytest.mark.parametrize(("status", "changed", "refused"), [
    (Status.PENDING_PAYMENT, {"lines"}, False),
    (Status.PAID, {"total", "lines"}, False),
    (Status.APPROVED, {"lines"}, True),
    (Status.APPROVED, {"ship_street"}, False),
    (Status.PICKING, {"ship_street"}, True),
    (Status.CANCELLED, {"notes"}, True),
    (Status.SHIPPED, {"customer_phone"}, True),
])
def test_a_channel_change_is_refused_by_stage(status: Status, changed: set[str],
                                              refused: bool) -> None:
    assert (rules.refusal(status, dict.fromkeys(changed)) is not None) is refused


def test_cancellation_is_refused_once_shipped() -> None:
    assert rules.cancel_refusal(Status.PACKED) is None
    assert rules.cancel_refusal(Status.CANCELLED) is None
    assert "shipped" in (rules.cancel_refusal(Status.SHIPPED) or "")


def test_an_older_version_is_stale_and_the_same_one_a_repeat() -> None:
    now = datetime(2026, 11, 11, tzinfo=UTC)
    assert not rules.is_stale(now, now) and rules.is_repeat(now, now)
    assert rules.is_stale(now - timedelta(seconds=1), now)
    assert not rules.is_repeat(None, None)
    assert not rules.is_stale(now + timedelta(seconds=1), now)
    assert not rules.is_stale(None, now) and not rules.is_stale(now, None)
