"""Upgrading a store made before the bridge kept each message's thread (0006 → 0007), on both
engines: its messages stay, their thread unknown (catch-up then never infers their deletion),
until the live path hears one again; new messages record theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.migrate import current_revision, head_revision, upgrade_database
from slackbridge.store.repositories.bridge_inbound import InboundRepository
from slackbridge.store.store import Store

ROOT, R1, R2, R3 = (f"179526060{i}.000001" for i in range(4))


async def _check(db: Database, keyring: Keyring) -> None:
    await upgrade_database(db, "0006")
    now = datetime.now(UTC)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO bridge_conversations (key, team_id, mode, state, channel_id, spec, "
                "created_at, updated_at, last_activity_at) VALUES ('room-1', 'T1', 'noisy', "
                "'open', 'C1', '{}', :now, :now, :now)"
            ),
            {"now": now},
        )
        conversation = (
            await conn.execute(text("SELECT id FROM bridge_conversations"))
        ).scalar_one()
        for ts in (R1, R2):
            await conn.execute(
                text(
                    "INSERT INTO bridge_messages (conversation_id, origin, ts, state, author, "
                    "content_digest, file_operation_ids, file_ids, created_at, updated_at) "
                    "VALUES (:c, 'slack', :ts, 'sent', '{}', 'd', '[]', '[]', :now, :now)"
                ),
                {"c": conversation, "ts": ts, "now": now},
            )
    result = await upgrade_database(db)
    assert (result.before, result.after) == ("0006", head_revision())
    assert await current_revision(db) == head_revision()

    store = Store(db, keyring)
    old = await store.bridge_messages.by_ts(conversation, R1)
    assert old is not None and old.thread_ts is None and old.content_digest == "d"
    # Heard again (an edit): its thread is filled in; a new reply records its own.
    again = await store.bridge_messages.record_slack_message(conversation, R1, thread_ts=R1)
    assert not again.created and again.message.thread_ts == R1
    new = await store.bridge_messages.record_slack_message(conversation, R3, thread_ts=R1)
    assert new.created and new.message.thread_ts == R1
    # A thread known is kept.
    kept = await store.bridge_messages.record_slack_message(conversation, R3, thread_ts=R3)
    assert kept.message.thread_ts == R1

    recorded = await InboundRepository(db, keyring).recorded(conversation)
    assert {ts: r.thread_ts for ts, r in recorded.items()} == {R1: R1, R2: None, R3: R1}


async def test_sqlite_messages_recorded_before_threads_keep_their_rows(tmp_path: Path) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}")
    try:
        await _check(db, Keyring.load(None, tmp_path))
    finally:
        await db.close()


async def test_postgres_messages_recorded_before_threads_keep_their_rows(
    pg_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = pg_schema
    db = open_database(url, schema=schema)
    try:
        await _check(db, Keyring.load(None, tmp_path))
    finally:
        await db.close()
