"""The unit of work: one transaction, the repositories over it, and the clock.

It rolls back unless told to commit, so a use case that raises leaves nothing behind.

    async with uow_factory() as uow:
        ...
        await uow.commit()
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dingdan.domain.errors import StoreUnavailable
from dingdan.store.aftersales import CaseEventRepo, CaseRepo, ComplaintRepo, RefundRepo
from dingdan.store.analytics import AnalyticsRepo
from dingdan.store.audit import AuditRepo
from dingdan.store.carriers import CarrierRepo
from dingdan.store.catalogue import CatalogueRepo
from dingdan.store.customers import CustomerRepo
from dingdan.store.engine import READ_ONLY, WriterQueue, writer_queue
from dingdan.store.events import EventRepo
from dingdan.store.intake import ChannelRepo, ImportRepo
from dingdan.store.ops import OpsRepo
from dingdan.store.orders import OrderRepo
from dingdan.store.privacy import PrivacyRepo
from dingdan.store.ratings import RatingRepo
from dingdan.store.review import ReviewRepo
from dingdan.store.sessions import SessionRepo
from dingdan.store.stock import StockRepo
from dingdan.store.tokens import TokenRepo
from dingdan.store.tracking import TrackingRepo
from dingdan.store.users import UserRepo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


RETRY_AFTER_SECONDS = 5  # what a caller is told to wait while the database is away


def _lost_connection(exc: BaseException | None) -> bool:
    """The connection to the database broke (PostgreSQL restarted, network cut)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class UnitOfWork:
    orders: OrderRepo
    stock: StockRepo
    catalogue: CatalogueRepo
    events: EventRepo
    tokens: TokenRepo
    users: UserRepo
    sessions: SessionRepo
    audit: AuditRepo
    ops: OpsRepo
    privacy: PrivacyRepo
    customers: CustomerRepo
    review: ReviewRepo
    channels: ChannelRepo
    imports: ImportRepo
    tracking: TrackingRepo
    carriers: CarrierRepo
    cases: CaseRepo  # after-sales (issue 13)
    refunds: RefundRepo
    complaints: ComplaintRepo
    case_events: CaseEventRepo
    analytics: AnalyticsRepo

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now,
                 read_only: bool = False) -> None:
        self._engine = engine
        self._clock = clock
        self._read_only = read_only
        self._conn: AsyncConnection | None = None
        self._committed = False
        self._queue: WriterQueue | None = None

    def _leave_queue(self) -> None:
        queue, self._queue = self._queue, None
        if queue is not None:
            queue.release()

    def now(self) -> datetime:
        return self._clock()

    @property
    def conn(self) -> AsyncConnection:
        assert self._conn is not None, "use the unit of work inside `async with`"
        return self._conn

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def __aenter__(self) -> UnitOfWork:
        if not self._read_only and (queue := writer_queue(self._engine)) is not None:
            await queue.acquire()  # SQLite: wait our turn (FIFO) before BEGIN IMMEDIATE
            self._queue = queue
        try:
            conn = await self._engine.connect()
            if self._read_only:
                conn = await conn.execution_options(**{READ_ONLY: True})
            await conn.begin()
        except (OperationalError, InterfaceError, OSError) as exc:
            self._leave_queue()
            if self.dialect == "sqlite":  # a local file: "locked" or a bad path is no outage
                raise
            raise StoreUnavailable({"retry_after": RETRY_AFTER_SECONDS}) from exc
        except BaseException:
            self._leave_queue()
            raise
        self._conn = conn
        self.orders = OrderRepo(conn)
        self.stock = StockRepo(conn)
        self.catalogue = CatalogueRepo(conn)
        self.events = EventRepo(conn)
        self.tokens = TokenRepo(conn)
        self.users = UserRepo(conn)
        self.sessions = SessionRepo(conn)
        self.audit = AuditRepo(conn, self._clock)
        self.ops = OpsRepo(conn)
        self.privacy = PrivacyRepo(conn)
        self.customers = CustomerRepo(conn)
        self.review = ReviewRepo(conn)
        self.ratings = RatingRepo(conn)
        self.channels = ChannelRepo(conn)
        self.imports = ImportRepo(conn)
        self.tracking = TrackingRepo(conn)
        self.carriers = CarrierRepo(conn)
        self.cases = CaseRepo(conn)
        self.refunds = RefundRepo(conn)
        self.complaints = ComplaintRepo(conn)
        self.case_events = CaseEventRepo(conn)
        self.analytics = AnalyticsRepo(conn)
        return self

    async def commit(self) -> None:
        await self.conn.commit()
        self._committed = True

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None: never migrated)."""
        from sqlalchemy import text

        try:
            row = (await self.conn.execute(text("SELECT version_num FROM alembic_version"))).first()
        except DBAPIError:
            return None
        return str(row[0]) if row else None

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            self._leave_queue()
            return
        if _lost_connection(exc):
            # The server went away mid-transaction: nothing to roll back on that connection
            # (the server did), and the pool must not hand it out again.
            try:
                await conn.invalidate()
                await conn.close()
            finally:
                self._leave_queue()
            raise StoreUnavailable({"retry_after": RETRY_AFTER_SECONDS}) from exc
        try:
            if self._committed:
                pass
            elif self._read_only and exc_type is None:
                # Ends a transaction that wrote nothing, as a rollback would; but psycopg
                # drops every prepared statement of the connection after a ROLLBACK
                # (DEALLOCATE ALL), so PostgreSQL would parse and plan each statement afresh.
                await conn.commit()
            else:
                await conn.rollback()
        finally:
            try:
                await conn.close()
            finally:
                self._leave_queue()


class UnitOfWorkFactory:
    """Makes units of work over one engine and clock; the app and CLI each hold one."""

    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    def __call__(self, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock, read_only)
