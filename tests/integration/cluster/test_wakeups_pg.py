"""LISTEN/NOTIFY wake-ups between processes sharing a PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from slackbridge.store.wakeups_pg import PgWakeups, channel_name, dsn_of
from tests.conftest import PG_SKIP_REASON, PG_URL_ENV


@pytest.fixture
def dsn() -> str:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    return dsn_of(make_url(url))


async def _until(check: Any, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class _Recording:
    def __init__(self) -> None:
        self.connections: list[Any] = []

    async def __call__(self, dsn: str) -> Any:
        conn = await asyncpg.connect(dsn)
        self.connections.append(conn)
        return conn


@pytest.fixture
async def pair(dsn: str) -> AsyncIterator[tuple[PgWakeups, PgWakeups, _Recording]]:
    channel = channel_name(f"t{uuid.uuid4().hex[:12]}")
    recording = _Recording()
    # Origins as gateways name themselves (host:pid:clock), colons included.
    a = PgWakeups(dsn, channel=channel, origin="host:1:100")
    b = PgWakeups(dsn, channel=channel, origin="host:2:200", connect=recording)
    await a.start()
    await b.start()
    await _until(lambda: a.connected and b.connected)
    try:
        yield a, b, recording
    finally:
        await a.close()
        await b.close()


async def test_a_signal_wakes_the_other_process(
    pair: tuple[PgWakeups, PgWakeups, _Recording],
) -> None:
    a, b, _ = pair
    waiting = asyncio.create_task(b.wait("outbox", 60))
    a.signal("outbox")
    await asyncio.wait_for(waiting, 60)
    assert b.received == 1
    # Signals are merged per queue, and a process does not hear its own.
    await a.wait("outbox", 0)  # a's own signal woke a at once
    assert a.received == 0


async def test_a_lost_connection_falls_back_to_polling_and_comes_back(
    pair: tuple[PgWakeups, PgWakeups, _Recording], dsn: str
) -> None:
    a, b, recording = pair
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend($1)", recording.connections[0].get_server_pid()
        )
    finally:
        await admin.close()
    await _until(lambda: not b.connected or len(recording.connections) > 1)
    # Down or not, a wait ends by its timeout (the poll).
    await b.wait("inbox", 0.05)
    await _until(lambda: b.connected and len(recording.connections) > 1)
    await b.wait("inbox", 0)  # back: every known queue was woken once (missed signals)
    waiting = asyncio.create_task(b.wait("inbox", 60))
    a.signal("inbox")
    await asyncio.wait_for(waiting, 60)
    assert b.received >= 1
