"""The write path: jobs from everywhere committed in batches, urgent ones first, a failing job
failing alone, long backlogs cut into short batches; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from slackbridge.store.db import Database
from slackbridge.store.models import WebhookEndpointRow, table_of

_T = table_of(WebhookEndpointRow)


def _add(url: str) -> Any:
    def job(conn: Connection) -> str:
        conn.execute(insert(_T).values(url_key=url, event_types=[], enabled=True))
        return url

    return job


async def _urls(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(select(_T.c.url_key).order_by(_T.c.id))).scalars())


async def test_jobs_submitted_together_commit_in_one_batch_in_order(database: Database) -> None:
    path = database.write_path
    path.slice_seconds = 60.0  # no cut for time: this is about grouping
    before = path.batches
    results = await asyncio.gather(*(database.write(_add(f"https://x/{n}")) for n in range(20)))
    assert results == [f"https://x/{n}" for n in range(20)]
    assert path.batches == before + 1
    assert await _urls(database) == results


async def test_a_failing_job_fails_alone(database: Database) -> None:
    def broken(conn: Connection) -> None:
        conn.execute(insert(_T).values(url_key="https://x/bad", event_types=[], enabled=True))
        raise ValueError("no")

    first = asyncio.ensure_future(database.write(_add("https://x/1")))
    bad = asyncio.ensure_future(database.write(broken))
    last = asyncio.ensure_future(database.write(_add("https://x/2")))
    assert await first == "https://x/1" and await last == "https://x/2"
    with pytest.raises(ValueError, match="no"):
        await bad
    assert await _urls(database) == ["https://x/1", "https://x/2"]  # the bad one rolled back


async def test_urgent_jobs_go_before_the_others_waiting(database: Database) -> None:
    order = [
        asyncio.ensure_future(database.write(_add("https://x/worker-1"))),
        asyncio.ensure_future(database.write(_add("https://x/worker-2"))),
        asyncio.ensure_future(database.write(_add("https://x/ingress"), urgent=True)),
    ]
    await asyncio.gather(*order)
    urls = await _urls(database)
    if database.write_path.connector.concurrent:
        # PostgreSQL: the urgent jobs have a batch of their own, beside the others'.
        assert sorted(urls) == sorted(
            ["https://x/ingress", "https://x/worker-1", "https://x/worker-2"]
        )
        assert urls.index("https://x/worker-1") < urls.index("https://x/worker-2")
    else:
        assert urls == ["https://x/ingress", "https://x/worker-1", "https://x/worker-2"]


async def test_a_long_backlog_is_cut_into_short_batches(database: Database) -> None:
    path = database.write_path
    path.slice_seconds = 0.0  # every job past the first starts a new batch
    before = path.batches
    await asyncio.gather(*(database.write(_add(f"https://x/{n}")) for n in range(5)))
    assert path.batches == before + 5
    assert await _urls(database) == [f"https://x/{n}" for n in range(5)]
