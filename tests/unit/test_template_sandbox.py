"""The bounded sandbox for people's templates: whatever the text, rendering ends quickly with
the message or with TemplateInvalid (never another exception); ordinary Jinja2 still works;
real sends fall back to the packaged template; staff messages carry no personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dingdan.domain.errors import TemplateInvalid
from dingdan.services.delivery import Claimed, DeliveryPolicy, build_message
from dingdan.services.template_editor import SAMPLE_ORDER, _sample_payload
from dingdan.services.template_sandbox import MAX_CHARS, BoundedSandbox
from dingdan.services.templates import Renderer, TemplateSource, render_context

SH = ZoneInfo("Asia/Shanghai")
ENV = BoundedSandbox(autoescape=False)
CTX = {"order": {"number": "DD1", "lines": [1, 2, 3], "customer": {"name": "张伟"}},
       "name": "张伟"}


def render(text: str) -> str:
    return ENV.render_checked(ENV.compile_checked(text, "text"), CTX, "text")


def refused(text: str) -> str:
    with pytest.raises(TemplateInvalid) as caught:
        render(text)
    [detail] = caught.value.details
    assert detail.loc == "text"
    return detail.code


def test_ordinary_jinja_still_works():
    text = ("{{ name }} {{ order.number|lower }} {% for n in order.lines %}{{ loop.index }}"
            "{{ '' if loop.last else ',' }}{% endfor %} {{ 'a' ~ 'b' }} {{ '%03d'|format(7) }} "
            "{{ '{}-{}'.format(1, 2) }} {{ [3, 1, 2]|sort|join('') }} {{ 2 ** 10 }} {{ 'ab' * 2 }}"
            " {% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}"
            "{% endfor %}{{ ns.n }} {% macro b(x) %}[{{ x }}]{% endmacro %}{{ b(1) }} "
            "{{ order.customer.get('name') }} {{ name|center(4) }}")
    assert render(text) == "张伟 dd1 1,2,3 ab 007 1-2 123 1024 abab 3 [1] 张伟  张伟 "


@pytest.mark.parametrize(("text", "code"), [
    ("{{ ''.__class__ }}", "template_unsafe"),  # Jinja2 alone prints a blank here
    ("{{ 'a' * 10**8 }}", "template_too_large"),
    ("{{ range(10**9)|list }}", "template_too_large"),
    ("{{ 'x' * 1000 ~ 'x' * 1000 }}", None),  # fine: small
    ("{% set s %}{% for i in range(999) %}{{ 'y' * 999 }}{% endfor %}{% endset %}{{ s }}",
     "template_too_large"),
    ("{{ [('x' * 1000)] * 999 }}", "template_too_large"),
    ("{{ ('x' * 1000)|replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyy') * 9 }}", "template_too_large"),
    ("{% for i in range(999) %}{% for j in range(999) %}{% endfor %}{% endfor %}",
     "template_too_slow"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "template_too_slow"),
    ("{{ 'a\tb'.expandtabs(999) }}", "template_unsafe"),
    ("{{ order.lines.append(4) }}", "template_unsafe"),
    ("{% set _x = 1 %}", "template_error"),
])
def test_each_bound_holds(text, code):
    if code is None:
        assert len(render(text)) == 2000
    else:
        assert refused(text) == code


def test_the_output_is_capped_while_it_is_produced():
    # Each piece is small; together they pass the cap, and rendering stops there.
    text = "{% for i in range(999) %}{% for j in range(99) %}{{ 'z' * 99 }}{% endfor %}{% endfor %}"
    assert refused(text) in ("template_too_large", "template_too_slow")
    assert len(render("{% for i in range(20) %}{{ 'z' * 9999 }}{% endfor %}")) < MAX_CHARS


PIECES = st.sampled_from([
    "{{ name }}", "{{ order.number }}", "{% for i in range(9) %}", "{% endfor %}", "{% if 1 %}",
    "{% endif %}", "{{ 'ab' * 999 }}", "{{ order.lines|join(',') }}", "{{ ", " }}", "{% ",
    " %}", "x", "~", "*", "**", "(", ")", "[", "]", "'", "10**9", "range(", "|", "upper",
    "__class__", ".", "loop", "recursive", "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% set ns = namespace(s='ab') %}", "{% set ns.s = ns.s ~ ns.s %}", "{{ ns.s }}", "%",
    "format", "center(999)", "join", "{% raw %}", "{% endraw %}", "{#", "#}", "\n", "é", "乙",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=25).map("".join))
def test_any_text_renders_or_is_refused_with_template_invalid(text):
    try:
        out = render(text)
    except TemplateInvalid as exc:
        assert exc.details and exc.details[0].code.startswith("template_")
    else:
        assert len(out) <= MAX_CHARS


def _claimed(kind: str, audience: str) -> Claimed:
    payload = _sample_payload(kind, dict(SAMPLE_ORDER), datetime(2026, 11, 11, tzinfo=UTC))
    return Claimed(1, "ev-1", "email", "someone@example.com", kind, audience,
                   payload["type"], SAMPLE_ORDER["number"], "en", 0, payload, ())


def test_a_real_send_with_an_override_past_a_bound_falls_back_to_the_packaged_template():
    override = TemplateSource("x", "{{ 'a' * 10**8 }}", None)
    message = build_message(_claimed("shipped", "customer"), Renderer(),
                            DeliveryPolicy(frozenset({"email"})), override)
    assert message.text and "SF1234567890" in message.text and len(message.text) < 5_000


def test_a_staff_message_carries_the_customer_masked():
    override = TemplateSource("x", "{{ order.customer.phone }} {{ order.customer.email }}", None)
    message = build_message(_claimed("sla_breached", "staff"), Renderer(),
                            DeliveryPolicy(frozenset({"email"})), override)
    assert message.text == "138****8000 z***@example.com"
    customer = build_message(_claimed("shipped", "customer"), Renderer(),
                             DeliveryPolicy(frozenset({"email"})), override)
    assert customer.text == "+8613800138000 zhang.wei@example.com"  # their own


def test_the_preview_context_is_masked_on_request():
    payload = _sample_payload("shipped", dict(SAMPLE_ORDER), datetime(2026, 1, 1, tzinfo=UTC))
    ctx = render_context(payload, kind="shipped", audience="customer", language="en",
                         base_url="https://x.example", tz=SH, masked=True)
    assert ctx["order"]["customer"]["phone"] == "138****8000"
