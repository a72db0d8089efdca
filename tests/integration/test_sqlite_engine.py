"""The embedded SQLite default: WAL, foreign keys, busy timeout, BEGIN IMMEDIATE writers."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import text

from dingdan.domain.events import Actor, ActorKind
from dingdan.domain.inventory import MovementKind
from dingdan.services import catalogue, inventory
from dingdan.store.engine import make_engine
from dingdan.store.uow import UnitOfWorkFactory

ADMIN = Actor(ActorKind.USER, "1", "tester", "test", frozenset({"admin"}))


async def test_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_template: Path,
                                                                   tmp_path: Path) -> None:
    shutil.copy(sqlite_template, tmp_path / "x.db")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=7000)
    try:
        async with engine.connect() as conn:
            pragmas = [(await conn.execute(text(f"PRAGMA {p}"))).scalar()
                       for p in ("journal_mode", "foreign_keys", "busy_timeout")]
        assert pragmas == ["wal", 1, 7000]
    finally:
        await engine.dispose()


async def test_many_concurrent_writers_queue_instead_of_failing(sqlite_template: Path,
                                                                tmp_path: Path) -> None:
    """Without BEGIN IMMEDIATE, a read-then-write transaction fails with 'database is locked'
    when another writer slips in between; with it, writers wait their turn."""
    shutil.copy(sqlite_template, tmp_path / "y.db")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}")
    uows = UnitOfWorkFactory(engine)
    try:
        await catalogue.create_warehouse(catalogue.WarehouseFields("SH", "上海仓", "上海"), uows(),
                                         actor=ADMIN)
        await catalogue.create_product(catalogue.ProductFields("CUP", "杯子", 500), uows(),
                                       actor=ADMIN)

        async def receive() -> None:
            await inventory.move_stock(inventory.MoveStock(
                "CUP", "SH", 1, MovementKind.RECEIPT, "delivery", ADMIN), uows())

        await asyncio.gather(*(receive() for _ in range(40)))
        levels = await inventory_levels(uows)
        assert levels == 40
    finally:
        await engine.dispose()


async def inventory_levels(uows: UnitOfWorkFactory) -> int:
    async with uows(read_only=True) as uow:
        rows = await uow.stock.levels(sku="CUP")
    return int(rows[0]["on_hand"])
