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


class _Together:
    """A combinable job: inserts its url alone, or with its group's in one statement."""

    def __init__(self, url: str, group: str | None, log: list[Any], *, can: bool = True) -> None:
        self.url = url
        self.write_group = group
        self._log = log
        self._can = can

    def __call__(self, conn: Connection) -> str:
        self._log.append(("alone", self.url))
        if self.url.endswith("/bad"):
            raise ValueError("bad job")
        return _add(self.url)(conn)

    def run_together(self, conn: Connection, jobs: list[Any]) -> list[str] | None:
        self._log.append(("together", [job.url for job in jobs]))
        if not self._can:
            return None
        if any(job.url.endswith("/bad") for job in jobs):
            raise ValueError("bad group")
        rows = [{"url_key": job.url, "event_types": [], "enabled": True} for job in jobs]
        conn.execute(insert(_T), rows)
        return [f"{job.url} (together)" for job in jobs]


async def test_jobs_of_one_group_run_together_where_the_first_stands(database: Database) -> None:
    path = database.write_path
    path.slice_seconds = None  # as on PostgreSQL: a batch takes every job waiting
    log: list[Any] = []
    jobs = [
        _add("https://x/plain"),
        _Together("https://x/a1", "a", log),
        _Together("https://x/b1", "b", log),
        _Together("https://x/a2", "a", log),
        _Together("https://x/solo", None, log),
        _Together("https://x/b2", "b", log),
        _Together("https://x/c1", "c", log),  # a group of one runs alone
    ]
    before = path.batches
    results = await asyncio.gather(*(database.write(job) for job in jobs))
    assert path.batches == before + 1
    assert results == [
        "https://x/plain",
        "https://x/a1 (together)",
        "https://x/b1 (together)",
        "https://x/a2 (together)",
        "https://x/solo",
        "https://x/b2 (together)",
        "https://x/c1",
    ]
    assert log == [
        ("together", ["https://x/a1", "https://x/a2"]),
        ("together", ["https://x/b1", "https://x/b2"]),
        ("alone", "https://x/solo"),
        ("alone", "https://x/c1"),
    ]
    assert await _urls(database) == [
        "https://x/plain",
        "https://x/a1",
        "https://x/a2",
        "https://x/b1",
        "https://x/b2",
        "https://x/solo",
        "https://x/c1",
    ]


async def test_a_group_that_cant_run_together_runs_each_alone(database: Database) -> None:
    database.write_path.slice_seconds = None
    log: list[Any] = []
    jobs = [_Together(f"https://x/{n}", "g", log, can=False) for n in range(3)]
    assert await asyncio.gather(*(database.write(job) for job in jobs)) == [
        f"https://x/{n}" for n in range(3)
    ]
    assert log == [("together", [f"https://x/{n}" for n in range(3)])] + [
        ("alone", f"https://x/{n}") for n in range(3)
    ]


async def test_a_failing_group_runs_again_each_alone_and_the_bad_job_fails_alone(
    database: Database,
) -> None:
    path = database.write_path
    path.slice_seconds = None
    log: list[Any] = []
    jobs = [_Together(f"https://x/{name}", "g", log) for name in ("1", "bad", "2")]
    first = asyncio.ensure_future(database.write(_add("https://x/before")))
    futures = [asyncio.ensure_future(database.write(job)) for job in jobs]
    assert await first == "https://x/before"
    assert await futures[0] == "https://x/1" and await futures[2] == "https://x/2"
    with pytest.raises(ValueError, match="bad job"):
        await futures[1]
    assert log[0] == ("together", ["https://x/1", "https://x/bad", "https://x/2"])
    assert ("together", ["https://x/1", "https://x/2"]) not in log  # alone from then on
    # The rolled-back batch left nothing behind; each job's row is there once.
    assert sorted(await _urls(database)) == ["https://x/1", "https://x/2", "https://x/before"]


async def test_a_batch_cut_for_time_runs_a_group_each_alone(database: Database) -> None:
    path = database.write_path
    path.slice_seconds = 60.0  # SQLite's way: a batch may stop between two jobs
    log: list[Any] = []
    jobs = [_Together(f"https://x/{n}", "g", log) for n in range(2)]
    assert await asyncio.gather(*(database.write(job) for job in jobs)) == [
        "https://x/0",
        "https://x/1",
    ]
    assert log == [("alone", "https://x/0"), ("alone", "https://x/1")]
