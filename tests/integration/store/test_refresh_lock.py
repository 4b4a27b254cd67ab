"""Single-flight token refresh: one holder per installation at a time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.errors import NotFoundError, RefreshConflict
from slackbridge.store.repositories.apps import AppSpec
from slackbridge.store.repositories.installations import InstallationSpec, UserTokenSpec
from slackbridge.store.store import Store

from .conftest import FakeClock, wait_until


async def _installation(store: Store, expires_in: timedelta) -> int:
    app = await store.apps.upsert(AppSpec(name="default", token_rotation=True))
    saved = await store.installations.save(
        InstallationSpec(
            app_ref=app.id,
            team_id="T1",
            bot_token="xoxe.xoxb-old",
            bot_refresh_token="xoxe-1-refresh-0",
            bot_token_expires_at=store.clock() + expires_in,
            user_token=UserTokenSpec("U1", token="xoxe.xoxp-old", refresh_token="xoxe-1-u0"),
        )
    )
    return saved.installation.id


def _dedicated(database: Database) -> tuple[Database, str]:
    """A second handle on the same database whose PostgreSQL connections we can recognize."""
    name = f"sb-test-{uuid.uuid4().hex[:12]}"
    if database.is_postgres:
        url = database.url.render_as_string(hide_password=False)
        return open_database(url, schema=database.schema, application_name=name), name
    return database, name


async def _lock_waiters(database: Database, name: str) -> int:
    async with database.session() as s:
        result = await s.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = :name AND wait_event_type = 'Lock'"
            ),
            {"name": name},
        )
        return int(result.scalar_one())


async def test_second_holder_waits_and_sees_the_fresh_token(
    database: Database, keyring: Keyring, clock: FakeClock
) -> None:
    handle, name = _dedicated(database)
    store = Store(handle, keyring, clock=clock)
    try:
        installation_id = await _installation(store, timedelta(minutes=1))
        events: list[str] = []
        a_inside = asyncio.Event()
        release_a = asyncio.Event()
        b_started = asyncio.Event()

        async def holder_a() -> None:
            async with store.installations.lock_for_refresh(installation_id) as lock:
                events.append("a-in")
                await lock.save_bot_token(
                    "xoxe.xoxb-a", "xoxe-1-refresh-a", clock.now + timedelta(hours=12)
                )
                a_inside.set()
                await release_a.wait()
                events.append("a-out")

        async def holder_b() -> str | None:
            b_started.set()
            async with store.installations.lock_for_refresh(installation_id) as lock:
                events.append("b-in")
                return lock.installation.bot_token

        task_a = asyncio.create_task(holder_a())
        task_b: asyncio.Task[str | None] | None = None
        try:
            await a_inside.wait()
            task_b = asyncio.create_task(holder_b())
            await b_started.wait()
            if database.is_postgres:
                # B's connection is blocked on A's row lock.
                async def blocked() -> bool:
                    return await _lock_waiters(database, name) == 1

                await wait_until(blocked, what="the second holder to wait for the row lock")
            else:
                # B queues on the in-process lock at once; give an unlocked B time to get in.
                for _ in range(3):
                    await asyncio.sleep(0)
                    await store.installations.get(installation_id)
            assert events == ["a-in"]
            release_a.set()
            seen_by_b = await task_b
            await task_a
        finally:
            # On failure, don't leave a transaction open (it would block the schema's drop).
            release_a.set()
            for task in (task_a, task_b):
                if task is not None and not task.done():
                    task.cancel()
            await asyncio.gather(task_a, *([task_b] if task_b else []), return_exceptions=True)
        assert events == ["a-in", "a-out", "b-in"]
        assert seen_by_b == "xoxe.xoxb-a"
    finally:
        if handle is not database:
            await handle.close()


async def test_concurrent_refreshers_call_slack_once(cstore: Store, clock: FakeClock) -> None:
    installation_id = await _installation(cstore, timedelta(minutes=1))
    used_refresh_tokens: list[str] = []

    async def slack_refresh(refresh_token: str) -> tuple[str, str]:
        # Slack's refresh tokens are single use.
        assert refresh_token not in used_refresh_tokens, "refresh token used twice"
        used_refresh_tokens.append(refresh_token)
        await asyncio.sleep(0)
        n = len(used_refresh_tokens)
        return f"xoxe.xoxb-{n}", f"xoxe-1-refresh-{n}"

    async def refresh_if_needed() -> str:
        async with cstore.installations.lock_for_refresh(installation_id) as lock:
            inst = lock.installation
            assert inst.bot_token_expires_at is not None
            if inst.bot_token_expires_at > clock.now + timedelta(minutes=10):
                return "fresh"
            assert inst.bot_refresh_token is not None
            token, refresh = await slack_refresh(inst.bot_refresh_token)
            await lock.save_bot_token(token, refresh, clock.now + timedelta(hours=12))
            return "refreshed"

    outcomes = await asyncio.gather(*(refresh_if_needed() for _ in range(5)))
    assert sorted(outcomes) == ["fresh"] * 4 + ["refreshed"]
    assert used_refresh_tokens == ["xoxe-1-refresh-0"]
    stored = await cstore.installations.get(installation_id)
    assert stored is not None
    assert (stored.bot_token, stored.bot_refresh_token) == ("xoxe.xoxb-1", "xoxe-1-refresh-1")


async def test_user_token_refresh_through_the_lock(cstore: Store, clock: FakeClock) -> None:
    installation_id = await _installation(cstore, timedelta(hours=1))
    async with cstore.installations.lock_for_refresh(installation_id) as lock:
        with pytest.raises(RefreshConflict, match="read the token"):
            await lock.save_user_token("U1", "x", None, None)
        current = await lock.user_token("U1")
        assert current is not None and current.refresh_token == "xoxe-1-u0"
        saved = await lock.save_user_token(
            "U1", "xoxe.xoxp-new", "xoxe-1-u1", clock.now + timedelta(hours=12)
        )
        assert saved.token == "xoxe.xoxp-new"
        assert await lock.user_token("U9") is None
    token = await cstore.installations.get_user_token(installation_id, "U1")
    assert token is not None and token.refresh_token == "xoxe-1-u1"


async def test_sqlite_save_refuses_a_token_changed_by_another_process(
    cstore: Store, clock: FakeClock
) -> None:
    if cstore.db.is_postgres:
        pytest.skip("PostgreSQL holds the row lock, so no other writer can change the token")
    installation_id = await _installation(cstore, timedelta(minutes=1))
    async with cstore.installations.lock_for_refresh(installation_id) as lock:
        # Another process (not using this process's lock) refreshed meanwhile.
        async with cstore.db.transaction() as tx:
            await tx.execute(
                text("UPDATE installations SET bot_refresh_token_enc = :v WHERE id = :id"),
                {"v": b"other", "id": installation_id},
            )
        with pytest.raises(RefreshConflict, match="refreshed by someone else"):
            await lock.save_bot_token("xoxe.xoxb-stale", "r", clock.now)


async def test_unknown_installation(store: Store) -> None:
    with pytest.raises(NotFoundError):
        async with store.installations.lock_for_refresh(12345):
            pass
