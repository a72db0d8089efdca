"""People: who may sign in and the password policy. Pure: hashing is the caller's business.

How fast anyone may guess is ``services/sign_in_limits.py``: limits per address and per
account that slow a guesser down without letting them lock the owner out.
"""

from __future__ import annotations

from dingdan.domain.errors import ErrorCollector
from dingdan.domain.permissions import Role

LANGUAGES = ("zh-CN", "en")
PASSWORD_MIN = 8  # NIST SP 800-63B: at least 8, allow long passphrases
PASSWORD_MAX = 256


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
