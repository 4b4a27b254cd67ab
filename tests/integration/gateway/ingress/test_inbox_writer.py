"""The ingress's inbox insert on a SQLite file and the write path's SQLite connector: stores
exactly what the inbox repository stores, never stalls the event loop on a taken write lock, and
leaves WAL checkpoints to its checkpointer."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import timedelta
from pathlib import Path

import pytest

from slackbridge.store.connector_sqlite import SqliteFileConnector
from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import Database, open_database
from slackbridge.store.inbox_handoff import Handoff
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.inbox import InboxRepository, NewInboxItem
from slackbridge.store.repositories.inbox_writer import InboxIngest


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
    await upgrade_database(database)
    yield database
    await database.close()


def _item(key: str) -> NewInboxItem:
    return NewInboxItem(
        dedupe_key=key,
        kind="events",
        body=b'{"type": "event_callback"}\x00\xff',
        team_id="T0ACME0001",
        headers={"transport": "http", "retry_num": 2, "nested": {"a": [1, "é"]}},
    )


async def test_rows_read_back_like_the_repositorys(db: Database) -> None:
    repo = InboxRepository(db, Keyring.parse(generate_key()))
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    assert isinstance(db.write_path.connector, SqliteFileConnector)
    try:
        await repo.insert_many([_item("by-repo")])
        results = await writer.insert_many([_item("by-writer"), _item("by-writer")])
        assert [r.inserted for r in results] == [True, False]  # a repeat within the batch
        again = await writer.insert_many([_item("by-repo")])
        assert [r.inserted for r in again] == [False]  # already stored by the repository
        ours, theirs = await repo.get_by_key("by-writer"), await repo.get_by_key("by-repo")
        assert ours is not None and theirs is not None
        skip = {"id", "dedupe_key", "received_at", "not_before"}
        assert {k: v for k, v in asdict(ours).items() if k not in skip} == {
            k: v for k, v in asdict(theirs).items() if k not in skip
        }
        assert ours.received_at.tzinfo is not None
        assert abs(ours.received_at - utcnow()) < timedelta(seconds=10)
        claimed = await repo.claim("someone", limit=10)
        assert {c.dedupe_key for c in claimed} == {"by-repo", "by-writer"}
    finally:
        await db.write_path.close()


async def test_leased_rows_belong_to_the_local_worker_until_their_lease_ends(db: Database) -> None:
    repo = InboxRepository(db, Keyring.parse(generate_key()))
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    handoff = Handoff(limit=1)
    handoff.open("local-worker", 30.0)
    try:
        lease = handoff.lease()
        assert lease == ("local-worker", 30.0)
        results, leased = await writer.insert_leased([_item("a"), _item("b")], lease)
        assert [r.inserted for r in results] == [True, True]
        assert [i.dedupe_key for i in leased] == ["a", "b"]
        assert {(i.status, i.attempts, i.lease_owner) for i in leased} == {
            ("processing", 1, "local-worker")
        }
        handoff.push(leased)
        assert handoff.lease() is None  # full: new rows are stored pending instead
        assert await repo.claim("other", limit=10) == []  # leased: nobody else takes them
        stored = await repo.get_by_key("a")
        assert stored is not None and stored.lease_owner == "local-worker"
        assert [i.dedupe_key for i in handoff.take(10)] == ["a", "b"]
        assert await repo.complete_many([leased[0].id], "someone-else") == 0  # fenced
        assert await repo.complete_many([i.id for i in leased], "local-worker") == 2
        assert (await repo.counts())["done"] == 2
        assert handoff.close() == []
        assert handoff.lease() is None  # the worker stopped: rows are stored pending
    finally:
        await db.write_path.close()


async def test_retention_deletes_only_old_settled_rows(db: Database, tmp_path: Path) -> None:
    import httpx

    from slackbridge.pipeline.retention import purge_once
    from slackbridge.runtime import Gateway
    from slackbridge.settings import Settings

    keyring = Keyring.parse(generate_key())
    repo = InboxRepository(db, keyring)
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    try:
        _, leased = await writer.insert_leased([_item("done"), _item("busy")], ("w", 30.0))
        await writer.insert_many([_item("waiting")])
        await repo.complete_many([leased[0].id], "w")
    finally:
        await db.write_path.close()
    async with httpx.AsyncClient() as http:
        gateway = Gateway(
            settings=Settings(data_dir=tmp_path, retention_days=7),
            db=db,
            keyring=keyring,
            http=http,
        )
        assert await purge_once(gateway) == (0, 0)  # nothing is old yet
        later = utcnow() + timedelta(days=8)
        assert await purge_once(gateway, now=later) == (1, 0)
    assert await repo.get_by_key("done") is None
    assert await repo.get_by_key("busy") is not None  # not done: kept
    assert await repo.get_by_key("waiting") is not None


async def test_a_taken_write_lock_defers_batches_to_the_thread_in_order(db: Database) -> None:
    repo = InboxRepository(db, Keyring.parse(generate_key()))
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    connector = db.write_path.connector
    assert isinstance(connector, SqliteFileConnector)
    holder = sqlite3.connect(str(db.url.database), isolation_level=None)
    try:
        await writer.insert_many([_item("before")])  # free lock: written on the loop's thread
        assert connector.deferred == 0
        holder.execute("BEGIN IMMEDIATE")  # another connection takes the write lock
        first = asyncio.create_task(writer.insert_many([_item("first")]))
        deadline = asyncio.get_running_loop().time() + 10
        ticks = 0
        while connector.deferred < 1 or ticks < 5:  # the loop keeps running meanwhile
            assert asyncio.get_running_loop().time() < deadline, "the batch was not deferred"
            await asyncio.sleep(0.001)
            ticks += 1
        second = asyncio.create_task(writer.insert_many([_item("second")]))
        for _ in range(5):
            await asyncio.sleep(0.001)
        assert not first.done() and not second.done()  # waiting for the lock, not failed
        holder.execute("COMMIT")
        assert [r.inserted for r in await first] == [True]
        assert [r.inserted for r in await second] == [True]
        assert connector.deferred == 1  # the second batch waited behind the first
        stored = [await repo.get_by_key(key) for key in ("before", "first", "second")]
        ids = [row.id for row in stored if row is not None]
        assert len(ids) == 3 and ids == sorted(ids)  # committed in the order submitted
        await writer.insert_many([_item("after")])  # the thread is idle: back on the loop
        assert connector.deferred == 1
    finally:
        holder.close()
        await db.write_path.close()


async def test_commits_leave_wal_checkpoints_to_the_checkpointer(db: Database) -> None:
    path = str(db.url.database)
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    connector = db.write_path.connector
    assert isinstance(connector, SqliteFileConnector)
    try:
        await writer.insert_many([_item(f"k{n}") for n in range(200)])
        deadline = asyncio.get_running_loop().time() + 10
        while connector.checkpointer.checkpoints < 1:  # poked by the commit, runs in its thread
            assert asyncio.get_running_loop().time() < deadline, "no checkpoint ran"
            await asyncio.sleep(0.01)
        with sqlite3.connect(path) as probe:
            busy, log, done = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and log == done  # nothing left to copy: the checkpointer did it
        conn = connector._connection().connection.driver_connection
        assert conn is not None
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (0,)
    finally:
        await db.write_path.close()


async def test_claims_with_nothing_due_stay_off_the_write_lock(db: Database) -> None:
    repo = InboxRepository(db, Keyring.parse(generate_key()))
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    holder = sqlite3.connect(str(db.url.database), isolation_level=None)
    try:
        await writer.insert_leased([_item("leased")], ("w", 30.0))
        holder.execute("BEGIN IMMEDIATE")  # the write lock is taken (say, by a commit)
        # Nothing is due (the row is leased to a live worker): the claim sees it with a read
        # and returns at once instead of waiting for the lock.
        assert await asyncio.wait_for(repo.claim("other", limit=10), timeout=5) == []
        holder.execute("COMMIT")
        await writer.insert_many([_item("pending")])
        assert [i.dedupe_key for i in await repo.claim("other", limit=10)] == ["pending"]
        later = InboxRepository(
            db, Keyring.parse(generate_key()), clock=lambda: utcnow() + timedelta(seconds=60)
        )
        # Once the leases expire, the rows are due again.
        assert {i.dedupe_key for i in await later.claim("late", limit=10)} == {"leased", "pending"}
    finally:
        holder.close()
        await db.write_path.close()


async def test_leased_rows_carry_the_parsed_payload_but_the_table_does_not(db: Database) -> None:
    repo = InboxRepository(db, Keyring.parse(generate_key()))
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    try:
        parsed = {"type": "event_callback"}
        _, leased = await writer.insert_leased([replace(_item("p"), payload=parsed)], ("w", 30))
        assert [i.payload for i in leased] == [parsed]
        stored = await repo.get_by_key("p")
        assert stored is not None and stored.payload is None  # read back: parsed by the worker
    finally:
        await db.write_path.close()


async def test_a_handed_over_row_never_overtakes_a_pending_one(
    db: Database, tmp_path: Path
) -> None:
    """Rows stored pending while the handoff was full are processed before later rows handed
    over, so the inbox worker keeps Slack's order (per channel) under a flood."""
    import httpx

    from slackbridge.compose_inbox import inbox_worker
    from slackbridge.runtime import Gateway
    from slackbridge.settings import Settings

    keyring = Keyring.parse(generate_key())
    gateway = Gateway(
        settings=Settings(data_dir=tmp_path), db=db, keyring=keyring, http=httpx.AsyncClient()
    )
    writer = InboxIngest(db, keyring)
    worker = inbox_worker(gateway, poll_seconds=3600)
    handoff = gateway.handoff
    handoff.open(worker.owner, 30.0)

    async def store(*keys: str, room: int) -> None:
        handoff.limit = len(handoff) + room
        for key in keys:
            _results, leased = await writer.insert_leased([_item(key)], handoff.lease())
            handoff.push(leased)

    async def claim(limit: int = 10) -> list[str]:
        return [item.dedupe_key for item in await worker.claim(limit)]

    try:
        assert await claim() == []  # reads the table once
        await store("a", "b", room=2)
        await store("c", room=0)  # the handoff is full: stored pending
        assert await claim() == ["a", "b", "c"]
        await store("d", room=1)
        assert await claim() == ["d"]  # handed over, nothing pending: no table read
        await store("e", room=0)
        await store("f", room=1)
        assert await claim() == ["e", "f"]  # f waited for e, stored pending before it
        await store("g", room=0)
        await store("h", "i", room=2)
        assert await claim(1) == ["g"]
        assert await claim(1) == ["h"]
        assert await claim(5) == ["i"]
    finally:
        handoff.close()
        await gateway.http.aclose()
        await db.write_path.close()


async def test_a_deferred_batch_tries_again_at_least_every_millisecond(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another connection holds the write lock (the WAL checkpointer's restart), the
    writer's thread tries again after pauses of at most a millisecond: the batch, which
    Slack's acks wait for, follows the lock's release closely."""
    connector = db.write_path.connector
    assert isinstance(connector, SqliteFileConnector)
    holder = sqlite3.connect(str(db.url.database), isolation_level=None, check_same_thread=False)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 12:
            holder.execute("COMMIT")  # the lock is released after a dozen attempts

    monkeypatch.setattr("slackbridge.store.connector_sqlite.time.sleep", sleep)
    writer = InboxIngest(db, Keyring.parse(generate_key()))
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert [r.inserted for r in await writer.insert_many([_item("waited")])] == [True]
        assert connector.deferred == 1 and len(pauses) == 12
        assert max(pauses) <= 0.001
    finally:
        holder.close()
        await db.write_path.close()
