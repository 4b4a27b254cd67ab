"""Quick reads: a few indexed rows read at once, without a read session. On a SQLite file on
the write path's connection (``Database.read_now``); on PostgreSQL on a kept autocommit
connection of the write path's (``Database.read_kept``): the same rows as a read session, no
transaction left open, and a kept connection found broken is replaced without the caller
seeing it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from slackbridge.store.connector_async import AsyncEngineConnector
from slackbridge.store.connector_sqlite import ReadLater
from slackbridge.store.db import Database
from slackbridge.store.models import UserCacheRow, table_of
from slackbridge.store.repositories.users import CachedUser
from slackbridge.store.store import Store

_USERS = table_of(UserCacheRow)


def _rows(conn: Connection) -> list[Any]:
    stmt = select(_USERS.c.team_id, _USERS.c.user_id, _USERS.c.name)
    return [tuple(r) for r in conn.execute(stmt.order_by(_USERS.c.user_id))]


async def _seed(store: Store) -> None:
    await store.users.put_many(
        [CachedUser("T1", "U1", name="ada"), CachedUser("T1", "U2", name="grace")]
    )


async def test_a_kept_read_returns_what_a_read_session_does(store: Store) -> None:
    await _seed(store)
    async with store.db.session() as session:
        expected = await session.run_sync(lambda sync: _rows(sync.connection()))
    assert len(expected) == 2
    if not store.db.is_postgres:
        with pytest.raises(ReadLater):
            await store.db.read_kept(_rows)
        return
    assert await store.db.read_kept(_rows) == expected
    # Again, on the connection kept from the first read: no transaction was left open on it.
    assert await store.db.read_kept(_rows) == expected
    connector = store.db.write_path.connector
    assert isinstance(connector, AsyncEngineConnector)
    (kept,) = connector._idle_each
    assert not kept.in_transaction()
    # The repositories' quick reads take this way: the cached user, as before.
    got = await store.users.get("T1", "U2")
    assert got is not None and got.name == "grace"
    assert await store.users.get("T1", "U3") is None


async def test_a_broken_kept_connection_is_replaced(database: Database, store: Store) -> None:
    if not database.is_postgres:
        pytest.skip("kept read connections are PostgreSQL's")
    await _seed(store)
    assert len(await database.read_kept(_rows)) == 2
    connector = database.write_path.connector
    assert isinstance(connector, AsyncEngineConnector)
    (kept,) = connector._idle_each
    pid = await kept.scalar(text("SELECT pg_backend_pid()"))
    async with database.engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # The server closed the kept connection: the read still answers, on a new one.
    assert len(await database.read_kept(_rows)) == 2
    (fresh,) = connector._idle_each
    assert fresh is not kept
