"""Settings, read from the environment (prefix ``DINGDAN_``) or passed in. The only module
that reads the environment; nothing reads it at import time."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Good enough for a laptop, refused anywhere else (see ``_real_secret_outside_development``).
DEV_SECRET_KEY = "dingdan-development-secret-do-not-use-in-production"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "[::1]"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DINGDAN_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite+aiosqlite:///./dingdan.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+psycopg://…",
    )
    db_pool_size: int = 10
    db_max_overflow: int = 20
    sqlite_busy_timeout_ms: int = 10_000
    # SQLite writers of one process wait in an in-process FIFO queue rather than in SQLite's
    # sleeping busy handler; off only to measure the difference (bench/sqlite_queue.py).
    sqlite_writer_queue: bool = True
    echo_sql: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    default_currency: str = "CNY"
    default_region: str = "CN"
    timezone: str = "Asia/Shanghai"  # what "today" means and how pages show times
    token_cache_seconds: float = 5.0
    static_dir: Path | None = None  # where `scripts/setup` put the npm assets

    # Outbound channels (issue 4). A channel is on when its settings are given; see
    # dingdan.adapters.notify.registry.build_senders and docs/channels.md.
    sms_provider: Literal["aliyun", "http"] | None = None  # None: Aliyun if keyed, else HTTP
    sms_timeout_seconds: float = 10.0
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: SecretStr | None = None
    aliyun_sms_sign_name: str | None = None  # 签名, e.g. 丁单商城
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    aliyun_sms_region: str = "cn-hangzhou"
    # event type -> template code (SMS_123456789); "*" is the fallback for other events
    aliyun_sms_templates: dict[str, str] = Field(default_factory=dict)
    sms_http_url: str | None = None  # generic provider: JSON POST with a bearer key
    sms_http_key: SecretStr | None = None
    vapid_key_file: Path = Path("vapid_private.pem")  # made by `dingdan vapid`
    vapid_subject: str = "mailto:ops@example.com"  # who push services contact (mailto: or https:)
    push_ttl_seconds: int = 86_400
    webhook_timeout_seconds: float = 10.0
    nats_url: str | None = None  # e.g. nats://127.0.0.1:4222; events go to JetStream when set
    nats_stream: str = "DINGDAN_EVENTS"
    nats_subject_prefix: str = "dingdan.events"  # + event type: dingdan.events.order.shipped

    # Email, the worker and the timed jobs (issue 4); see docs/notifications.md.
    smtp_host: str | None = None  # email is on when a host is given
    smtp_port: int = 587
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"  # tls: implicit TLS (port 465)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Dingdan 订单 <noreply@localhost>"
    smtp_timeout_seconds: float = 30.0
    smtp_ca_file: Path | None = None  # trust this CA (a private relay); default: system CAs
    smtp_validate_certs: bool = True
    smtp_pool_size: int = 4  # open SMTP connections per worker
    public_base_url: str = "http://127.0.0.1:8000"  # links in messages
    staff_emails: dict[str, list[str]] = Field(default_factory=dict)  # role -> addresses
    tier_rules: dict[str, list[str]] = Field(default_factory=dict)  # tier -> kinds; {} default
    run_worker_in_process: bool | None = None  # None: yes on SQLite (not under test)
    worker_poll_seconds: float = 1.0  # fallback when LISTEN/NOTIFY is not there
    worker_lease_seconds: float = 60.0  # longer than a send can take (smtp timeout)
    worker_batch_size: int = 50
    worker_concurrency: int = 10  # messages in flight per worker
    worker_max_attempts: int = 8
    worker_backoff_base_seconds: float = 30.0
    worker_backoff_max_seconds: float = 6 * 3600.0
    worker_fallback_after_attempts: int = 3  # then the customer's next channel takes over
    payment_timeout_minutes: int = 30  # unpaid orders are cancelled after this
    auto_complete_days: int = 7  # delivered orders complete after this
    sla_scan_seconds: int = 60
    analytics_refresh_seconds: int = 60  # the dashboard's read model catches up this often
    work_day_start: str = "09:00"  # the working-hours calendar of the SLAs
    work_day_end: str = "18:00"
    work_weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0

    # People, sign-in and audit (issue 3); see docs/security.md.
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)  # signs session and CSRF cookies
    https: bool = False  # the site is served over HTTPS: cookies get the Secure flag
    session_max_age_seconds: int = 12 * 3600
    # Addresses of reverse proxies whose X-Forwarded-For is believed ("*": any); else the
    # audit trail records the connecting address.
    trusted_proxies: list[str] = Field(default_factory=list)
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4

    # Backups (docs/operations.md): the worker writes one every `backup_interval_hours`
    # (0: off) into `backup_dir` and keeps the newest `backup_keep`.
    backup_dir: Path = Path("backups")
    backup_interval_hours: float = 0.0
    backup_keep: int = Field(default=14, ge=1)
    # Prometheus metrics at /metrics (docs/operations.md): off until a token is set; the
    # scraper sends it as `Authorization: Bearer …`.
    metrics_token: SecretStr | None = None
    # Logging and the served secret (issue 15); see docs/operations.md, docs/security.md.
    log_format: Literal["json", "console"] | None = None  # None: json in production
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Development without DINGDAN_SECRET_KEY: `dingdan serve` signs with a random key made
    # once into this file (0600), never with the public DEV_SECRET_KEY.
    secret_key_file: Path = Path(".dingdan_secret")
    # Hardening (issue 15); see docs/security.md.
    max_body_bytes: int = 1 << 20  # larger request bodies are refused with 413, unread
    # Failed sign-ins (moving windows, `limits` notation); see services/sign_in_limits.py.
    sign_in_limit_per_address: str = "10/minute;100/hour"
    sign_in_limit_per_account: str = "5/minute;30/hour"
    sign_in_limits_storage: str = "memory://"  # e.g. redis://… to share across processes
    # The customer's page (issue 8); see docs/portal.md. Links in customer messages are
    # signed with the first key and verified with each (rotation: put the new key first);
    # none given: a key derived from secret_key.
    portal_link_keys: list[SecretStr] = Field(default_factory=list)
    portal_limit_per_address: str = "30/minute;300/hour"  # proofs of ownership tried
    portal_limit_per_order: str = "5/minute;20/hour"  # failed proofs on one order number
    # Order imports (issue 10): an uploaded sheet may be larger than other bodies.
    max_upload_bytes: int = 20 << 20
    # Carriers and tracking (issue 12); see docs/carriers.md. A push whose signature does not
    # verify with these is refused (401); with none set, that provider's pushes are refused.
    kuaidi100_endpoint: str = "https://poll.kuaidi100.com"  # a local peer in tests
    kuaidi100_key: SecretStr | None = None  # 授权key
    kuaidi100_customer: str | None = None  # customer (real-time query)
    kuaidi100_salt: SecretStr | None = None  # signs Kuaidi100's pushes to us: MD5(param+salt)
    sf_check_word: SecretStr | None = None  # 顺丰 校验码: signs SF's route pushes (msgDigest)
    tracking_silence_scan_seconds: int = 900  # how often parcels silent for 48 h are looked for
    label_font: str | None = None  # a CJK TrueType font for labels; default: fonts-wqy-zenhei

    @model_validator(mode="after")
    def _real_secret_outside_development(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.env not in ("development", "test") and (key == DEV_SECRET_KEY or len(key) < 32):
            raise ValueError("set DINGDAN_SECRET_KEY to a random value of 32+ characters "
                             "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
                             " outside development and test")
        return self

    @model_validator(mode="after")
    def _loopback_with_development_secret(self) -> Settings:
        if (self.env in ("development", "test") and self.uses_development_secret
                and self.host not in LOOPBACK):
            raise ValueError(f"refusing to listen on {self.host} with the public development "
                             "secret key: set DINGDAN_SECRET_KEY to a random value of 32+ "
                             "characters to serve beyond this machine (or listen on "
                             "127.0.0.1)")
        return self

    @property
    def portal_keys(self) -> list[bytes]:
        """The keys of the customer's links: the first signs, every one verifies."""
        if self.portal_link_keys:
            return [k.get_secret_value().encode() for k in self.portal_link_keys]
        secret = self.secret_key.get_secret_value().encode()
        return [hmac.new(secret, b"dingdan:portal-link", hashlib.sha256).digest()]

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET_KEY

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, v: str) -> str:
        """Accept the plain URLs operators paste, and pick the async driver for them."""
        if v.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + v.removeprefix("sqlite:///")
        for plain in ("postgresql://", "postgres://"):
            if v.startswith(plain):
                return "postgresql+psycopg://" + v.removeprefix(plain)
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def worker_in_process(self) -> bool:
        """Whether ``dingdan serve`` runs the worker itself: on SQLite unless told otherwise
        (one writer, one process); never by default under test."""
        if self.run_worker_in_process is not None:
            return self.run_worker_in_process
        return self.is_sqlite and self.env != "test"

    # Outbound URLs that outsiders choose (issue 15): webhooks and web push never reach a
    # loopback, private, link-local or metadata address unless allowed here; see
    # dingdan.domain.outbound and docs/security.md. JSON list of addresses, networks and
    # host names: ["10.20.0.0/16", "erp.corp.example", "*.corp.example"].
    outbound_allow: list[str] = Field(default_factory=list)
    # Anonymous web-push subscriptions (a customer with an order number and its phone or
    # email), per caller address and per order; `limits` notation, ";" between several.
    push_subscribe_limit_per_ip: str = "30/minute;300/hour"
    push_subscribe_limit_per_order: str = "10/hour"
    # Refunds through Alipay (issue 13, ``alipay.trade.refund``; docs/aftersales.md): on when
    # the app id and both keys are given. PEM text: the merchant's RSA private key, and
    # Alipay's public key that signs its answers.
    alipay_app_id: str | None = None
    alipay_private_key: SecretStr | None = None
    alipay_public_key: str | None = None
    alipay_gateway_url: str = "https://openapi.alipay.com/gateway.do"
    alipay_timeout_seconds: float = 15.0

    @field_validator("outbound_allow")
    @classmethod
    def _outbound_entries(cls, v: list[str]) -> list[str]:
        from dingdan.domain.outbound import OutboundPolicy

        OutboundPolicy.from_entries(v)  # says which entry is wrong, at start-up
        return v

    @field_validator("push_subscribe_limit_per_ip", "push_subscribe_limit_per_order")
    @classmethod
    def _rate_limits(cls, v: str) -> str:
        from limits import parse_many

        parse_many(v)
        return v


def with_local_secret(settings: Settings) -> Settings:
    """The settings a development server runs with: unless DINGDAN_SECRET_KEY is set, a random
    key kept in ``secret_key_file`` (made once, mode 0600) instead of the public
    DEV_SECRET_KEY, so nobody can sign a session cookie for it. Other environments, and a key
    that was set, are returned unchanged."""
    if settings.env != "development" or not settings.uses_development_secret:
        return settings
    return settings.model_copy(update={"secret_key": SecretStr(_local_secret(
        settings.secret_key_file))})


def _local_secret(path: Path) -> str:
    import os
    import secrets

    try:
        key = path.read_text("ascii").strip()
    except FileNotFoundError:
        key = ""
    if len(key) >= 32:
        return key
    # Written whole to a private file first, then linked into place: two processes starting
    # at once (uvicorn workers) both end up with the one key that won.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48) + "\n")
    try:
        if key:  # a damaged or short file: replace it
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text("ascii").strip()
