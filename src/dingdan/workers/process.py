"""Running a worker: as its own process (``dingdan worker``) or inside the server
(``dingdan serve`` on SQLite, where one process owns the database)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager

import structlog

from dingdan.adapters.notify.port import Sender
from dingdan.adapters.notify.registry import close_senders
from dingdan.settings import Settings
from dingdan.store.engine import make_engine
from dingdan.store.uow import UnitOfWorkFactory
from dingdan.workers.channels import build_channels
from dingdan.workers.config import worker_config
from dingdan.workers.runner import Worker

log = structlog.get_logger("dingdan.worker")
STOP_GRACE_SECONDS = 15.0


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, uows: UnitOfWorkFactory,
                         senders: Mapping[str, Sender] | None = None, *,
                         jobs: bool = True) -> AsyncIterator[Worker]:
    """A worker running in the background of the caller's event loop until the block ends;
    it finishes the messages in flight before it stops."""
    own = senders is None
    chosen = dict(senders) if senders is not None else build_channels(settings, uows)
    config = dataclasses.replace(worker_config(settings, chosen), jobs=jobs)
    worker = Worker(uows, chosen, config)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name=f"worker {worker.owner}")
    try:
        yield worker
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, STOP_GRACE_SECONDS)
        except TimeoutError:
            log.warning("worker did not stop in time; its leases will expire")
        if own:
            await close_senders(chosen)


async def run_worker(settings: Settings, *, once: bool = False, jobs: bool = True) -> None:
    """``dingdan worker``: run until SIGTERM or SIGINT (or one step with ``once``)."""
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         max_overflow=settings.db_max_overflow,
                         busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    uows = UnitOfWorkFactory(engine)
    senders = build_channels(settings, uows)
    try:
        if once:
            config = dataclasses.replace(worker_config(settings, senders), jobs=jobs)
            report = await Worker(uows, senders, config).run_once()
            log.info("worker step done", fanned_out=report.fanned_out,
                     delivered=report.delivered, outcomes=report.outcomes, jobs=report.jobs)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with running_worker(settings, uows, senders, jobs=jobs):
            await stop.wait()
    finally:
        await close_senders(senders)
        await engine.dispose()


def in_process_worker(settings: Settings,
                      ) -> Callable[[UnitOfWorkFactory], AbstractAsyncContextManager[Worker]]:
    """The hook ``create_app(…, background=[…])`` runs in its lifespan when settings ask for
    an in-process worker: the server's own unit-of-work factory, so the same clock."""

    def start(uows: UnitOfWorkFactory) -> AbstractAsyncContextManager[Worker]:
        return running_worker(settings, uows)

    return start
