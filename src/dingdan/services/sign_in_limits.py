"""How fast anyone may guess passwords, without letting a guesser lock the owner out.

Failed sign-ins are counted in moving windows (the ``limits`` library; in memory, or in the
storage ``settings.sign_in_limits_storage`` names, e.g. ``redis://…`` for several processes):

1. **per address**: ``10/minute;100/hour`` failures from one address, whatever the accounts.
   Past that, every sign-in from the address is answered ``429`` with ``Retry-After`` before
   the account is looked up or a password checked — a spray over many accounts stops there;
2. **per account**: ``5/minute;30/hour`` failures on one login, from anywhere. Past that the
   account is *under attack*: it refuses, with the same ``429``, only the addresses that have
   failed on it within those windows. An address with no failure on it — the owner at their
   desk — still has its password checked, so nobody can keep the owner out by guessing.

The login counts as typed (trimmed, lower-case), whether or not such an account exists, so
the answers say nothing about which accounts exist. A success clears its address's failures
on that account; the other counts run out with their windows.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

PER_ADDRESS = "10/minute;100/hour"
PER_ACCOUNT = "5/minute;30/hour"


class SignInLimits:
    def __init__(self, per_address: str = PER_ADDRESS, per_account: str = PER_ACCOUNT,
                 storage: str = "memory://") -> None:
        uri = storage if storage.startswith("async+") else f"async+{storage}"
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self.per_address: list[RateLimitItem] = parse_many(per_address)
        self.per_account: list[RateLimitItem] = parse_many(per_account)

    async def retry_after(self, login: str, address: str | None) -> int | None:
        """Seconds to wait before this address may try this login again; None: go ahead."""
        address = address or "unknown"
        wait = await self._exhausted(self.per_address, "address", address)
        if wait is not None:
            return wait
        account = _key(login)
        wait = await self._exhausted(self.per_account, "account", account)
        if wait is not None and await self._has_failed(account, address):
            return wait
        return None

    async def failed(self, login: str, address: str | None) -> None:
        address, account = address or "unknown", _key(login)
        for item in self.per_address:
            await self.limiter.hit(item, "address", address)
        for item in self.per_account:
            await self.limiter.hit(item, "account", account)
            await self.limiter.hit(item, "pair", account, address)

    async def succeeded(self, login: str, address: str | None) -> None:
        for item in self.per_account:
            await self.limiter.clear(item, "pair", _key(login), address or "unknown")

    async def _exhausted(self, items: list[RateLimitItem], *key: str) -> int | None:
        waits = []
        for item in items:
            if not await self.limiter.test(item, *key):
                stats = await self.limiter.get_window_stats(item, *key)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    async def _has_failed(self, account: str, address: str) -> bool:
        for item in self.per_account:
            stats = await self.limiter.get_window_stats(item, "pair", account, address)
            if stats.remaining < item.amount:
                return True
        return False


def _key(login: str) -> str:
    return login.strip().lower()
