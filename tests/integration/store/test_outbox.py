"""The outbox: idempotency keys, FIFO lanes per (team, channel, thread), rate-limit waits."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from slackbridge.store.connector_sqlite import SqliteFileConnector
from slackbridge.store.repositories.outbox import NewOutboxMessage, outbox_lane
from slackbridge.store.store import Store

from .conftest import FakeClock


def _message(
    text: str,
    channel: str = "C1",
    thread: str | None = None,
    *,
    team_id: str = "T1",
    idempotency_scope: str | None = None,
    idempotency_key: str | None = None,
) -> NewOutboxMessage:
    return NewOutboxMessage(
        team_id=team_id,
        method="chat.postMessage",
        payload={"channel": channel, "text": text, "thread_ts": thread},
        lane_key=outbox_lane(team_id, channel, thread),
        idempotency_scope=idempotency_scope,
        idempotency_key=idempotency_key,
    )


def test_lane_keys() -> None:
    assert outbox_lane("T1", "C1") == "T1:C1:"
    assert outbox_lane("T1", "C1", "1700000000.000100") == "T1:C1:1700000000.000100"
    assert outbox_lane("T1", None) is None


async def test_idempotency_key_returns_the_first_row(store: Store) -> None:
    first = await store.outbox.enqueue(
        _message("hi", idempotency_scope="key-1", idempotency_key="abc")
    )
    again = await store.outbox.enqueue(
        _message("hi", idempotency_scope="key-1", idempotency_key="abc")
    )
    other_scope = await store.outbox.enqueue(
        _message("hi", idempotency_scope="key-2", idempotency_key="abc")
    )
    no_key = [await store.outbox.enqueue(_message("hi")) for _ in range(2)]
    assert first.created and not again.created
    assert again.message.message_id == first.message.message_id
    assert first.message.message_id.startswith("msg_")
    assert other_scope.created and other_scope.message.id != first.message.id
    assert all(r.created for r in no_key) and no_key[0].message.id != no_key[1].message.id
    found = await store.outbox.get_by_idempotency_key("key-1", "abc")
    assert found is not None and found.id == first.message.id
    assert await store.outbox.get(first.message.message_id) == first.message
    assert await store.outbox.get("msg_missing") is None


async def test_fifo_per_lane_and_rate_limit_waits_hold_only_their_lane(
    cstore: Store, clock: FakeClock
) -> None:
    ids = {}
    for text, channel, thread in [
        ("c1-1", "C1", None),
        ("c2-1", "C2", None),
        ("c1-2", "C1", None),
        ("t-1", "C1", "111.000100"),
        ("c1-3", "C1", None),
        ("t-2", "C1", "111.000100"),
    ]:
        ids[text] = (await cstore.outbox.enqueue(_message(text, channel, thread))).message.id
    await cstore.outbox.enqueue(
        NewOutboxMessage(team_id="T1", method="views.publish", payload={"user_id": "U1"})
    )

    def texts(rows: list) -> list[str]:  # type: ignore[type-arg]
        return [r.payload.get("text", r.method) for r in rows]

    first = await cstore.outbox.claim("s1")
    assert texts(first) == ["c1-1", "c2-1", "t-1", "views.publish"]
    by_text = {r.payload.get("text", r.method): r for r in first}
    # C1 got a Retry-After: only C1 waits, and the wait is not an attempt.
    assert await cstore.outbox.release(by_text["c1-1"].id, "s1", clock.now + timedelta(seconds=5))
    assert await cstore.outbox.mark_sent(
        by_text["c2-1"].id, "s1", result={"ok": True, "ts": "1.000200", "channel": "C2"}
    )
    assert await cstore.outbox.mark_sent(by_text["t-1"].id, "s1", result={"ts": "1.1"})
    assert texts(await cstore.outbox.claim("s1")) == ["t-2"]
    clock.advance(5)
    (c1,) = await cstore.outbox.claim("s1")
    assert c1.payload["text"] == "c1-1" and c1.attempts == 1
    assert await cstore.outbox.mark_failed(c1.id, "s1", error="not_in_channel")
    assert texts(await cstore.outbox.claim("s1")) == ["c1-2"]

    sent = await cstore.outbox.get(by_text["c2-1"].message_id)
    assert sent is not None and sent.status == "sent"
    assert sent.result == {"ok": True, "ts": "1.000200", "channel": "C2"}
    assert sent.sent_at == clock.now - timedelta(seconds=5)
    failed = await cstore.outbox.list(status="failed")
    assert [(m.message_id, m.last_error) for m in failed] == [(c1.message_id, "not_in_channel")]


async def test_transient_failure_retries_later(cstore: Store, clock: FakeClock) -> None:
    await cstore.outbox.enqueue(_message("one"))
    await cstore.outbox.enqueue(_message("two"))
    (row,) = await cstore.outbox.claim("s1")
    await cstore.outbox.retry_later(row.id, "s1", clock.now + timedelta(seconds=2), error="500")
    assert await cstore.outbox.claim("s1") == []  # "two" waits behind "one"
    clock.advance(2)
    (again,) = await cstore.outbox.claim("s1")
    assert again.id == row.id and again.attempts == 2 and again.last_error == "500"


async def test_claim_by_team_and_counts(cstore: Store, clock: FakeClock) -> None:
    await cstore.outbox.enqueue(_message("a", team_id="T1"))
    await cstore.outbox.enqueue(_message("b", team_id="T2"))
    (only,) = await cstore.outbox.claim("s1", team_ids=["T2"])
    assert only.team_id == "T2"
    assert await cstore.outbox.counts() == {"queued": 1, "sending": 1, "sent": 0, "failed": 0}
    assert [m.payload["text"] for m in await cstore.outbox.list(team_id="T1")] == ["a"]
    await cstore.outbox.mark_sent(only.id, "s1", result={})
    clock.advance(10)
    assert await cstore.outbox.purge(older_than=clock.now) == 1


async def test_a_claim_without_probe_opens_no_read_session(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a wake-up the sender claims without first looking for a due row (a read session
    on the row's path); it takes the rows all the same, and in lane order."""
    first = (await store.outbox.enqueue(_message("one"))).message
    await store.outbox.enqueue(_message("two"))
    sessions = 0
    opened = store.db.session

    @contextlib.asynccontextmanager
    async def counted() -> AsyncIterator[Any]:
        nonlocal sessions
        sessions += 1
        async with opened() as session:
            yield session

    monkeypatch.setattr(store.db, "session", counted)
    reads = 0
    connector = store.db.write_path.connector
    if isinstance(connector, SqliteFileConnector):
        read_now = connector.read_now

        def counted_read(query: Any) -> Any:
            nonlocal reads
            reads += 1
            return read_now(query)

        monkeypatch.setattr(connector, "read_now", counted_read)
    claimed = await store.outbox.claim("w", limit=10, probe=False)
    assert [row.id for row in claimed] == [first.id]  # the head of its lane only
    assert (sessions, reads) == (0, 0)
    assert await store.outbox.claim("w", limit=10) == []  # the lane is busy
    # The probe's read: on a SQLite file, on the write path's own connection (no session).
    assert (sessions, reads) == ((0, 1) if store.db.is_sqlite else (0, 0))
