"""Order validation rules: phones, amounts, lines, custom fields, order numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dingdan.domain.errors import AmountsInconsistent, InsufficientStock, ValidationFailed
from dingdan.domain.inventory import WarehouseChoice, choose_warehouses, lock_order
from dingdan.domain.orders import (
    MAX_CUSTOM_FIELDS_BYTES,
    Address,
    CatalogueItem,
    Customer,
    LineDraft,
    OrderDraft,
    normalize_phone,
    order_number,
    validate_draft,
)

CATALOGUE = {"A": CatalogueItem("A", "茶杯", 1200, True),
             "B": CatalogueItem("B", "茶壶", 5000, True),
             "OLD": CatalogueItem("OLD", "旧款", 100, False)}


def draft(lines: tuple[LineDraft, ...] = (LineDraft("A", 2),), **kw: object) -> OrderDraft:
    base = dict(channel="web", customer=Customer("李娜", "138 0013 8000", "Li.Na@Example.com"),
                shipping_address=Address("李娜", "13800138000", "广东省", "广州市", "天河区",
                                         "天河路 1 号", "510000"),
                lines=lines)
    base.update(kw)
    return OrderDraft(**base)  # type: ignore[arg-type]


def codes(err: ValidationFailed) -> dict[str, str]:
    return {d.loc: d.code for d in err.details}


def test_a_good_order_is_normalised_and_priced() -> None:
    d, lines, amounts = validate_draft(draft(shipping_fee=800, discount=200, tax=0,
                                             total=2400 + 600), CATALOGUE)
    assert d.customer.phone == "+8613800138000"
    assert d.customer.email == "li.na@example.com"
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in lines] == [("A", 2, 1200)]
    assert (amounts.subtotal, amounts.total) == (2400, 3000)


def test_the_same_sku_twice_is_merged_into_one_line() -> None:
    _, lines, _ = validate_draft(draft((LineDraft("B", 1), LineDraft("A", 1), LineDraft("A", 2))),
                                 CATALOGUE)
    assert [(ln.sku, ln.quantity) for ln in lines] == [("A", 3), ("B", 1)]


def test_every_bad_field_is_named_at_once() -> None:
    bad = draft((LineDraft("A", 0), LineDraft("NOPE", 1), LineDraft("OLD", 1),
                 LineDraft("B", 1, unit_price=-5)),
                customer=Customer("  ", "12345"), currency="XXX", shipping_fee=-1,
                tags=("ok", "bad tag!"))
    with pytest.raises(ValidationFailed) as err:
        validate_draft(bad, CATALOGUE)
    assert codes(err.value) == {
        "currency": "unknown_currency", "customer.name": "required",
        "customer.phone": "invalid_phone", "lines.0.quantity": "out_of_range",
        "lines.1.sku": "unknown_sku", "lines.2.sku": "unknown_sku",
        "lines.3.unit_price": "negative", "shipping_fee": "negative", "tags.1": "invalid_tag"}


def test_amounts_that_do_not_add_up_are_refused_with_the_expected_total() -> None:
    with pytest.raises(AmountsInconsistent) as err:
        validate_draft(draft(subtotal=2400, total=9999), CATALOGUE)
    assert err.value.params["expected_total"] == 2400
    assert codes(err.value) == {"total": "mismatch"}


def test_a_discount_larger_than_the_order_is_refused() -> None:
    with pytest.raises(AmountsInconsistent):
        validate_draft(draft(discount=10_000), CATALOGUE)


def test_custom_fields_are_bounded() -> None:
    with pytest.raises(ValidationFailed) as err:
        validate_draft(draft(custom_fields={"x": "y" * MAX_CUSTOM_FIELDS_BYTES}), CATALOGUE)
    assert codes(err.value) == {"custom_fields": "too_large"}


def test_postcode_and_address_phone_are_checked() -> None:
    addr = Address("王芳", "not a phone", "四川省", "成都市", "武侯区", "人民南路", "61")
    with pytest.raises(ValidationFailed) as err:
        validate_draft(draft(shipping_address=addr), CATALOGUE)
    assert codes(err.value) == {"shipping_address.phone": "invalid_phone",
                                "shipping_address.postcode": "invalid_postcode"}


@pytest.mark.parametrize(("raw", "e164"), [("13800138000", "+8613800138000"),
                                          ("+86 138-0013-8000", "+8613800138000"),
                                          ("+1 650 253 0000", "+16502530000"),
                                          ("12345", None), ("abc", None)])
def test_phones_are_normalised_to_e164(raw: str, e164: str | None) -> None:
    assert normalize_phone(raw) == e164


def test_order_numbers_are_readable_and_carry_the_date() -> None:
    n = order_number(datetime(2026, 11, 11, tzinfo=UTC), 123456789)
    assert n.startswith("DD261111") and len(n) == 15
    assert n != order_number(datetime(2026, 11, 11, tzinfo=UTC), 123456788)


def test_the_highest_priority_warehouse_that_can_serve_everything_comes_first() -> None:
    sh, gz = WarehouseChoice(1, "SH", 30), WarehouseChoice(2, "GZ", 20)
    cd = WarehouseChoice(3, "CD", 10)
    available = {(1, "A"): 5, (1, "B"): 0, (2, "A"): 5, (2, "B"): 5, (3, "A"): 9, (3, "B"): 9}
    assert [w.code for w in choose_warehouses({"A": 2, "B": 1}, [cd, sh, gz], available)] == \
        ["GZ", "CD"]


def test_no_single_warehouse_able_names_the_short_lines() -> None:
    sh, gz = WarehouseChoice(1, "SH", 30), WarehouseChoice(2, "GZ", 20)
    with pytest.raises(InsufficientStock) as err:
        choose_warehouses({"A": 5, "B": 1}, [sh, gz], {(1, "A"): 4, (2, "A"): 2, (2, "B"): 1})
    assert err.value.params["lines"] == [{"sku": "A", "requested": 5, "available": 4}]


def test_rows_are_locked_in_sku_order() -> None:
    assert lock_order({"Z": 1, "A": 2, "M": 3}) == [("A", 2), ("M", 3), ("Z", 1)]
