"""How fast anyone may try to open customers' pages without the link.

Every proof of ownership (a signed link, or an order number with the last four digits of its
phone) is counted per address; failed proofs are counted per order number too, whether or not
that order exists, so the limits say nothing about which numbers are real. Past either limit
the answer is ``429`` with ``Retry-After``, before anything is looked up. Moving windows of
the ``limits`` library, in memory or in the storage the settings name (``redis://…`` for
several processes).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

PER_ADDRESS = "30/minute;300/hour"  # proofs tried from one address
PER_ORDER = "5/minute;20/hour"  # failed proofs on one order number, from anywhere


class PortalLimits:
    def __init__(self, per_address: str = PER_ADDRESS, per_order: str = PER_ORDER,
                 storage: str = "memory://") -> None:
        uri = storage if storage.startswith("async+") else f"async+{storage}"
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self.per_address: list[RateLimitItem] = parse_many(per_address)
        self.per_order: list[RateLimitItem] = parse_many(per_order)

    async def attempt(self, address: str | None, number: str) -> int | None:
        """Count one proof from ``address`` for ``number``; seconds to wait if over a limit
        (the attempt is then not to be made), else None."""
        address = address or "unknown"
        wait = await self._exhausted(self.per_order, "portal-order", number.upper())
        for item in self.per_address:
            if not await self.limiter.hit(item, "portal-address", address):
                wait = max(wait or 0, await self._reset(item, "portal-address", address))
        return wait

    async def failed(self, number: str) -> None:
        for item in self.per_order:
            await self.limiter.hit(item, "portal-order", number.upper())

    async def _exhausted(self, items: list[RateLimitItem], *key: str) -> int | None:
        waits = [await self._reset(item, *key) for item in items
                 if not await self.limiter.test(item, *key)]
        return max(waits) if waits else None

    async def _reset(self, item: RateLimitItem, *key: str) -> int:
        stats = await self.limiter.get_window_stats(item, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))
