"""Logging, configured once per process: structlog in front, the standard library behind.

:func:`configure_logging` is called when a process starts (``dingdan serve``, ``worker``,
``demo``; ``create_app`` when nobody did). Every line — Dingdan's own (structlog) and other
libraries' (uvicorn, SQLAlchemy: the standard library) — goes through one formatter:

- JSON lines in production (``DINGDAN_LOG_FORMAT=json``), one readable line in development
  (``console``), to standard error;
- the request id of the request being served (``request_id``, bound by the web layer with
  :mod:`structlog.contextvars`), a UTC timestamp, the level and the logger's name;
- tracebacks as Python prints them: never the frames' local variables. Rich's traceback with
  locals (structlog's development default) took 6–10 s per error inside the event loop and
  wrote request headers, passwords and order bodies to the log (issue 15);
- :class:`Redactor`: values of secret or personal keys masked, long values cut.

Nothing here knows the web: it serves the worker and the command line alike.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from dingdan.settings import Settings

MASK = "[redacted]"

# A key is secret when its name contains one of these (case-insensitive, any separator):
# ``Authorization``, ``Set-Cookie``, ``x-csrftoken``, ``smtp_password``, ``api_key`` …
SECRET_PARTS = ("authorization", "cookie", "password", "passwd", "passphrase", "secret",
                "token", "csrf", "session", "apikey", "api_key", "signature", "credential",
                "private_key")
# A key is personal data when one of its words is one of these: ``phone``, ``customer_name``,
# ``shipping_address`` — but not ``hostname`` or ``filename``.
PERSONAL_WORDS = frozenset({"phone", "mobile", "tel", "email", "name", "address",
                            "street", "recipient", "postcode", "login", "contact", "customer",
                            "body", "form", "headers", "id_card", "idcard"})
# The keys structlog and the web layer write themselves: never masked (``event`` is the
# message; ``logger`` the module, ``exception`` the traceback).
OWN_KEYS = frozenset({"event", "level", "logger", "timestamp", "request_id", "exception",
                      "path", "method", "status"})
# ``token_id``, ``customer_id``, ``phone_count``: a reference or a number, not the thing.
HARMLESS_LAST_WORDS = frozenset({"id", "ids", "count", "prefix", "kind", "type"})
_WORD = re.compile(r"[^a-z0-9]+")


def _is_sensitive(key: str) -> bool:
    k = key.lower()
    if k in OWN_KEYS:
        return False
    words = [w for w in _WORD.split(k) if w]
    if not words or words[-1] in HARMLESS_LAST_WORDS:
        return False
    compact = "".join(words)
    if any(_WORD.sub("", part) in compact for part in SECRET_PARTS):
        return True
    return bool(PERSONAL_WORDS.intersection(words)) or "_".join(words) in PERSONAL_WORDS


class Redactor:
    """A structlog processor: masks the values of secret and personal keys (in nested dicts,
    lists and ``(name, value)`` header pairs too) and cuts long values.

    It goes by key, so a secret inside free text is not found: log ids and counts, not
    bodies. Tracebacks (``exception``) are cut at ``max_exception_chars``.
    """

    def __init__(self, max_chars: int = 1000, max_exception_chars: int = 20_000,
                 max_depth: int = 6) -> None:
        self.max_chars = max_chars
        self.max_exception_chars = max_exception_chars
        self.max_depth = max_depth

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        out: EventDict = {}
        for key, value in event_dict.items():
            if key == "exception" and isinstance(value, str):
                out[key] = _cut(value, self.max_exception_chars)
            elif key.startswith("_"):  # structlog's own (``_record``, ``_from_structlog``)
                out[key] = value
            else:
                out[key] = self.clean(key, value, 0)
        return out

    def clean(self, key: str, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if _is_sensitive(key):
            return MASK
        if depth >= self.max_depth:
            return "[…]"
        if isinstance(value, Mapping):
            return {str(k): self.clean(str(k), v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._item(key, v, depth + 1) for v in list(value)[:50]]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            value = str(value)
        return _cut(value, self.max_chars)

    def _item(self, key: str, value: Any, depth: int) -> Any:
        # ASGI headers and form items are (name, value) pairs: judge the value by its name.
        if isinstance(value, list | tuple) and len(value) == 2 and isinstance(
                value[0], str | bytes):
            name = value[0].decode("latin-1") if isinstance(value[0], bytes) else value[0]
            return [name, self.clean(name, value[1], depth)]
        return self.clean(key, value, depth)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more characters]"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the stream it was given, else to whatever ``sys.stderr`` is at the time
    (test runners swap it); marks the root logger as configured by Dingdan."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self.fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        if self.fixed is None:
            self.stream = sys.stderr
        super().emit(record)


def log_format(settings: Settings) -> Literal["json", "console"]:
    if settings.log_format is not None:
        return settings.log_format
    return "json" if settings.env == "production" else "console"


def is_configured() -> bool:
    return any(isinstance(h, _Handler) for h in logging.getLogger().handlers)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library through one formatter (see the module's
    docstring). Calling it again replaces the previous configuration."""
    fmt = log_format(settings)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=stream is None and sys.stderr.isatty(),
            exception_formatter=structlog.dev.plain_traceback))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Python's own traceback text: no locals, no source highlighting; cheap.
            structlog.processors.format_exc_info,
            Redactor(),
            renderer,
        ])
    handler = _Handler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # httpx logs every outbound request's URL at INFO: query strings of SMS and webhook
    # providers can hold signatures and phone numbers. Alembic's plugin set-up is noise.
    for chatty in ("httpx", "httpcore", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.processors.StackInfoRenderer(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached, so structlog.testing.capture_logs works on module-level loggers.
        cache_logger_on_first_use=False,
    )


def ensure_logging(settings: Settings) -> None:
    """Configure logging unless this process already did (``create_app`` under uvicorn)."""
    if not is_configured():
        configure_logging(settings)
