"""Settings, read from the environment (prefix ``DINGDAN_``) or passed in. The only module
that reads the environment; nothing reads it at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    echo_sql: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    default_currency: str = "CNY"
    default_region: str = "CN"
    token_cache_seconds: float = 5.0
    static_dir: Path | None = None  # where `scripts/setup` put the npm assets

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
