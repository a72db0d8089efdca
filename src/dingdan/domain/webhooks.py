"""Webhook subscription rules: which URLs and event-type patterns are acceptable, and which
events a subscription receives. Pure.

Patterns are an exact event type (``order.shipped``), a namespace (``order.*``) or ``*``
(everything the outbox carries: order events, and the worker's ``alert.*`` events).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from dingdan.domain.errors import ErrorCollector
from dingdan.domain.events import EventType

ORDER_EVENT_TYPES: frozenset[str] = frozenset(t.value for t in EventType)
_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*\.\*$")
MAX_URL = 2000


def matches(patterns: Iterable[str], event_type: str) -> bool:
    for p in patterns:
        if p == "*" or p == event_type:
            return True
        if p.endswith(".*") and event_type.startswith(p[:-1]):
            return True
    return False


def check_subscription(url: str | None, event_types: Sequence[str] | None,
                       errors: ErrorCollector) -> None:
    """Add a field error for a bad URL or pattern (either may be None: not being changed)."""
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            errors.add("url", "invalid_url", "must be an absolute http(s) URL")
        elif parts.username or parts.password:
            errors.add("url", "invalid_url", "must not carry credentials; the secret signs")
        elif len(url) > MAX_URL:
            errors.add("url", "too_long", f"at most {MAX_URL} characters")
    if event_types is not None:
        if not event_types:
            errors.add("event_types", "required", 'name event types, or ["*"] for all')
        for i, t in enumerate(event_types):
            if t == "*" or _NAMESPACE.match(t):
                continue
            if not _TYPE.match(t):
                errors.add(f"event_types.{i}", "invalid_event_type",
                           f"{t!r} is not an event type, a namespace.* or *")
            elif t.startswith("order.") and t not in ORDER_EVENT_TYPES:
                errors.add(f"event_types.{i}", "unknown_event_type",
                           f"no order event {t!r}; known: {', '.join(sorted(ORDER_EVENT_TYPES))}")
