"""The shops' order JSON as drafts, pure: signatures, money, names, districts."""

from __future__ import annotations

import pytest

from dingdan.adapters.channels import shopify, woocommerce
from dingdan.adapters.channels.shops import district_of, full_name, signed
from dingdan.domain.errors import ValidationFailed
from shop_payloads import body_of, shopify_order, sign, woocommerce_order


def test_a_signature_verifies_only_over_the_very_bytes_and_secret() -> None:
    body = b'{"id":1}'
    good = sign("s3cret-s3cret-s3cret", body)
    assert signed("s3cret-s3cret-s3cret", body, good)
    assert not signed("s3cret-s3cret-s3cret", body + b" ", good)
    assert not signed("another-secret-here", body, good)
    assert not signed("s3cret-s3cret-s3cret", body, None)


def test_a_shopify_order_reads_money_names_and_state() -> None:
    o = shopify.order("shop", shopify_order(42, "SKU-1", 2, financial_status="paid"))
    d = o.draft
    assert (d.external_id, d.currency, d.shipping_fee, d.discount, d.tax) == (
        "42", "CNY", 1000, 500, 0)
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in d.lines] == [("SKU-1", 2, 10000)]
    assert (d.shipping_address.recipient, d.customer.name) == ("张三", "张三")
    assert d.shipping_address.district == "南山区" and d.payment_method == "alipay"
    assert o.paid and not o.cancelled and o.version is not None


def test_shopify_tax_is_added_only_when_prices_exclude_it() -> None:
    payload = shopify_order(1, "S")
    payload.update(total_tax="3.00", taxes_included=True)
    assert shopify.order("shop", payload).draft.tax == 0
    payload["taxes_included"] = False
    assert shopify.order("shop", payload).draft.tax == 300


def test_a_woocommerce_line_is_priced_from_its_subtotal() -> None:
    o = woocommerce.order("woo", woocommerce_order(7, "S", 3, status="processing"))
    assert [(ln.quantity, ln.unit_price) for ln in o.draft.lines] == [(3, 5000)]
    assert o.paid and o.draft.payment_method == "bank_transfer"
    payload = woocommerce_order(7, "S", 3)
    payload["line_items"][0]["subtotal"] = "100.00"  # not 3 × a whole price
    with pytest.raises(ValidationFailed) as err:
        woocommerce.order("woo", payload)
    assert err.value.details[0].loc == "line_items.0.subtotal"


def test_other_topics_and_pings_carry_no_order() -> None:
    assert shopify.parse("s", body_of({"id": 1}), {"x-shopify-topic": "products/update"}) \
        is None
    assert woocommerce.parse("w", b"webhook_id=3", {}) is None
    deleted = woocommerce.parse("w", b'{"id": 9}', {"x-wc-webhook-topic": "order.deleted"})
    assert deleted is not None and deleted.cancelled


@pytest.mark.parametrize(("first", "last", "name"), [
    ("三", "张", "张三"), ("Jon", "Doe", "Jon Doe"), ("", "李", "李"), (None, None, "")])
def test_names_put_the_family_name_first_for_chinese(first: str | None, last: str | None,
                                                     name: str) -> None:
    assert full_name(first, last) == name


def test_the_district_comes_from_the_street_or_the_city() -> None:
    assert district_of("南山区科技园路1号", "深圳市") == "南山区"
    assert district_of("1 Infinite Loop", "Cupertino") == "Cupertino"
