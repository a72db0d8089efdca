"""Run many use cases in one database transaction, on a synchronous connection.

The demo takes some twenty thousand lifecycle steps. Run one by one, each costs a begin, a
commit and a pool checkout, and through aiosqlite every statement takes several round trips
to the driver's thread — together more than half of the load time, and far more on a busy
machine. :class:`Batch` runs the ordinary use cases with the ordinary :class:`UnitOfWork`,
but hands it a connection whose statements run on a synchronous SQLAlchemy connection to the
same database (pysqlite or psycopg), inside one transaction that the caller commits every
few hundred steps. The use cases do not know: each still writes its change, its event, its
outbox row and its audit row together, through the same repositories and SQL.

While a batch runs it blocks the event loop: it is a batch job, not something to do inside
a server.

Two kinds of unit of work: ``uow(savepoint=True)`` runs the use case in a savepoint, so a
refusal (say, no stock for an order) undoes exactly that use case; ``uow()`` saves the
savepoint's statements for steps that are expected to succeed — if one does not commit,
the batch is spoilt and is rolled back as a whole.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, cast

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine, NestedTransaction
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from dingdan.store.uow import Clock, UnitOfWork


def sync_engine_like(engine: AsyncEngine, busy_timeout_ms: int = 10_000) -> Engine:
    """A synchronous engine on the database of ``engine``, set up as ``store.engine`` sets
    up SQLite: foreign keys on, a busy timeout, write transactions ``BEGIN IMMEDIATE``."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return create_engine(url, poolclass=NullPool)  # postgresql+psycopg is sync too
    sync = create_engine(url.set(drivername="sqlite"), poolclass=NullPool)

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" below issues BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(sync, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return sync


class _Savepoint:
    """``async with conn.begin_nested():`` as the repositories write it, over a sync one."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._nested: NestedTransaction | None = None

    async def __aenter__(self) -> _Savepoint:
        self._nested = self._conn.begin_nested()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._nested is not None
        if exc is None:
            self._nested.commit()
        else:
            self._nested.rollback()


class _Lease:
    """What a unit of work sees as its connection: the batch's, spoken to with ``await``.

    Only what the repositories use is here (``execute``, ``scalar``, ``begin_nested``,
    ``dialect``); anything else fails loudly rather than half-work.
    """

    def __init__(self, batch: Batch, savepoint: bool) -> None:
        self._batch = batch
        self._conn = batch.conn
        self._use_savepoint = savepoint
        self._savepoint: NestedTransaction | None = None
        self._committed = False

    @property
    def dialect(self) -> Dialect:
        return self._conn.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.execute(statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.scalar(statement, parameters, **kw)

    def begin_nested(self) -> _Savepoint:
        return _Savepoint(self._conn)

    async def begin(self) -> None:
        if self._use_savepoint:
            self._savepoint = self._conn.begin_nested()

    async def commit(self) -> None:
        if self._savepoint is not None:
            self._savepoint.commit()
        self._committed = True

    async def rollback(self) -> None:
        if self._savepoint is not None:
            if self._savepoint.is_active:
                self._savepoint.rollback()
        elif not self._committed:
            self._batch.spoilt = True

    async def close(self) -> None:
        """The batch owns the connection; a unit of work only gives it back."""


class _BatchEngine:
    """Enough of an engine for :class:`UnitOfWork`: every connection is the batch's."""

    def __init__(self, batch: Batch, savepoint: bool) -> None:
        self._batch = batch
        self._savepoint = savepoint
        self.dialect = batch.engine.dialect

    async def connect(self) -> _Lease:
        return _Lease(self._batch, self._savepoint)


class Batch:
    """One transaction for many units of work; ``commit`` ends it and starts the next.

        async with Batch(engine, clock) as batch:
            await change_status(cmd, batch.uow())
            ...
            await batch.commit()
    """

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.spoilt = False  # a unit of work without a savepoint ended without committing
        self._sync: Engine | None = None
        self._conn: Connection | None = None
        self._engines = {sp: cast(AsyncEngine, _BatchEngine(self, sp)) for sp in (False, True)}

    @property
    def conn(self) -> Connection:
        assert self._conn is not None, "use the batch inside `async with`"
        return self._conn

    def uow(self, savepoint: bool = False) -> UnitOfWork:
        return UnitOfWork(self._engines[savepoint], self.clock)

    async def __aenter__(self) -> Batch:
        self._sync = sync_engine_like(self.engine)
        self._conn = self._sync.connect()
        self._conn.begin()
        return self

    async def commit(self) -> None:
        self._check()
        self.conn.commit()
        self.conn.begin()

    def _check(self) -> None:
        if self.spoilt:
            raise RuntimeError("a use case in this batch did not commit; the batch is undone")

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    if exc is None and not self.spoilt:
                        conn.commit()
                    else:
                        conn.rollback()
                finally:
                    conn.close()
        finally:
            if self._sync is not None:
                self._sync.dispose()
        if exc is None:
            self._check()
