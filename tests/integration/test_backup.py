"""Backups that restore: taken while orders keep arriving, restored into a fresh database,
compared table by table with the moment the backup captured.

On PostgreSQL the moment is exact: the test holds a repeatable-read snapshot, reads every
table in it, and has pg_dump dump that same snapshot (``--snapshot``) while writers go on.
On SQLite the online backup copies one moment too; the test checks that the restored copy
equals the backup file table by table and that the moment is consistent (every order has its
lines and its event, reserved stock equals the open orders' lines).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from dingdan.store import backup
from helpers import order_body, seed_catalogue

Rows = dict[str, list[tuple[Any, ...]]]


def _sqlite_tables(path: Path) -> Rows:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr)
                for n in names}
    finally:
        conn.close()


def _pg_plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tables(cur: Any) -> Rows:
    cur.execute("SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
    names = [r[0] for r in cur.fetchall()]
    out: Rows = {}
    for n in names:
        cur.execute(f'SELECT * FROM "{n}"')
        out[n] = sorted(cur.fetchall(), key=repr)
    return out


def _consistent(rows: Rows, columns: dict[str, list[str]]) -> None:
    """Every order has lines and a placed event; reserved stock equals open orders' lines."""
    def col(table: str, name: str) -> int:
        return columns[table].index(name)

    orders = rows["orders"]
    assert orders, "the backup should hold the orders placed before it"
    order_ids = {o[col("orders", "id")] for o in orders}
    with_lines = {line[col("order_lines", "order_id")] for line in rows["order_lines"]}
    with_events = {e[col("order_events", "order_id")] for e in rows["order_events"]}
    assert order_ids <= with_lines and order_ids <= with_events
    status = {o[col("orders", "id")]: o[col("orders", "status")] for o in orders}
    open_lines: Counter[str] = Counter()
    for line in rows["order_lines"]:
        if status[line[col("order_lines", "order_id")]] not in ("cancelled", "shipped"):
            open_lines[line[col("order_lines", "sku")]] += line[col("order_lines", "quantity")]
    reserved: Counter[str] = Counter()
    for s in rows["stock"]:
        reserved[s[col("stock", "sku")]] += s[col("stock", "reserved")]
    assert +reserved == +open_lines


