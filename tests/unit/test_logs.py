"""Logging: one format per environment, tracebacks without local variables, secrets and
personal data masked by key, long values cut, the request id on every line."""

from __future__ import annotations

import io
import json
import logging

import structlog

from dingdan.logs import MASK, Redactor, configure_logging, ensure_logging, is_configured
from dingdan.settings import Settings

LOCAL_VALUE = "LOCAL-VALUE-91XK"


def _settings(**kw: object) -> Settings:
    return Settings(env="test", **kw)  # type: ignore[arg-type]


def _fail_with_a_local() -> None:
    password = LOCAL_VALUE  # a local a rich traceback would print
    raise ValueError(f"bad value of length {len(password)}")


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def redact(**event: object) -> dict[str, object]:
    return dict(Redactor(max_chars=50, max_exception_chars=200)(None, "info", event))


def test_secret_keys_are_masked_whatever_their_spelling() -> None:
    out = redact(authorization="Bearer dd_x", Cookie="dingdan_session=abc",
                 **{"set-cookie": "a=b", "x-csrftoken": "t", "smtp_password": "p",
                    "api_token": "dd_y", "secret_key": "s", "passwd": "q"})
    assert set(out.values()) == {MASK}


def test_personal_data_is_masked_also_inside_nested_values() -> None:
    out = redact(phone="+8613800138000", customer_email="a@example.com", login="a@b.c",
                 order={"customer": {"name": "张三"}, "lines": [{"sku": "A", "qty": 2}],
                        "shipping_address": {"street": "幸福路"}, "total": 1200},
                 pairs=[(b"authorization", b"Bearer dd_z"), ("accept", "text/html")])
    assert out["phone"] == out["customer_email"] == out["login"] == MASK
    assert out["order"] == {"customer": MASK, "lines": [{"sku": "A", "qty": 2}],
                            "shipping_address": MASK, "total": 1200}
    assert out["pairs"] == [["authorization", MASK], ["accept", "text/html"]]


def test_references_counts_and_the_log_s_own_keys_are_kept() -> None:
    kept = {"event": "worker started", "token_id": 5, "customer_id": 7, "delivery": 12,
            "channel": "email", "path": "/api/v1/orders", "method": "GET", "request_id": "r1",
            "hostname": "db1", "filename": "x.csv", "roles": ["admin"]}
    assert redact(**kept) == kept


def test_long_values_are_cut_and_tracebacks_get_more_room() -> None:
    out = redact(note="n" * 500, exception="T" * 1000)
    assert out["note"] == "n" * 50 + "…[450 more characters]"
    assert str(out["exception"]).startswith("T" * 200 + "…[800 more")


def test_production_writes_json_lines_with_level_logger_time_and_request_id(
        fresh_logging) -> None:
    stream = io.StringIO()
    configure_logging(_settings(log_format="json"), stream)
    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        structlog.get_logger("dingdan.test").info("order placed", order="DD1", phone="+861")
        logging.getLogger("uvicorn.error").warning("from the standard library")
    structlog.get_logger("dingdan.test").info("outside a request")
    first, foreign, outside = _lines(stream)
    assert first["event"] == "order placed" and first["level"] == "info"
    assert first["logger"] == "dingdan.test" and first["request_id"] == "req-42"
    assert first["phone"] == MASK and first["order"] == "DD1"
    assert str(first["timestamp"]).endswith("Z")
    assert foreign["event"] == "from the standard library"
    assert foreign["level"] == "warning" and foreign["request_id"] == "req-42"
    assert "request_id" not in outside


def test_a_traceback_is_logged_without_the_frames_local_variables(fresh_logging) -> None:
    for fmt in ("json", "console"):
        stream = io.StringIO()
        configure_logging(_settings(log_format=fmt), stream)
        try:
            _fail_with_a_local()
        except ValueError:
            structlog.get_logger("dingdan.test").exception("it failed")
        try:
            _fail_with_a_local()
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        text = stream.getvalue()
        assert text.count("ValueError: bad value of length 16") == 2, text
        assert LOCAL_VALUE not in text, fmt


def test_the_format_follows_the_environment_unless_told(fresh_logging) -> None:
    stream = io.StringIO()
    configure_logging(Settings(env="production", secret_key="k" * 40), stream)
    structlog.get_logger("t").info("hello", n=1)
    assert json.loads(stream.getvalue())["n"] == 1
    stream = io.StringIO()
    configure_logging(_settings(), stream)
    structlog.get_logger("t").info("hello", n=1)
    assert "hello" in stream.getvalue() and not stream.getvalue().startswith("{")


def test_ensure_logging_configures_once(fresh_logging) -> None:
    assert not is_configured()
    stream = io.StringIO()
    configure_logging(_settings(log_format="json"), stream)
    ensure_logging(_settings(log_format="console"))  # already done: left as it is
    structlog.get_logger("t").warning("still json")
    assert _lines(stream)[0]["event"] == "still json"
    assert sum(1 for h in logging.getLogger().handlers if type(h).__module__ == "dingdan.logs") == 1
