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
    when another writer slips in between; with it, writers wait their turn. Two engines stand
    for two processes, whose writers the in-process queue does not order."""
    shutil.copy(sqlite_template, tmp_path / "y.db")
    engines = [make_engine(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}") for _ in range(2)]
    factories = [UnitOfWorkFactory(e) for e in engines]
    uows = factories[0]
    try:
        await catalogue.create_warehouse(catalogue.WarehouseFields("SH", "上海仓", "上海"), uows(),
                                         actor=ADMIN)
        await catalogue.create_product(catalogue.ProductFields("CUP", "杯子", 500), uows(),
                                       actor=ADMIN)

        async def receive(i: int) -> None:
            await inventory.move_stock(inventory.MoveStock(
                "CUP", "SH", 1, MovementKind.RECEIPT, "delivery", ADMIN), factories[i % 2]())

        await asyncio.gather(*(receive(i) for i in range(40)))
        levels = await inventory_levels(uows)
        assert levels == 40
    finally:
        for e in engines:
            await e.dispose()


async def test_writers_of_one_process_queue_in_order_without_the_busy_handler(
        sqlite_template: Path, tmp_path: Path) -> None:
    """With no busy timeout at all, 40 concurrent writers of one process still all succeed —
    they wait in the in-process queue, not in SQLite's busy handler — and in arrival order;
    readers do not queue behind them."""
    shutil.copy(sqlite_template, tmp_path / "z.db")
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'z.db'}", busy_timeout_ms=0)
    uows = UnitOfWorkFactory(engine)
    try:
        await catalogue.create_warehouse(catalogue.WarehouseFields("SH", "上海仓", "上海"), uows(),
                                         actor=ADMIN)
        await catalogue.create_product(catalogue.ProductFields("CUP", "杯子", 500), uows(),
                                       actor=ADMIN)
        order: list[int] = []

        async def receive(i: int) -> None:
            async with uows() as uow:
                order.append(i)
                await uow.stock.levels(sku="CUP")  # read, then write, as use cases do
                await asyncio.sleep(0)  # let the others pile up behind this one
            await inventory.move_stock(inventory.MoveStock(
                "CUP", "SH", 1, MovementKind.RECEIPT, "delivery", ADMIN), uows())

        async with uows() as holder:  # a writer holds the lock while the others arrive
            tasks = [asyncio.create_task(receive(i)) for i in range(40)]
            for _ in range(100):
                await asyncio.sleep(0)
            assert order == []  # all queued behind the holder
            async with uows(read_only=True) as reader:  # readers pass the queue
                assert await reader.stock.levels(sku="CUP") is not None
            await holder.stock.levels(sku="CUP")
        await asyncio.gather(*tasks)
        assert order == list(range(40))
        assert await inventory_levels(uows) == 40
    finally:
        await engine.dispose()


async def inventory_levels(uows: UnitOfWorkFactory) -> int:
    async with uows(read_only=True) as uow:
        rows = await uow.stock.levels(sku="CUP")
    return int(rows[0]["on_hand"])
