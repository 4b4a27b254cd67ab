"""Group commit: batching, each caller's own outcome, failures and timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from slackbridge.slack.inbound.group_commit import CommitUnavailable, GroupCommitter


class _Store:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.refuse: set[str] = set()
        self.gate: asyncio.Event | None = None
        self.writing = asyncio.Event()

    async def write(self, rows: Sequence[str]) -> list[str]:
        self.writing.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.refuse & set(rows):
            raise RuntimeError("constraint failed")
        self.batches.append(list(rows))
        return [f"stored {row}" for row in rows]


@pytest.fixture
async def running() -> AsyncIterator[tuple[_Store, GroupCommitter[str, str]]]:
    store = _Store()
    committer = GroupCommitter(store.write, window=0.005)
    stop = asyncio.Event()
    task = asyncio.create_task(committer.run(stop))
    yield store, committer
    stop.set()
    await task


async def test_concurrent_rows_share_one_transaction(
    running: tuple[_Store, GroupCommitter[str, str]],
) -> None:
    store, committer = running
    results = await asyncio.gather(*(committer.commit(f"row{i}", 2.0) for i in range(20)))
    assert results == [f"stored row{i}" for i in range(20)]  # each caller gets its own
    assert sorted(r for batch in store.batches for r in batch) == sorted(
        f"row{i}" for i in range(20)
    )
    assert len(store.batches) == 1


async def test_rows_arriving_during_a_commit_go_in_the_next_one(
    running: tuple[_Store, GroupCommitter[str, str]],
) -> None:
    store, committer = running
    store.gate = asyncio.Event()
    first = asyncio.create_task(committer.commit("a", 2.0))
    await store.writing.wait()  # the first commit is in flight, held at the gate
    later = [asyncio.create_task(committer.commit(r, 2.0)) for r in ("b", "c")]
    await asyncio.sleep(0)
    assert not first.done()
    store.gate.set()
    await asyncio.gather(first, *later)
    assert store.batches == [["a"], ["b", "c"]]


async def test_a_bad_row_fails_alone(running: tuple[_Store, GroupCommitter[str, str]]) -> None:
    store, committer = running
    store.refuse = {"bad"}
    results = await asyncio.gather(
        committer.commit("good1", 2.0),
        committer.commit("bad", 2.0),
        committer.commit("good2", 2.0),
        return_exceptions=True,
    )
    assert results[0] == "stored good1" and results[2] == "stored good2"
    assert isinstance(results[1], CommitUnavailable)
    assert sorted(r for batch in store.batches for r in batch) == ["good1", "good2"]


async def test_a_commit_slower_than_the_deadline_is_unavailable(
    running: tuple[_Store, GroupCommitter[str, str]],
) -> None:
    store, committer = running
    store.gate = asyncio.Event()
    with pytest.raises(CommitUnavailable, match="too long"):
        await committer.commit("slow", 0.05)
    store.gate.set()
    # It still lands afterwards: Slack's retry of it is then absorbed by the inbox's key.
    await committer.commit("next", 2.0)
    assert ["slow"] in store.batches or ["slow", "next"] in store.batches


async def test_waiting_rows_are_committed_on_stop() -> None:
    store = _Store()
    store.gate = asyncio.Event()
    committer = GroupCommitter(store.write, window=0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(committer.run(stop))
    first = asyncio.create_task(committer.commit("x", 5.0))
    await store.writing.wait()  # "x" is being written; "y" waits for the next commit
    second = asyncio.create_task(committer.commit("y", 5.0))
    await asyncio.sleep(0)
    stop.set()
    store.gate.set()
    await task
    assert await first == "stored x"
    assert await second == "stored y"
    assert store.batches == [["x"], ["y"]]


async def test_no_committer_running_means_unavailable_at_once() -> None:
    committer = GroupCommitter(_Store().write)
    with pytest.raises(CommitUnavailable, match="not running"):
        await committer.commit("x", 5.0)
