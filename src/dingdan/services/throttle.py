"""Attempts per key within moving time windows, counted in this process's memory.

Built on the ``limits`` library (moving window, memory storage): one :class:`Throttle` holds
named rules (``{"ip": "30/minute;300/hour", "order": "10/hour"}``) and :meth:`Throttle.hit`
counts one attempt against every rule it is given a key for — all of them, or none when one
is already spent, which raises :class:`~dingdan.domain.errors.RateLimited` with the seconds
until the attempt would pass (``params["retry_after"]``, the ``Retry-After`` of the 429).

Memory storage: each process counts for itself, so N server processes allow N times the
rule. That is enough to make guessing slow; it is not a quota.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from dingdan.domain.errors import RateLimited


class Throttle:
    def __init__(self, rules: Mapping[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rules: dict[str, list[RateLimitItem]] = {
            name: parse_many(spec) for name, spec in rules.items()}

    def hit(self, **keys: str | None) -> None:
        """Count one attempt for each named key (None: not counted); RateLimited if any rule
        is spent, and then nothing is counted."""
        checks = [(item, name, key) for name, key in keys.items() if key
                  for item in self._rules.get(name, ())]
        waits = [self._wait(item, name, key) for item, name, key in checks
                 if not self._limiter.test(item, name, key)]
        if waits:
            raise RateLimited({"retry_after": max(waits)})
        for item, name, key in checks:
            self._limiter.hit(item, name, key)

    def _wait(self, item: RateLimitItem, name: str, key: str) -> int:
        reset = self._limiter.get_window_stats(item, name, key).reset_time
        return max(1, math.ceil(reset - time.time()))