def _sqlite_columns(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        return {t: [r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')]
                for t in ("orders", "order_lines", "order_events", "stock")}
    finally:
        conn.close()


async def _writers(client: httpx.AsyncClient, sku: str, stop: asyncio.Event) -> int:
    placed = 0

    async def one() -> None:
        nonlocal placed
        while not stop.is_set() and placed < 400:
            r = await client.post("/api/v1/orders", json=order_body([(sku, 1)]))
            assert r.status_code == 201, r.text
            placed += 1

    await asyncio.gather(*(one() for _ in range(4)))
    return placed


async def _start_writing(client: httpx.AsyncClient) -> tuple[asyncio.Event, asyncio.Task[int]]:
    cat = await seed_catalogue(client, {"A": 100_000})
    stop = asyncio.Event()
    task = asyncio.create_task(_writers(client, cat["skus"]["A"], stop))
    for _ in range(500):  # some orders exist before the backup starts (bounded poll)
        r = await client.get("/api/v1/orders", params={"limit": 5})
        if len(r.json()["items"]) >= 5:
            break
        await asyncio.sleep(0.02)
    return stop, task


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_backup_under_writes_restores_table_by_table(app_client, db_url, tmp_path):
    stop, task = await _start_writing(app_client)
    made = await asyncio.to_thread(backup.backup, db_url, tmp_path / "b",
                                   datetime(2026, 12, 1))
    stop.set()
    placed = await task
    captured = _sqlite_tables(made.path)
    _consistent(captured, _sqlite_columns(made.path))
    assert len(captured["orders"]) < placed + 5  # writes went on around the backup

    target = tmp_path / "restored.db"
    backup.restore(f"sqlite+aiosqlite:///{target}", made.path)
    assert _sqlite_tables(target) == captured

    with pytest.raises(backup.BackupError, match="--force"):
        backup.restore(f"sqlite+aiosqlite:///{target}", made.path)
    backup.restore(f"sqlite+aiosqlite:///{target}", made.path, force=True)
    assert _sqlite_tables(target) == captured


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_postgres_backup_under_writes_restores_every_table(app_client, pg_url, tmp_path):
    import psycopg

    stop, task = await _start_writing(app_client)
    with psycopg.connect(_pg_plain(pg_url)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        with conn.cursor() as cur:
            captured = _pg_tables(cur)
        made = await asyncio.to_thread(backup.backup, pg_url, tmp_path, datetime(2026, 12, 1),
                                       pg_snapshot=row[0])
        conn.rollback()
    stop.set()
    await task
    assert len(captured["orders"]) >= 5

    admin = _pg_plain(pg_url)
    fresh = f"dingdan_restore_{tmp_path.name[-8:].lower().replace('-', '_')}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        conn.execute(f'CREATE DATABASE "{fresh}"')
    fresh_url = make_url(pg_url).set(database=fresh).render_as_string(hide_password=False)
    try:
        backup.restore(fresh_url, made.path)
        with psycopg.connect(_pg_plain(fresh_url)) as conn, conn.cursor() as cur:
            assert _pg_tables(cur) == captured
        with pytest.raises(backup.BackupError, match="--force"):
            backup.restore(fresh_url, made.path)
        backup.restore(fresh_url, made.path, force=True)
        with psycopg.connect(_pg_plain(fresh_url)) as conn, conn.cursor() as cur:
            assert _pg_tables(cur) == captured
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def test_retention_keeps_the_newest(tmp_path):
    names = [backup.backup_name(datetime(2026, 11, d), ".sqlite")
             for d in (3, 1, 2, 5, 4)]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a backup")
    removed = backup.prune(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == sorted(names[i] for i in (1, 2, 0))
    assert sorted(p.name for p in backup.backups(tmp_path)) == sorted([names[3], names[4]])
    assert (tmp_path / "notes.txt").exists()


def test_restore_refuses_a_file_that_is_no_backup(tmp_path):
    bad = tmp_path / "dingdan-x.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(backup.BackupError, match="not a SQLite backup"):
        backup.restore(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", bad)
    assert not (tmp_path / "new.db").exists()


def test_cli_backup_then_restore(tmp_path, sqlite_template, monkeypatch):
    from dingdan.cli import app

    db = tmp_path / "live.db"
    db.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("DINGDAN_DATABASE_URL", f"sqlite:///{db}")
    runner = CliRunner()
    done = runner.invoke(app, ["backup", "--to", str(tmp_path / "bk"), "--keep", "3"])
    assert done.exit_code == 0, done.output
    made = backup.backups(tmp_path / "bk")
    assert len(made) == 1
    refused = runner.invoke(app, ["restore", str(made[0])])
    assert refused.exit_code == 2 and "--force" in refused.output
    monkeypatch.setenv("DINGDAN_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    done = runner.invoke(app, ["restore", str(made[0])])
    assert done.exit_code == 0, done.output
    assert _sqlite_tables(tmp_path / "other.db") == _sqlite_tables(db)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_worker_backs_up_on_schedule_once_per_tick_and_keeps_the_newest(
        uows, db_url, clock, tmp_path):
    from dingdan.workers.config import BackupSchedule
    from worker_support import make_worker

    plan = BackupSchedule(db_url, tmp_path / "scheduled", interval_seconds=3600, keep=2)
    first, second = (make_worker(uows, {}, owner=f"w{i}", backup=plan) for i in (1, 2))
    made = []
    for _ in range(3):
        ran = [await w.run_due_jobs() for w in (first, second)]
        assert ran[0].count("backup") + ran[1].count("backup") == 1  # one worker per tick
        made.append(backup.backups(plan.directory)[-1].name)
        clock.advance(hours=1)
    kept = [p.name for p in backup.backups(plan.directory)]
    assert kept == made[1:]  # three ticks, the newest two kept
    restored = tmp_path / "restored.db"
    backup.restore(f"sqlite+aiosqlite:///{restored}", plan.directory / kept[-1])
    assert "orders" in _sqlite_tables(restored)
