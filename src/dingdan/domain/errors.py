"""The one error tree of Dingdan's rules.

    DomainError                      every refusal a user can cause (a 4xx, never a 500)
    ├── ValidationFailed             input breaks a rule; ``details`` names the fields
    │   ├── AmountsInconsistent      subtotal/total do not add up
    │   ├── UrlNotAllowed            an outbound URL that reaches an internal address
    │   ├── TemplateInvalid          a template that does not compile, is unsafe, or is
    │   │                            past a bound of the sandbox (size, steps, time)
    │   ├── ImportFileInvalid        an uploaded file that cannot be read as a sheet
    │   └── EdiRejected              an EDI interchange that does not parse (with its CONTRL/997)
    ├── IllegalTransition            an action not allowed from the order's status
    ├── InsufficientStock            no warehouse can serve the order; names the short lines
    ├── NotFound                     no such order, product, warehouse…
    ├── Conflict
    │   ├── VersionConflict          someone changed the object since the caller read it
    │   ├── IdempotencyConflict      same key, different body
    │   ├── AlreadyExists            unique natural key already taken (SKU, warehouse code)
    │   └── ChannelOrderLocked       a channel changed an order whose stage no longer allows it
    ├── Unauthenticated              no or bad credentials
    │   ├── BadCredentials           wrong login or password (or no such account)
    │   └── SignatureInvalid         a channel's message whose signature does not verify
    ├── Forbidden                    authenticated, but not allowed
    └── RateLimited                  too many attempts; ``params["retry_after"]`` seconds
        └── TooManyAttempts          too many failed sign-ins from here; try again later

Each class carries a stable machine-readable ``code``; ``web/errors.py`` maps them once to
HTTP statuses and to messages in the user's language (the ``params`` fill the message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One field-level problem: a dotted location, a stable code and an English hint."""

    loc: str
    code: str
    message: str


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, params: dict[str, Any] | None = None,
                 details: list[FieldError] | None = None) -> None:
        self.params: dict[str, Any] = params or {}
        self.details: list[FieldError] = details or []
        super().__init__(self.code, self.params, [d.loc for d in self.details])


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"


class AmountsInconsistent(ValidationFailed):
    code = "AMOUNTS_INCONSISTENT"


class UrlNotAllowed(ValidationFailed):
    """See ``dingdan.domain.outbound``: ``params["reason"]`` is a ``Refusal`` value."""

    code = "URL_NOT_ALLOWED"


class TemplateInvalid(ValidationFailed):
    code = "TEMPLATE_INVALID"


class ImportFileInvalid(ValidationFailed):
    """``params["reason"]``: what is wrong with the file as a whole (encoding, size…)."""

    code = "IMPORT_FILE_INVALID"


class EdiRejected(ValidationFailed):
    """``params``: ``reason`` and ``acknowledgement`` (the CONTRL or 997 to send back)."""

    code = "EDI_REJECTED"


class IllegalTransition(DomainError):
    code = "ILLEGAL_TRANSITION"


class InsufficientStock(DomainError):
    code = "INSUFFICIENT_STOCK"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class HasOpenOrders(Conflict):
    """A customer's data cannot be erased while an order still needs it (to be delivered):
    ``params["orders"]`` names them."""

    code = "CUSTOMER_HAS_OPEN_ORDERS"


class VersionConflict(Conflict):
    code = "VERSION_CONFLICT"


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_CONFLICT"


class AlreadyExists(Conflict):
    code = "ALREADY_EXISTS"


class ChannelOrderLocked(Conflict):
    """``params["reason"]``: why the order's stage refuses the channel's change."""

    code = "CHANNEL_ORDER_LOCKED"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class BadCredentials(Unauthenticated):
    code = "BAD_CREDENTIALS"


class SignatureInvalid(Unauthenticated):
    code = "SIGNATURE_INVALID"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class RateLimited(DomainError):
    """Too many attempts: ``params["retry_after"]`` seconds until the caller may try again."""

    code = "RATE_LIMITED"


class StoreUnavailable(DomainError):
    """The database cannot be reached (down, restarting, failed over): nothing was decided.
    ``params["retry_after"]``: seconds after which trying again makes sense. A write that
    was cut off may or may not have committed; an Idempotency-Key makes the retry safe."""

    code = "DATABASE_UNAVAILABLE"


class TooManyAttempts(RateLimited):
    """Back-office sign-in: too many failures from this address."""

    code = "TOO_MANY_ATTEMPTS"


@dataclass
class ErrorCollector:
    """Gathers field errors so a request is refused once, naming every bad field."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, loc: str, code: str, message: str) -> None:
        self.errors.append(FieldError(loc, code, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(details=list(self.errors))
