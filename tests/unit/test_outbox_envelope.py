"""One function builds every outbox envelope, and it makes the bytes the three hand-built
envelopes made (order events, SLA alerts, the dead-letter digest): same keys, same order."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dingdan.domain.outbox import envelope

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
ORDER = {"number": "DD20261201ABCDEFG", "status": "shipped", "payment_status": "paid",
         "fulfillment_status": "shipped", "channel": "api", "external_id": "E-1",
         "total": 12900, "currency": "CNY",
         "customer": {"name": "张伟", "phone": "+8613800138000", "email": "zw@example.com"},
         "carrier": "SF", "tracking_number": "SF123", "version": 6}


def _bytes(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def test_an_order_event_envelope_is_what_services_orders_built_by_hand() -> None:
    data = {"carrier": "SF", "tracking_number": "SF123"}
    by_hand = {
        "event_id": "e1", "type": "order.shipped", "occurred_at": NOW.isoformat(),
        "order_number": ORDER["number"], "from_status": "packed", "to_status": "shipped",
        "actor": "token:shop", "reason": None, "data": data, "order": ORDER}
    built = envelope(event_id="e1", type="order.shipped", occurred_at=NOW,
                     order_number=str(ORDER["number"]), transition=("packed", "shipped"),
                     actor="token:shop", reason=None, data=data, order=ORDER)
    assert _bytes(built) == _bytes(by_hand)


def test_a_note_keeps_its_empty_transition() -> None:
    built = envelope(event_id="e2", type="order.note_added", occurred_at=NOW,
                     order_number="DD1", transition=(None, None), actor="user:li",
                     reason="客户来电", data={}, order=ORDER)
    assert built["from_status"] is None and built["to_status"] is None
    assert list(built) == ["event_id", "type", "occurred_at", "order_number", "from_status",
                           "to_status", "actor", "reason", "data", "order"]


def test_an_sla_alert_envelope_is_what_services_sla_built_by_hand() -> None:
    data = {"alert_id": 7, "stage": "ship", "kind": "breached", "role": "warehouse",
            "deadline": NOW.isoformat(), "promise": False}
    by_hand = {
        "event_id": "e3", "type": "alert.sla_breached", "occurred_at": NOW.isoformat(),
        "order_number": ORDER["number"], "actor": "system:sla", "reason": None,
        "data": data, "order": ORDER}
    built = envelope(event_id="e3", type="alert.sla_breached", occurred_at=NOW,
                     order_number=str(ORDER["number"]), actor="system:sla", reason=None,
                     data=data, order=ORDER)
    assert _bytes(built) == _bytes(by_hand)


def test_the_dead_letter_digest_envelope_is_what_services_jobs_built_by_hand() -> None:
    data = {"total": 3, "by_channel": {"email": 2, "sms": 1}, "since": NOW.isoformat(),
            "until": NOW.isoformat()}
    by_hand = {
        "event_id": "e4", "type": "staff.dead_letters", "occurred_at": NOW.isoformat(),
        "order_number": None, "actor": "system:worker", "reason": None, "data": data}
    built = envelope(event_id="e4", type="staff.dead_letters", occurred_at=NOW,
                     order_number=None, actor="system:worker", reason=None, data=data)
    assert _bytes(built) == _bytes(by_hand)
