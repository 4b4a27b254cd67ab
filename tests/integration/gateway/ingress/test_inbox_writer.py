"""The SQLite inbox writer stores exactly what the inbox repository stores, in one hop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest

from slackbridge.pipeline.handoff import Handoff
from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import Database, open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.inbox import InboxRepository, NewInboxItem
from slackbridge.store.repositories.inbox_writer import SqliteInboxWriter, writer_for


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
    writer = writer_for(db)
    assert isinstance(writer, SqliteInboxWriter)
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
        await writer.close()


async def test_leased_rows_belong_to_the_local_worker_until_their_lease_ends(db: Database) -> None:
    repo = InboxRepository(db, Keyring.parse(generate_key()))
    writer = SqliteInboxWriter(db, str(db.url.database))
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
        assert await writer.complete_many([leased[0].id], "someone-else") == 0  # fenced
        assert await writer.complete_many([i.id for i in leased], "local-worker") == 2
        assert (await repo.counts())["done"] == 2
        assert handoff.close() == []
        assert handoff.lease() is None  # the worker stopped: rows are stored pending
    finally:
        await writer.close()


async def test_retention_deletes_only_old_settled_rows(db: Database, tmp_path: Path) -> None:
    import httpx

    from slackbridge.pipeline.retention import purge_once
    from slackbridge.server import Gateway
    from slackbridge.settings import Settings

    keyring = Keyring.parse(generate_key())
    repo = InboxRepository(db, keyring)
    writer = SqliteInboxWriter(db, str(db.url.database))
    try:
        _, leased = await writer.insert_leased([_item("done"), _item("busy")], ("w", 30.0))
        await writer.insert_many([_item("waiting")])
        await writer.complete_many([leased[0].id], "w")
    finally:
        await writer.close()
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
