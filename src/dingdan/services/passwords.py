"""Password hashing with Argon2id (pwdlib), rehashed on sign-in when the parameters change.

Hashing is deliberately slow (tens of milliseconds), so it runs in a worker thread and never
inside a database transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# RFC 9106's second recommended option (64 MiB, 3 passes), argon2-cffi's defaults.
DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_KIB = 65_536
DEFAULT_PARALLELISM = 4


@dataclass(frozen=True)
class Passwords:
    """The Argon2id parameters new hashes get; older hashes still verify, then get rehashed."""

    time_cost: int = DEFAULT_TIME_COST
    memory_kib: int = DEFAULT_MEMORY_KIB
    parallelism: int = DEFAULT_PARALLELISM

    @cached_property
    def _hash(self) -> PasswordHash:
        return PasswordHash((Argon2Hasher(time_cost=self.time_cost, memory_cost=self.memory_kib,
                                          parallelism=self.parallelism),))

    @cached_property
    def _dummy(self) -> str:
        return self._hash.hash("not a password anyone has")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one should be replaced)."""
        return await asyncio.to_thread(self._hash.verify_and_update, password, hashed)

    async def waste_time(self, password: str) -> None:
        """Take as long as a real check, so an unknown login is not told apart by timing."""
        await asyncio.to_thread(self._hash.verify, password, self._dummy)


DEFAULT = Passwords()
