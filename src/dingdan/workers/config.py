"""Everything a worker needs to know, read once from settings (the only place it is read)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from dingdan.adapters.netguard import OutboundGuard
from dingdan.adapters.notify.registry import outbound_guard
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
class Kuaidi100Plan:
    """Where and how the worker subscribes parcels at Kuaidi100 (issue 12)."""

    endpoint: str
    key: str
    customer: str
    salt: str
    callback_url: str
    guard: OutboundGuard  # the endpoint is the operator's; still through the guard


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
    tracking_silence_scan_seconds: int = 900  # parcels silent for 48 h (issue 12)
    kuaidi100: Kuaidi100Plan | None = None  # None: no Kuaidi100 key, no subscriptions sent


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
        fallback_after_attempts=settings.worker_fallback_after_attempts,
        link_key=settings.portal_keys[0])
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
        if settings.backup_interval_hours > 0 else None,
        tracking_silence_scan_seconds=settings.tracking_silence_scan_seconds,
        kuaidi100=_kuaidi100(settings))


def _kuaidi100(settings: Settings) -> Kuaidi100Plan | None:
    if settings.kuaidi100_key is None or settings.kuaidi100_salt is None:
        return None
    return Kuaidi100Plan(
        settings.kuaidi100_endpoint, settings.kuaidi100_key.get_secret_value(),
        settings.kuaidi100_customer or "", settings.kuaidi100_salt.get_secret_value(),
        f"{settings.public_base_url.rstrip('/')}/api/v1/carrier-callbacks/kuaidi100",
        outbound_guard(settings))
