"""The notifications API: customer preferences, the template editor with preview, SLA
settings and the holiday calendar, dead letters, and who may change what. (The worker's
behaviour behind these is in tests/integration/test_worker.py.)"""

from __future__ import annotations

from conftest import ref
from helpers import order_body, seed_catalogue

API = "/api/v1"


async def test_preferences_default_then_stored_and_normalised(app_client):
    email = f"{ref('P').lower()}@Example.com"
    r = await app_client.get(f"{API}/notification-preferences/{email}")
    assert r.status_code == 200 and r.json()["version"] == 0
    assert r.json()["contact"] == email.lower() and r.json()["tier"] == "standard"
    body = {"language": "zh-CN", "tier": "vip", "channels": {"*": ["sms", "email", "sms"]},
            "opt_outs": ["in_transit"], "quiet_hours": "22:00 - 8:00",
            "timezone": "Asia/Shanghai"}
    r = await app_client.put(f"{API}/notification-preferences/{email}", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["version"] == 1 and got["channels"] == {"*": ["sms", "email"]}
    assert got["quiet_hours"] == "22:00-08:00"
    stale = await app_client.put(f"{API}/notification-preferences/{email}",
                                 json={**body, "tier": "standard", "expected_version": 0})
    assert stale.status_code == 409 and stale.json()["code"] == "VERSION_CONFLICT"
    phone = await app_client.put(f"{API}/notification-preferences/138 0013 8000",
                                 json={"channels": {"shipped": ["sms"]}})
    assert phone.status_code == 200 and phone.json()["contact"] == "+8613800138000"


async def test_bad_preferences_are_refused_naming_each_field(app_client):
    r = await app_client.put(f"{API}/notification-preferences/x@example.com", json={
        "language": "fr", "channels": {"teleported": ["email"], "*": ["pigeon"]},
        "opt_outs": ["nope"], "quiet_hours": "late", "timezone": "Mars/Olympus"})
    assert r.status_code == 422
    locs = {e["loc"] for e in r.json()["errors"]}
    assert locs == {"language", "channels.teleported", "channels.*", "opt_outs.0",
                    "quiet_hours", "timezone"}
    r = await app_client.get(f"{API}/notification-preferences/not-a-contact")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "contact"


async def test_templates_are_listed_overridden_previewed_and_reverted(app_client):
    r = await app_client.get(f"{API}/notification-templates")
    assert r.status_code == 200
    listed = {(t["kind"], t["channel"], t["language"]) for t in r.json()}
    assert ("shipped", "email", "zh-CN") in listed and ("shipped", "sms", "en") in listed
    assert ("sla_breached", "email", "en") in listed
    assert ("sla_breached", "sms", "en") not in listed  # staff are emailed

    path = f"{API}/notification-templates/delivered/email/en"
    r = await app_client.get(path)
    assert r.status_code == 200 and r.json()["overridden"] is False
    assert "{{ order.number }}" in r.json()["subject"]
    try:
        r = await app_client.put(path, json={"subject": "Arrived: {{ order.number }}",
                                             "text": "Enjoy, {{ name }}!"})
        assert r.status_code == 200, r.text
        assert r.json()["overridden"] and r.json()["version"] == 1
        r = await app_client.post(f"{API}/notification-templates/preview",
                                  json={"kind": "delivered", "channel": "email",
                                        "language": "en"})
        assert r.status_code == 200, r.text
        assert r.json()["subject"] == "Arrived: DD261111ABCDEFG"
        assert r.json()["text"] == "Enjoy, 张伟!" and "<!DOCTYPE html>" in r.json()["html"]
        broken = await app_client.put(path, json={"subject": "x", "text": "{% for %}"})
        assert broken.status_code == 422 and broken.json()["errors"][0]["loc"] == "text"
    finally:
        assert (await app_client.delete(path)).status_code == 204
    assert (await app_client.get(path)).json()["overridden"] is False
    assert (await app_client.delete(path)).status_code == 404


async def test_a_preview_can_use_a_real_order_and_unsaved_source(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    number = (await app_client.post(f"{API}/orders", json=order_body(
        [(cat["skus"]["A"], 1)]))).json()["number"]
    r = await app_client.post(f"{API}/notification-templates/preview", json={
        "kind": "shipped", "channel": "sms", "language": "zh-CN", "order_number": number,
        "text": "{{ order.number }} / {{ name }}"})
    assert r.status_code == 200, r.text
    assert r.json() == {"subject": None, "text": f"{number} / 张伟", "html": None}
    r = await app_client.post(f"{API}/notification-templates/preview", json={
        "kind": "shipped", "channel": "fax", "language": "en"})
    assert r.status_code == 422


async def test_sla_policies_and_the_holiday_calendar(app_client):
    r = await app_client.get(f"{API}/sla/policies")
    assert r.status_code == 200
    stages = {p["stage"]: p for p in r.json()}
    assert set(stages) == {"review", "ship", "deliver"}
    assert stages["review"]["working_time"] and stages["review"]["role"] == "reviewer"
    bad = await app_client.put(f"{API}/sla/policies/review", json={
        "minutes": 30, "working_time": True, "warn_minutes": 45, "role": "reviewer"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "warn_minutes"
    assert (await app_client.put(f"{API}/sla/policies/teleport", json={
        "minutes": 30, "working_time": True, "warn_minutes": 5, "role": "x"})).status_code == 422
    try:
        r = await app_client.put(f"{API}/sla/policies/review", json={
            "minutes": 120, "working_time": True, "warn_minutes": 30, "role": "reviewer"})
        assert r.status_code == 200 and r.json()["customized"] and r.json()["minutes"] == 120
    finally:
        await app_client.put(f"{API}/sla/policies/review", json={
            "minutes": 60, "working_time": True, "warn_minutes": 15, "role": "reviewer"})

    day = "2031-10-01"
    try:
        r = await app_client.put(f"{API}/sla/holidays/{day}",
                                 json={"kind": "holiday", "name": "国庆节"})
        assert r.status_code == 200, r.text
        listed = (await app_client.get(f"{API}/sla/holidays", params={"year": 2031})).json()
        assert {"day": day, "kind": "holiday", "name": "国庆节"} in listed
    finally:
        assert (await app_client.delete(f"{API}/sla/holidays/{day}")).status_code == 204
    assert (await app_client.delete(f"{API}/sla/holidays/{day}")).status_code == 404
    r = await app_client.put(f"{API}/sla/holidays/{day}", json={"kind": "vacation", "name": "x"})
    assert r.status_code == 422


async def test_an_order_without_messages_or_alerts(app_client):
    cat = await seed_catalogue(app_client, {"A": 5})
    number = (await app_client.post(f"{API}/orders", json=order_body(
        [(cat["skus"]["A"], 1)]))).json()["number"]
    assert (await app_client.get(f"{API}/orders/{number}/messages")).json() == []
    sla = (await app_client.get(f"{API}/orders/{number}/sla")).json()
    assert sla["overdue"] is False and sla["stages"] == [] and sla["alerts"] == []
    assert (await app_client.get(f"{API}/orders/NOPE/messages")).status_code == 404
    assert (await app_client.get(f"{API}/orders/NOPE/sla")).status_code == 404
    assert (await app_client.post(f"{API}/dead-letters/999999999/replay")).status_code == 404
    assert (await app_client.post(f"{API}/alerts/999999999/acknowledge")).status_code == 404


async def test_only_settings_managers_change_templates_slas_and_replay(role_client):
    viewer = await role_client("viewer")
    assert (await viewer.get(f"{API}/notification-templates")).status_code == 200
    assert (await viewer.put(f"{API}/notification-templates/delivered/email/en",
                             json={"subject": "x", "text": "y"})).status_code == 403
    assert (await viewer.put(f"{API}/sla/policies/ship", json={
        "minutes": 60, "working_time": False, "warn_minutes": 5,
        "role": "warehouse"})).status_code == 403
    assert (await viewer.post(f"{API}/dead-letters/replay", json={})).status_code == 403
    assert (await viewer.put(f"{API}/notification-preferences/a@example.com",
                             json={})).status_code == 403
    service = await role_client("customer_service")
    r = await service.put(f"{API}/notification-preferences/{ref('p').lower()}@example.com",
                          json={"opt_outs": ["delivered"]})
    assert r.status_code == 200, r.text
