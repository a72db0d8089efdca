"""The worker: fans the outbox out, delivers what is due, runs the timed jobs, and sleeps
until there is more — woken by PostgreSQL ``NOTIFY dingdan_outbox``, or after one poll.

One loop step (:meth:`Worker.run_once`) does all three once; tests drive it step by step
with a controlled clock, ``dingdan worker`` and the in-process worker run :meth:`Worker.run`.
A message is recorded the moment its channel answers, so a worker killed at any point
leaves at most the messages it had in flight to be sent again — by itself on restart or by
another worker once their leases run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from dingdan.adapters.carriers.kuaidi100 import Kuaidi100Client
from dingdan.adapters.netguard import guarded_client
from dingdan.adapters.notify.port import Message, Sender, SendResult
from dingdan.domain.notifications import Channel
from dingdan.services import analytics_model, complaints, jobs, sla, tracking
from dingdan.services.delivery import (
    Claimed,
    build_message,
    claim_due,
    fan_out,
    record_outcome,
    template_overrides,
)
from dingdan.services.notifications import WAKE_CHANNEL
from dingdan.services.push import forget_push_subscriptions
from dingdan.services.templates import Renderer, TemplateSource
from dingdan.services.webhooks import forget_gone_subscription
from dingdan.store import backup
from dingdan.store.listen import listening
from dingdan.store.uow import UnitOfWorkFactory
from dingdan.workers.config import WorkerConfig

log = structlog.get_logger("dingdan.worker")
TEMPLATE_REFRESH_SECONDS = 10.0


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    run: Callable[[datetime], Awaitable[Any]]  # given the tick's start


@dataclass
class StepReport:
    fanned_out: int = 0
    delivered: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.fanned_out or self.delivered)


def default_owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(self, uows: UnitOfWorkFactory, senders: Mapping[str, Sender],
                 config: WorkerConfig, *, rng: random.Random | None = None,
                 owner: str | None = None, renderer: Renderer | None = None) -> None:
        self.uows = uows
        self.senders = dict(senders)
        self.config = config
        self.rng = rng or random.Random()
        self.owner = (owner or default_owner())[:64]
        self.renderer = renderer or Renderer()
        self._wake = asyncio.Event()
        self._overrides: dict[tuple[str, str, str], TemplateSource] = {}
        self._overrides_at = -TEMPLATE_REFRESH_SECONDS
        self._last_tick: dict[str, datetime] = {}
        self._in_flight = asyncio.Semaphore(max(1, config.concurrency))
        self.jobs = self._jobs() if config.jobs else []
        self.stats: Counter[str] = Counter()  # steps, claimed, and outcomes by status
        self.listening = False  # LISTEN is in effect (PostgreSQL)

    # -- one step -----------------------------------------------------------------------

    async def run_once(self) -> StepReport:
        report = StepReport()
        report.fanned_out = await self.fan_out_all()
        report.delivered = await self.deliver_due(report.outcomes)
        report.jobs = await self.run_due_jobs()
        self.stats["steps"] += 1
        return report

    async def fan_out_all(self, limit: int = 200, max_rounds: int = 50) -> int:
        total = 0
        for _ in range(max_rounds):
            n = await fan_out(self.uows(), self.config.policy, limit)
            total += n
            if n < limit:
                break
        return total

    async def deliver_due(self, outcomes: dict[str, int] | None = None) -> int:
        """Claim one batch of due deliveries and send them, a few at a time."""
        claimed = await claim_due(self.uows(), self.owner, self.config.lease_seconds,
                                  self.config.batch_size)
        if not claimed:
            return 0
        self.stats["claimed"] += len(claimed)
        await self._refresh_overrides()
        statuses = await asyncio.gather(*(self._deliver(c) for c in claimed))
        self.stats.update(statuses)
        if outcomes is not None:
            for s in statuses:
                outcomes[s] = outcomes.get(s, 0) + 1
        return len(claimed)

    async def _deliver(self, c: Claimed) -> str:
        async with self._in_flight:
            result = await self._send(c)
            try:
                status = await record_outcome(self.uows(), c, result, self.owner,
                                              self.config.policy, self.rng.random())
            except Exception:
                # The lease runs out and the row is tried again: at least once, never lost.
                log.exception("could not record a delivery outcome", delivery=c.id)
                return "unrecorded"
        if not result.ok:
            log.info("delivery failed", delivery=c.id, channel=c.channel, status=status,
                     attempts=c.attempts, error=result.detail[:200])
            await self._forget_gone(c, result)
        return status

    async def _send(self, c: Claimed) -> SendResult:
        sender = self.senders.get(c.channel)
        if sender is None:
            return SendResult.give_up(f"channel {c.channel} is not configured on this worker")
        override = self._overrides.get((c.kind, c.channel, c.language))
        try:
            if override is None:  # the packaged templates: trusted and quick
                message: Message = build_message(c, self.renderer, self.config.policy, None)
            else:  # a template people wrote: bounded (about 1 s), but kept off the loop
                message = await asyncio.to_thread(build_message, c, self.renderer,
                                                  self.config.policy, override)
        except Exception as exc:
            return SendResult.give_up(f"cannot render the message: {exc}"[:500])
        try:
            # Finish well inside the lease, or another worker would take the row meanwhile.
            return await asyncio.wait_for(sender.send(message),
                                          timeout=self.config.lease_seconds * 0.8)
        except TimeoutError:
            return SendResult.retry("the channel did not answer in time")
        except Exception as exc:  # adapters should not raise; if one does, try again later
            log.exception("sender raised", channel=c.channel, delivery=c.id)
            return SendResult.retry(f"{type(exc).__name__}: {exc}"[:500])

    async def _forget_gone(self, c: Claimed, result: SendResult) -> None:
        try:
            if c.channel == Channel.WEBPUSH and result.response_code in (404, 410):
                await forget_push_subscriptions([c.recipient], self.uows())
            elif c.channel == Channel.WEBHOOK and result.response_code == 410:
                await forget_gone_subscription(c.recipient, self.uows())
        except Exception:
            log.exception("could not forget a gone subscription", delivery=c.id)

    async def _refresh_overrides(self) -> None:
        if time.monotonic() - self._overrides_at < TEMPLATE_REFRESH_SECONDS:
            return
        try:
            self._overrides = await template_overrides(self.uows(read_only=True))
            self._overrides_at = time.monotonic()
        except Exception:
            log.exception("could not load template overrides; using the last ones")

    # -- timed jobs -----------------------------------------------------------------------

    def _jobs(self) -> list[Job]:
        cfg = self.config
        digest = cfg.dead_letter_digest_seconds

        async def sla_scan(tick: datetime) -> object:
            return await sla.scan(self.uows, cfg.calendar)

        async def payment_timeout(tick: datetime) -> object:
            return await jobs.cancel_unpaid_orders(self.uows, cfg.payment_timeout_minutes)

        async def auto_complete(tick: datetime) -> object:
            return await jobs.complete_delivered_orders(self.uows, cfg.auto_complete_days)

        async def dead_letter_digest(tick: datetime) -> object:
            return await jobs.dead_letter_digest(self.uows, tick - timedelta(seconds=digest),
                                                 tick)

        async def complaint_sla(tick: datetime) -> object:
            return await complaints.scan_breaches(self.uows)

        async def analytics_refresh(tick: datetime) -> object:
            return await analytics_model.refresh(self.uows, ZoneInfo(cfg.timezone))

        timed = [Job("sla_scan", cfg.sla_scan_seconds, sla_scan),
                 Job("complaint_sla", cfg.sla_scan_seconds, complaint_sla),
                 Job("payment_timeout", cfg.payment_timeout_scan_seconds, payment_timeout),
                 Job("auto_complete", cfg.auto_complete_scan_seconds, auto_complete),
                 Job("dead_letter_digest", digest, dead_letter_digest),
                 Job("analytics_refresh", cfg.analytics_refresh_seconds, analytics_refresh)]
        timed.extend(self._tracking_jobs())
        if cfg.backup is not None:
            plan = cfg.backup

            async def scheduled_backup(tick: datetime) -> object:
                # One worker wins the tick (claim_tick); the copy runs off the event loop.
                made = await asyncio.to_thread(backup.backup, plan.database_url,
                                               plan.directory, tick)
                pruned = await asyncio.to_thread(backup.prune, plan.directory, plan.keep)
                log.info("backup written", path=str(made.path), bytes=made.size,
                         pruned=len(pruned))
                return made.path

            timed.append(Job("backup", plan.interval_seconds, scheduled_backup))
        return timed

    def _tracking_jobs(self) -> list[Job]:
        """Issue 12: the 48-hour silence scan; Kuaidi100 subscriptions when it is keyed."""
        cfg = self.config

        async def silence(tick: datetime) -> object:
            return await tracking.scan_silent_parcels(self.uows)

        jobs_ = [Job("tracking_silence", cfg.tracking_silence_scan_seconds, silence)]
        plan = cfg.kuaidi100
        if plan is not None:
            async def subscribe(tick: datetime) -> object:
                async with guarded_client(plan.guard) as http:
                    client = Kuaidi100Client(http, key=plan.key, customer=plan.customer,
                                             endpoint=plan.endpoint)
                    return await tracking.subscribe_pending(self.uows, client,
                                                            plan.callback_url, plan.salt)

            jobs_.append(Job("kuaidi100_subscribe", 60, subscribe))
        return jobs_

    async def run_due_jobs(self) -> list[str]:
        """Run each job whose tick has come and that no other worker ran for this tick."""
        now = self.uows.clock()
        ran = []
        for job in self.jobs:
            tick = jobs.tick_of(now, job.interval_seconds)
            if self._last_tick.get(job.name) == tick:
                continue
            try:
                won = await jobs.claim_tick(self.uows, job.name, tick, self.owner)
                self._last_tick[job.name] = tick
                if won:
                    result = await job.run(tick)
                    ran.append(job.name)
                    log.debug("job ran", job=job.name, tick=tick.isoformat(), result=result)
            except Exception:
                log.exception("timed job failed; it runs again next tick", job=job.name)
        return ran

    # -- the loop -------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; between bursts of work, wait for a wake-up or a poll."""
        listener = None
        if self.config.listen_url:
            listener = asyncio.create_task(self._listen(self.config.listen_url, stop))
        log.info("worker started", owner=self.owner, channels=sorted(self.senders),
                 listen=bool(listener))
        failures = 0
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    report = await self.run_once()
                    failures = 0
                except Exception:
                    failures += 1
                    log.exception("worker step failed", failures=failures)
                    report = StepReport()
                    await _wait(stop, min(30.0, self.config.poll_seconds * 2 ** failures))
                    continue
                if report.busy:
                    continue
                await _wait_any(stop, self._wake, self.config.poll_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            log.info("worker stopped", owner=self.owner)

    async def _listen(self, url: str, stop: asyncio.Event) -> None:
        delay = 1.0
        while not stop.is_set():
            try:
                async with listening(url, WAKE_CHANNEL) as payloads:
                    self.listening = True
                    self._wake.set()  # catch up on anything committed before LISTEN
                    async for _payload in payloads:
                        delay = 1.0
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection lost; polling until it is back",
                            error=str(exc)[:200])
            self.listening = False
            await _wait(stop, delay)
            delay = min(delay * 2, 30.0)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
