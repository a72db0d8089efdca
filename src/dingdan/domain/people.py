"""People: who may sign in, the password policy and the sign-in lockout. Pure: the clock is
passed in, hashing is the caller's business.

Lockout with back-off: after ``threshold`` failed sign-ins in a row an account is locked for
``base``; every further failure after the lock runs out doubles it (1, 2, 4, 8… minutes),
up to ``cap``. A success resets the count. While locked, sign-in is refused without even
checking the password, so guessing cannot go on at full speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dingdan.domain.errors import ErrorCollector
from dingdan.domain.permissions import Role

LANGUAGES = ("zh-CN", "en")
PASSWORD_MIN = 8  # NIST SP 800-63B: at least 8, allow long passphrases
PASSWORD_MAX = 256


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    threshold: int = 5
    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=24)

    def lock_for(self, failed_attempts: int) -> timedelta | None:
        """How long to lock after ``failed_attempts`` failures in a row (None: not locked)."""
        if failed_attempts < self.threshold:
            return None
        doublings = min(failed_attempts - self.threshold, 30)  # 2**30 minutes is past any cap
        return min(self.base * (1 << doublings), self.cap)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def check_password(password: str, errors: ErrorCollector, loc: str = "password") -> None:
    if len(password) < PASSWORD_MIN:
        errors.add(loc, "too_short", f"a password has at least {PASSWORD_MIN} characters")
    elif len(password) > PASSWORD_MAX:
        errors.add(loc, "too_long", f"a password has at most {PASSWORD_MAX} characters")
    elif len(set(password)) < 3:
        errors.add(loc, "too_weak", "a password needs more than one or two different characters")


def check_roles(roles: frozenset[str], errors: ErrorCollector, loc: str = "roles") -> None:
    unknown = sorted(r for r in roles if r not in Role.__members__.values())
    if unknown:
        errors.add(loc, "unknown_role", f"unknown role {', '.join(unknown)}")


def check_person(name: str, email: str | None, phone: str | None, language: str | None,
                 errors: ErrorCollector) -> None:
    if not name.strip():
        errors.add("name", "required", "name is required")
    if not (email or phone):
        errors.add("email", "required", "an email or a phone number is required")
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        errors.add("email", "invalid_email", "not a valid email address")
    if language is not None and language not in LANGUAGES:
        errors.add("language", "unknown_language", f"language is one of {', '.join(LANGUAGES)}")
