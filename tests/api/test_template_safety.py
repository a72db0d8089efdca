"""Template preview and saving, as an attacker would use them: what a preview shows of a
customer is what the person may read of the order (masked without ``pii.read``; 404 outside
their warehouses), and no template text — Jinja2 sandbox escapes, huge values, endless loops,
deep recursion — gets anything but a 200 or a 422 ``TEMPLATE_INVALID`` that changes nothing.
"""

from __future__ import annotations

import time

import pytest
from api_support import assert_problem, refused

from dingdan.domain.permissions import MATRIX, Permission, Role
from people_support import World

API = "/api/v1"
PREVIEW = f"{API}/notification-templates/preview"
WHO = "{{ order.customer }} / {{ order.customer.phone }} / {{ order.customer.email }} / {{ name }}"

NO_PII = [r.value for r in Role if Permission.PII_READ not in MATRIX[r]]  # viewer, finance
# Each of these once gave a 500, a 100 MB answer, or a server busy for minutes.
NASTY = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ range(10**9)|list }}",
    "{{ 'a' * 100000000 }}",
    "{{ 'a' * 10**8 }}",
    "{% for i in range(10**6) %}{% for j in range(10**6) %}x{% endfor %}{% endfor %}",
    "{% for i in range(999) %}{% for j in range(999) %}{% for k in range(999) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% macro f(n) %}{{ f(n - 1) }}{{ f(n - 1) }}{% endmacro %}{{ f(60) }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}"
    "{% endfor %}{{ ns.n }}",
    "{{ 9 ** 999999 }}",
    "{{ '%999999999d' | format(1) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ 'a' | center(999999999) }}",
    "{{ (1).to_bytes(10**9, 'big') }}",
    "{{ lipsum(100000, false, 100000, 100000) }}",
    "{{ [].append(1) }}",
    "{{ 1 / 0 }}",
    "{{ foo.bar.baz }}",
    "{% for %}",
    "{% include 'x.html' %}",
    "{% for c in 'ab' recursive %}{{ loop(c) }}{% endfor %}",
]


def _preview(text: str, **extra: str) -> dict[str, str]:
    return {"kind": "shipped", "channel": "sms", "language": "en", "text": text, **extra}


async def _world_order(app_client) -> tuple[World, str]:
    world = await World.create(app_client.app.state.uow)
    return world, await world.place()


@pytest.mark.parametrize("role", NO_PII)
async def test_a_preview_masks_the_customer_for_people_without_pii_read(app_client, role_client,
                                                                          role):
    _, number = await _world_order(app_client)
    client = await role_client(role)
    for extra in ({"order_number": number}, {}):  # a real order, and the sample one
        r = await client.post(PREVIEW, json=_preview(WHO, **extra))
        assert r.status_code == 200, r.text
        text = r.json()["text"]
        assert "13800138000" not in text and "zhang.wei@" not in text, text
        assert "138****8000" in text and "z***@example.com" in text


async def test_a_preview_shows_the_customer_to_people_with_pii_read(app_client, role_client):
    _, number = await _world_order(app_client)
    client = await role_client("customer_service")
    r = await client.post(PREVIEW, json=_preview(WHO, order_number=number))
    assert r.status_code == 200, r.text
    assert "13800138000" in r.json()["text"] and "zhang.wei@example.com" in r.json()["text"]


async def test_a_staff_message_preview_is_masked_for_everyone(app_client):
    _, number = await _world_order(app_client)
    r = await app_client.post(PREVIEW, json={"kind": "sla_breached", "channel": "email",
                                             "language": "en", "subject": "x", "text": WHO,
                                             "order_number": number})
    assert r.status_code == 200, r.text
    assert "13800138000" not in r.json()["text"] and "138****8000" in r.json()["text"]


async def test_a_preview_of_another_warehouses_order_is_404(app_client, role_client):
    world, _ = await _world_order(app_client)
    theirs = await world.place(in_other=True)
    staff = await role_client("warehouse", warehouses=[world.warehouse])
    r = await staff.post(PREVIEW, json=_preview(WHO, order_number=theirs))
    assert_problem(r, 404, "NOT_FOUND")
    r = await staff.post(PREVIEW, json=_preview(WHO, order_number=await world.place()))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("text", NASTY)
async def test_nasty_template_text_is_a_422_for_preview_and_save_and_changes_nothing(
        app_client, text):
    started = time.monotonic()
    r = await app_client.post(PREVIEW, json=_preview(text))
    body = assert_problem(r, 422, "TEMPLATE_INVALID")
    assert body["errors"][0]["loc"] == "text" and body["errors"][0]["code"].startswith(
        "template_"), body
    assert len(r.content) < 5_000
    await refused(app_client, "PUT", f"{API}/notification-templates/shipped/sms/en", 422,
                  "TEMPLATE_INVALID", json={"text": text})
    # Generous: the bound is one second of rendering; this only catches a runaway.
    assert time.monotonic() - started < 30


async def test_a_template_problem_is_explained_in_chinese(app_client):
    r = await app_client.post(PREVIEW, json=_preview("{{ 'a' * 10**8 }}"),
                              headers={"Accept-Language": "zh-CN"})
    body = assert_problem(r, 422, "TEMPLATE_INVALID")
    assert body["title"] == "模板无效"
    assert body["errors"][0]["message"] == "模板生成的文本或数字过大。"
