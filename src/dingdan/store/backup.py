"""Backups that restore: ``dingdan backup`` / ``dingdan restore`` and the worker's schedule.

- **SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database
  page by page in one step while holding a read snapshot, so writers carry on and the copy is
  consistent (the state of one moment, never half a transaction). The copy is a plain
  ``.sqlite`` file with no ``-wal`` beside it.
- **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot, compressed) and
  ``pg_restore`` into an empty database.

A restore refuses to write into a database that already holds Dingdan's tables unless told
``force`` (then SQLite's file is replaced and PostgreSQL's objects are dropped first with
``pg_restore --clean --if-exists``). Retention keeps the newest ``keep`` backups of the
directory and deletes the older ones. Everything here blocks: call it off the event loop.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

PREFIX = "dingdan-"
SQLITE_SUFFIX = ".sqlite"
PG_SUFFIX = ".dump"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why, for an operator."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int


def _url(url: str) -> URL:
    return make_url(url)


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore: the password goes in the environment,
    never on the command line (where `ps` would show it)."""
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def backup_name(now: datetime, suffix: str) -> str:
    return f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S%fZ')}{suffix}"


def backup(url: str, directory: Path, now: datetime, *, pg_snapshot: str | None = None,
           ) -> Backup:
    """Write a consistent backup of the database at ``url`` into ``directory``.

    ``pg_snapshot`` (PostgreSQL): dump the state of a snapshot another session exported with
    ``pg_export_snapshot()``, to back up exactly the moment that session sees."""
    u = _url(url)
    directory.mkdir(parents=True, exist_ok=True)
    if _is_sqlite(u):
        target = directory / backup_name(now, SQLITE_SUFFIX)
        _sqlite_backup(_sqlite_path(u), target)
    else:
        target = directory / backup_name(now, PG_SUFFIX)
        _pg_dump(u, target, pg_snapshot)
    return Backup(target, target.stat().st_size)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    partial = target.with_suffix(target.suffix + ".partial")
    src = sqlite3.connect(source, timeout=30)  # read only; WAL readers never block writers
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file
            ok = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if not ok or ok[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {ok}")
    partial.replace(target)  # only a complete backup gets the real name


def _pg_dump(url: URL, target: Path, snapshot: str | None) -> None:
    args, env = _libpq(url)
    if snapshot:
        args += ["--snapshot", snapshot]
    partial = target.with_suffix(target.suffix + ".partial")
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial),
                           *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    partial.replace(target)


def holds_data(url: str) -> bool:
    """Whether the database at ``url`` already has Dingdan's schema (a restore would
    overwrite it)."""
    u = _url(url)
    if _is_sqlite(u):
        path = _sqlite_path(u)
        if not path.exists() or path.stat().st_size == 0:
            return False
        conn = sqlite3.connect(path)
        try:
            row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table' "
                               "AND name NOT LIKE 'sqlite_%'").fetchone()
        finally:
            conn.close()
        return bool(row and row[0])
    import psycopg

    plain = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as pg:
        row = pg.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'public'").fetchone()
    return bool(row and row[0])


def restore(url: str, source: Path, *, force: bool = False) -> None:
    """Restore the backup file ``source`` into the database at ``url``."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if holds_data(url) and not force:
        raise BackupError("the target database already holds data; "
                          "restore with --force to replace it")
    u = _url(url)
    if _is_sqlite(u):
        if source.suffix != SQLITE_SUFFIX:
            raise BackupError("a SQLite database restores from a .sqlite backup")
        _sqlite_restore(source, _sqlite_path(u))
    else:
        if source.suffix != PG_SUFFIX:
            raise BackupError("a PostgreSQL database restores from a .dump backup")
        args, env = _libpq(u)
        cmd = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"]
        if force:
            cmd += ["--clean", "--if-exists"]
        done = subprocess.run([*cmd, *args, str(source)], env=env, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def _sqlite_restore(source: Path, target: Path) -> None:
    check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"not a SQLite backup: {exc}") from exc
    finally:
        check.close()
    if not ok or ok[0] != "ok":
        raise BackupError(f"the backup failed its integrity check: {ok}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".restore-", dir=target.parent)
    os.close(fd)
    shutil.copyfile(source, tmp)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)  # a stale log would be replayed over the restore
    os.replace(tmp, target)


def backups(directory: Path) -> list[Path]:
    """The complete backups in ``directory``, oldest first (the name carries the time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.startswith(PREFIX)
                  and p.suffix in (SQLITE_SUFFIX, PG_SUFFIX))


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns what was deleted."""
    if keep < 1:
        raise BackupError("keep at least one backup")
    old = backups(directory)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old
