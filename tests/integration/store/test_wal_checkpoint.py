"""The WAL checkpointer: copies the log beside the commits, starts it over past its limit (and
empties its file far past it), and never holds writers back for long when a reader keeps an old
snapshot."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from slackbridge.store.wal_checkpoint import TRUNCATE_WAIT_MS, WalCheckpointer


def _database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # as the inbox writer: the checkpointer's job
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO t (body) VALUES (?)", [(b"x" * 2000,) for _ in range(rows)])
    conn.execute("COMMIT")


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _started_over(conn: sqlite3.Connection) -> bool:
    """Whether the log was started over: one more row's commit is then all the log holds."""
    _write(conn, 1)
    _busy, log_pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return bool(log_pages <= 3)


async def test_a_long_log_is_copied_and_started_over(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    conn = _database(path)
    checkpointer = WalCheckpointer(str(path), limit_pages=50, truncate_pages=1000)
    try:
        _write(conn, 20)
        checkpointer._checkpoint()  # a short log: copied, left in place
        assert (checkpointer.checkpoints, checkpointer.restarts) == (1, 0)
        assert _wal_bytes(path) > 0
        _write(conn, 200)  # about 100 pages: past the limit
        size = _wal_bytes(path)
        checkpointer._checkpoint()
        assert (checkpointer.restarts, checkpointer.truncations) == (1, 0)
        assert _wal_bytes(path) == size  # the file kept (its blocks are written again)
        assert _started_over(conn)
        assert _wal_bytes(path) == size
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (221,)
    finally:
        await checkpointer.close()
        conn.close()


async def test_a_log_far_past_its_limit_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    conn = _database(path)
    checkpointer = WalCheckpointer(str(path), limit_pages=50, truncate_pages=80)
    try:
        _write(conn, 200)  # about 100 pages: past both
        checkpointer._checkpoint()
        assert (checkpointer.restarts, checkpointer.truncations) == (1, 1)
        assert _wal_bytes(path) == 0
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (200,)
    finally:
        await checkpointer.close()
        conn.close()


async def test_an_old_reader_makes_it_give_up_quickly_not_block_writers(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    conn = _database(path)
    reader = sqlite3.connect(path, isolation_level=None)
    checkpointer = WalCheckpointer(str(path), limit_pages=50)
    try:
        _write(conn, 10)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (10,)  # holds a snapshot
        _write(conn, 200)
        started = time.monotonic()
        checkpointer._checkpoint()
        assert time.monotonic() - started < 5 * TRUNCATE_WAIT_MS / 1000 + 1
        assert checkpointer.restarts == 0  # gave up: the reader still needs the log
        _write(conn, 1)  # writers are not held back afterwards
        reader.execute("COMMIT")
        checkpointer._checkpoint()
        assert checkpointer.restarts == 1
        assert _started_over(conn)
    finally:
        reader.close()
        await checkpointer.close()
        conn.close()


async def test_pokes_are_spaced_and_run_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    conn = _database(path)
    checkpointer = WalCheckpointer(str(path), interval=60.0)
    try:
        _write(conn, 5)
        checkpointer.poke()
        checkpointer.poke()  # within the interval: nothing more
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 1:
            assert time.monotonic() < deadline, "no checkpoint ran"
            await asyncio.sleep(0.01)
        await checkpointer.close()  # waits for a running one; the next poke starts again
        assert checkpointer.checkpoints == 1
    finally:
        await checkpointer.close()
        conn.close()
