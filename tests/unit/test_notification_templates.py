"""Notification templates: every packaged (kind × channel × language) renders, HTML is
escaped, overrides run sandboxed, and a broken override is refused with the line."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from dingdan.domain.errors import ValidationFailed
from dingdan.services.template_editor import SAMPLE_ORDER, _sample_payload
from dingdan.services.templates import (
    LANGUAGES,
    Renderer,
    TemplateSource,
    kinds_and_channels,
    message_params,
    render_context,
)

SH = ZoneInfo("Asia/Shanghai")
RENDERER = Renderer()


def context(kind: str, language: str, **order):
    from datetime import UTC, datetime

    payload = _sample_payload(kind, {**SAMPLE_ORDER, **order},
                              datetime(2026, 11, 11, 9, tzinfo=UTC))
    return render_context(payload, kind=kind, audience="customer", language=language,
                          base_url="https://shop.example", tz=SH), payload


@pytest.mark.parametrize(("kind", "channel"), [(k.value, c) for k, c in kinds_and_channels()])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_packaged_template_renders(kind, channel, language):
    ctx, _ = context(kind, language)
    out = RENDERER.render(kind, channel, language, ctx)
    assert out.text and "{{" not in out.text and "{%" not in out.text
    if channel == "email":
        assert out.subject and "\n" not in out.subject
        assert out.html and out.html.startswith("<!DOCTYPE html>")
    if channel == "sms":
        assert out.subject is None and out.html is None and len(out.text) <= 140


def test_a_shipped_email_names_the_carrier_and_links_the_tracking_page():
    ctx, _ = context("shipped", "zh-CN")
    out = RENDERER.render("shipped", "email", "zh-CN", ctx)
    assert out.subject == "订单 DD261111ABCDEFG 已发货"
    assert "SF1234567890" in out.text and "张伟" in out.text
    assert 'href="https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF1234567890"' \
        in (out.html or "")


def test_a_payment_timeout_says_why_it_was_cancelled():
    ctx, payload = context("cancelled", "en")
    payload["type"] = "order.payment_timed_out"
    ctx = render_context(payload, kind="cancelled", audience="customer", language="en",
                         base_url="https://shop.example", tz=SH)
    assert "did not receive payment in time" in RENDERER.render("cancelled", "email", "en",
                                                                 ctx).text


def test_customer_data_is_escaped_in_html():
    ctx, _ = context("delivered", "en", customer={"name": "<script>x</script>"})
    out = RENDERER.render("delivered", "email", "en", ctx)
    assert "<script>x" not in (out.html or "") and "&lt;script&gt;" in (out.html or "")


def test_an_override_replaces_the_default_and_runs_sandboxed():
    ctx, _ = context("shipped", "en")
    override = TemplateSource("Parcel {{ order.number }}", "Hi {{ name }}!",
                              "<p>{{ name }}</p>")
    out = RENDERER.render("shipped", "email", "en", ctx, override)
    assert (out.subject, out.text, out.html) == ("Parcel DD261111ABCDEFG", "Hi 张伟!",
                                                 "<p>张伟</p>")
    evil = TemplateSource("x", "{{ name.__class__.__mro__ }}", None)
    with pytest.raises(Exception, match=r"unsafe|not safely"):
        RENDERER.render("shipped", "email", "en", ctx, evil)


def test_a_broken_override_is_refused_naming_the_part_and_line():
    with pytest.raises(ValidationFailed) as caught:
        RENDERER.check(TemplateSource("ok", "line one\n{% if %}", None))
    [detail] = caught.value.details
    assert detail.loc == "text" and "line 2" in detail.message


def test_sms_parameters_are_flat_strings():
    ctx, payload = context("shipped", "zh-CN")
    params = message_params(payload, ctx)
    assert params["order_number"] == "DD261111ABCDEFG" and params["type"] == "order.shipped"
    assert all(isinstance(v, str) for v in params.values())
