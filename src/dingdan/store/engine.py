"""Engines for SQLite (embedded default) and PostgreSQL, made from settings on request.

SQLite: WAL, foreign keys on, a busy timeout, and write transactions opened with
``BEGIN IMMEDIATE`` so two writers queue at BEGIN instead of failing at their first write.
Read-only units of work open a deferred transaction, which WAL lets run beside a writer.

A database error's text never carries the statement's parameters (``hide_parameters``):
they are customers' names, phones and addresses, and the text ends up in the log.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

READ_ONLY = "dingdan_read_only"

# SQLite has one writer at a time. Writers of this process queue here, first come first
# served, instead of sleeping in SQLite's busy handler (which polls with growing sleeps and
# makes a burst's tail wait seconds). The busy timeout still covers writers of other processes.
_WRITERS: weakref.WeakKeyDictionary[Any, WriterQueue] = weakref.WeakKeyDictionary()


class WriterQueue:
    """A FIFO lock (asyncio.Lock wakes waiters in arrival order) with a time limit: a writer
    that waits longer gets SQLite's own "database is locked" error, as the busy handler's."""

    def __init__(self, timeout_seconds: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout = timeout_seconds

    async def acquire(self) -> None:
        try:
            await asyncio.wait_for(self._lock.acquire(), self._timeout)
        except TimeoutError:
            import sqlite3

            from sqlalchemy.exc import OperationalError

            raise OperationalError("BEGIN IMMEDIATE", None,
                                   sqlite3.OperationalError("database is locked")) from None

    def release(self) -> None:
        self._lock.release()


def writer_queue(engine: AsyncEngine) -> WriterQueue | None:
    """The in-process FIFO queue of SQLite writers on ``engine``; None on PostgreSQL."""
    sync = getattr(engine, "sync_engine", None)  # the demo loader's batch stand-in has none
    return None if sync is None else _WRITERS.get(sync)


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20,
                busy_timeout_ms: int = 10_000, echo: bool = False,
                writer_queue: bool = True) -> AsyncEngine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, busy_timeout_ms, echo, writer_queue)
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                               pool_pre_ping=False, echo=echo, pool_recycle=3600,
                               hide_parameters=not echo)


def _sqlite_engine(url: str, busy_timeout_ms: int, echo: bool, queue: bool) -> AsyncEngine:
    engine = create_async_engine(url, echo=echo, hide_parameters=not echo,
                                 connect_args={"timeout": busy_timeout_ms / 1000})
    if queue:  # queued writers give up after the busy timeout, but never sooner than 30 s
        _WRITERS[engine.sync_engine] = WriterQueue(max(busy_timeout_ms / 1000, 30.0))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
