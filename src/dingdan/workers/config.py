"""Everything a worker needs to know, read once from settings (the only place it is read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from dingdan.domain.notifications import parse_tier_rules
from dingdan.domain.sla import WorkingCalendar
from dingdan.services.delivery import DeliveryPolicy
from dingdan.services.sla import base_calendar
from dingdan.settings import Settings


@dataclass(frozen=True)
class BackupSchedule:
    database_url: str
    directory: Path
    interval_seconds: int
    keep: int


@dataclass(frozen=True)
class WorkerConfig:
    policy: DeliveryPolicy
    calendar: WorkingCalendar  # without holidays: those are read from the database
    poll_seconds: float = 1.0
    lease_seconds: float = 60.0
    batch_size: int = 50
    concurrency: int = 10
    payment_timeout_minutes: int = 30
    auto_complete_days: int = 7
    sla_scan_seconds: int = 60
    payment_timeout_scan_seconds: int = 60
    auto_complete_scan_seconds: int = 600
    dead_letter_digest_seconds: int = 900
    analytics_refresh_seconds: int = 60
    timezone: str = "Asia/Shanghai"  # the analytics read model's days
    listen_url: str | None = None  # PostgreSQL: LISTEN here for new outbox rows
    jobs: bool = True  # run the timed jobs too (a delivery-only worker says no)
    backup: BackupSchedule | None = None  # None: the worker makes no backups


def worker_config(settings: Settings, available: Iterable[str]) -> WorkerConfig:
    """The worker's configuration for the channels ``available`` here."""
    tz = ZoneInfo(settings.timezone)
    staff = {role: tuple(addrs) for role, addrs in settings.staff_emails.items()}
    policy = DeliveryPolicy(
        available=frozenset(available), default_language=settings.default_language, tz=tz,
        staff=staff, tier_rules=parse_tier_rules(settings.tier_rules),
        nats_subject_prefix=settings.nats_subject_prefix,
        base_url=settings.public_base_url, max_attempts=settings.worker_max_attempts,
        backoff_base_seconds=settings.worker_backoff_base_seconds,
        backoff_max_seconds=settings.worker_backoff_max_seconds,
        fallback_after_attempts=settings.worker_fallback_after_attempts)
    calendar = base_calendar(settings.timezone, settings.work_day_start,
                             settings.work_day_end, settings.work_weekdays)
    return WorkerConfig(
        policy=policy, calendar=calendar, poll_seconds=settings.worker_poll_seconds,
        lease_seconds=settings.worker_lease_seconds, batch_size=settings.worker_batch_size,
        concurrency=settings.worker_concurrency,
        payment_timeout_minutes=settings.payment_timeout_minutes,
        auto_complete_days=settings.auto_complete_days,
        sla_scan_seconds=settings.sla_scan_seconds,
        analytics_refresh_seconds=settings.analytics_refresh_seconds,
        timezone=settings.timezone,
        listen_url=None if settings.is_sqlite else settings.database_url,
        backup=BackupSchedule(settings.database_url, settings.backup_dir,
                              max(60, int(settings.backup_interval_hours * 3600)),
                              settings.backup_keep)
        if settings.backup_interval_hours > 0 else None)
