"""Who hears what: catalogue, channel chains with fallback, opt-outs, tiers, quiet hours,
and the retry schedule. Pure rules: no database, no clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dingdan.domain.notifications import (
    Audience,
    Contact,
    Kind,
    Preferences,
    QuietHours,
    backoff_delay,
    kinds_for,
    mask_recipient,
    parse_tier_rules,
    plan_customer,
    plan_staff,
    quiet_until,
    tracking_url,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 11, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
CONTACT = Contact({"email": ("li@example.com",), "sms": ("+8613800138000",)}, "李娜")
ALL = ("email", "sms", "webpush")


def plan(kind: Kind, prefs: Preferences = Preferences(), contact: Contact = CONTACT,
         available: tuple[str, ...] = ALL, now: datetime = NOON):
    return plan_customer(kind, contact, prefs, available=available, now=now, tz=SHANGHAI,
                         default_language="zh-CN")


@pytest.mark.parametrize(("event", "data", "kinds"), [
    ("order.placed", {}, (Kind.ORDER_CONFIRMED,)),
    ("order.paid", {}, (Kind.PAYMENT_RECEIVED,)),
    ("order.shipped", {}, (Kind.SHIPPED,)),
    ("order.payment_timed_out", {}, (Kind.CANCELLED,)),
    ("order.submitted_for_review", {}, (Kind.REVIEW_NEEDED,)),
    ("order.picking_started", {}, ()),
    ("alert.sla_breached", {"stage": "review"}, (Kind.SLA_BREACHED,)),
    ("alert.sla_breached", {"stage": "ship"}, (Kind.SLA_BREACHED, Kind.DELAYED)),
    ("alert.sla_at_risk", {"stage": "ship"}, (Kind.SLA_AT_RISK,)),
])
def test_each_event_causes_the_notifications_of_the_catalogue(event, data, kinds):
    assert kinds_for(event, data) == kinds


def test_a_customer_without_preferences_gets_email_with_sms_as_fallback():
    [p] = plan(Kind.SHIPPED)
    assert (p.channel, p.recipient, p.language) == ("email", "li@example.com", "zh-CN")
    assert p.fallback == (("sms", "+8613800138000"),)
    assert p.audience is Audience.CUSTOMER and p.not_before == NOON


def test_urgent_news_goes_by_sms_first():
    [p] = plan(Kind.OUT_FOR_DELIVERY, Preferences(tier="vip"))
    assert p.channel == "sms" and p.fallback == (("email", "li@example.com"),)


def test_the_preferred_chain_skips_channels_that_cannot_reach_the_customer():
    prefs = Preferences(channels={"*": ("webpush", "sms", "email")})
    [p] = plan(Kind.SHIPPED, prefs, available=("email", "sms"))  # no push configured here
    assert p.channel == "sms" and p.fallback == (("email", "li@example.com"),)
    [p] = plan(Kind.SHIPPED, prefs, contact=Contact({"email": ("li@example.com",)}))
    assert p.channel == "email" and p.fallback == ()
    assert plan(Kind.SHIPPED, prefs, contact=Contact({})) == []


def test_a_chain_per_kind_overrides_the_default_chain():
    prefs = Preferences(channels={"*": ("email",), "delivered": ("sms",)})
    assert plan(Kind.DELIVERED, prefs)[0].channel == "sms"
    assert plan(Kind.SHIPPED, prefs)[0].channel == "email"


def test_opt_outs_silence_a_kind_but_not_a_security_notice():
    prefs = Preferences(opt_outs=frozenset({"shipped", "address_changed"}))
    assert plan(Kind.SHIPPED, prefs) == []
    assert plan(Kind.ADDRESS_CHANGED, prefs) != []
    assert plan(Kind.DELIVERED, Preferences(opt_outs=frozenset({"*"}))) == []


def test_vip_customers_get_every_tracking_event_others_the_key_milestones():
    assert plan(Kind.IN_TRANSIT) == []
    assert plan(Kind.IN_TRANSIT, Preferences(tier="vip")) != []
    assert plan(Kind.SHIPPED) != [] and plan(Kind.DELIVERED) != []
    assert plan(Kind.IN_TRANSIT, Preferences(tier="unknown-tier")) == []  # as standard


def test_tier_rules_are_configuration():
    rules = parse_tier_rules({"gold": ["in_transit", "shipped"], "standard": ["shipped"]})
    kw = dict(available=ALL, now=NOON, tz=SHANGHAI, default_language="en", tier_rules=rules)
    assert plan_customer(Kind.IN_TRANSIT, CONTACT, Preferences(tier="gold"), **kw)
    assert not plan_customer(Kind.DELIVERED, CONTACT, Preferences(), **kw)
    with pytest.raises(ValueError, match="unknown"):
        parse_tier_rules({"gold": ["teleported"]})


def test_every_subscribed_browser_gets_a_push_beside_the_chain():
    contact = Contact({**CONTACT.addresses, "webpush": ("sub-1", "sub-2")})
    planned = plan(Kind.SHIPPED, contact=contact)
    assert [(p.channel, p.recipient) for p in planned] == [
        ("email", "li@example.com"), ("webpush", "sub-1"), ("webpush", "sub-2")]
    # push named in the chain: one delivery per device, the rest of the chain as fallback
    planned = plan(Kind.SHIPPED, Preferences(channels={"*": ("webpush", "email")}),
                   contact=contact)
    assert [(p.channel, p.recipient, p.fallback) for p in planned] == [
        ("webpush", "sub-1", (("email", "li@example.com"),)),
        ("webpush", "sub-2", (("email", "li@example.com"),))]


def test_quiet_hours_hold_back_non_urgent_news_until_they_end():
    prefs = Preferences(quiet_hours=QuietHours.parse("22:00-08:00"))
    late = datetime(2026, 11, 11, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    [p] = plan(Kind.SHIPPED, prefs, now=late)
    assert p.not_before == datetime(2026, 11, 12, 0, 0, tzinfo=UTC)  # 08:00 next morning
    [urgent] = plan(Kind.OUT_FOR_DELIVERY, Preferences(tier="vip", quiet_hours=prefs.quiet_hours),
                    now=late)
    assert urgent.not_before == late
    [p] = plan(Kind.SHIPPED, prefs, now=NOON)
    assert p.not_before == NOON


def test_quiet_hours_follow_the_customers_own_zone():
    prefs = Preferences(quiet_hours=QuietHours.parse("22:00-07:00"),
                        tz=ZoneInfo("Europe/Berlin"))
    at = datetime(2026, 11, 11, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, 06:30 in Shanghai
    [p] = plan(Kind.SHIPPED, prefs, now=at)
    assert p.not_before == datetime(2026, 11, 12, 6, 0, tzinfo=UTC)  # 07:00 Berlin


@pytest.mark.parametrize(("window", "local", "quiet"), [
    ("22:00-08:00", time(23, 0), True), ("22:00-08:00", time(7, 59), True),
    ("22:00-08:00", time(8, 0), False), ("22:00-08:00", time(12, 0), False),
    ("13:00-14:00", time(13, 30), True), ("13:00-14:00", time(14, 0), False),
])
def test_quiet_hours_may_wrap_midnight(window, local, quiet):
    assert QuietHours.parse(window).contains(local) is quiet


def test_quiet_hours_are_parsed_strictly():
    for bad in ("22-08", "22:00", "25:00-08:00", "08:00-08:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)
    assert quiet_until(NOON, None, SHANGHAI) is None


def test_staff_alerts_go_to_the_responsible_role_and_breaches_to_managers_too():
    staff = {"warehouse": ["wh@example.com"], "manager": ["boss@example.com", "wh@example.com"]}
    at_risk = plan_staff(Kind.SLA_AT_RISK, {"role": "warehouse"}, staff, available=ALL,
                         now=NOON, language="zh-CN")
    assert [p.recipient for p in at_risk] == ["wh@example.com"]
    breached = plan_staff(Kind.SLA_BREACHED, {"role": "warehouse"}, staff, available=ALL,
                          now=NOON, language="zh-CN")
    assert [p.recipient for p in breached] == ["wh@example.com", "boss@example.com"]
    assert plan_staff(Kind.REVIEW_NEEDED, {}, staff, available=("sms",), now=NOON,
                      language="en") == []


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    delays = [backoff_delay(n, 30, 3600, rng.random()) for n in range(1, 12)]
    for n, d in enumerate(delays, start=1):
        full = min(3600, 30 * 2 ** (n - 1))
        assert timedelta(seconds=full / 2) <= d <= timedelta(seconds=full)
    assert backoff_delay(1, 30, 3600, 0.0) == timedelta(seconds=15)
    with pytest.raises(ValueError):
        backoff_delay(1, 30, 3600, 1.0)


def test_recipients_are_masked_on_log_pages():
    assert mask_recipient("email", "zhang.wei@example.com") == "z***@example.com"
    assert mask_recipient("sms", "+8613800138000") == "+86138****8000"
    assert mask_recipient("webhook", "12@replay-x") == "subscription 12"
    assert "p256dh" not in mask_recipient("webpush", '{"keys": {"p256dh": "x"}}')


def test_shipped_messages_carry_a_tracking_link():
    assert tracking_url("SF", "SF123") == \
        "https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF123"
    assert tracking_url("YTO", "YT9").endswith("nu=YT9")
    assert tracking_url("SF", None) is None
