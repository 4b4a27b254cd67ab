"""Upgrading a store made before API key scopes: its keys keep every permission everywhere;
new keys store their scope on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database, open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.api_keys import (
    FULL_SCOPE,
    ApiKeyScope,
    ApiKeysRepository,
    hash_api_key,
)

_OLD_KEY = "sbk_0ldk3y00_" + "s" * 40


async def _check(db: Database, keyring: Keyring) -> None:
    await upgrade_database(db, "0001")
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO api_keys (name, prefix, hash, created_at) "
                "VALUES ('old', '0ldk3y00', :hash, :now)"
            ),
            {"hash": hash_api_key(_OLD_KEY), "now": datetime.now(UTC)},
        )
    await upgrade_database(db)
    keys = ApiKeysRepository(db, keyring)
    old = await keys.verify(_OLD_KEY)
    assert old is not None and old.scope == FULL_SCOPE
    assert old.scope.allows("admin") and old.scope.everywhere
    new = await keys.create("new")
    assert new.key.scope.permissions == {"read", "write"} and not new.key.scope.allows("admin")
    limited = ApiKeyScope(
        permissions=frozenset({"read"}), team_ids=("T0ACME0001",), product_refs=("b", "a", "b")
    )
    made = await keys.create("limited", limited)
    found = await keys.verify(made.secret)
    assert found is not None and found.scope == ApiKeyScope(
        permissions=frozenset({"read"}), team_ids=("T0ACME0001",), product_refs=("a", "b")
    )


async def test_sqlite_keys_made_before_scopes_keep_everything(tmp_path: Path) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}")
    try:
        await _check(db, Keyring.load(None, tmp_path))
    finally:
        await db.close()


async def test_postgres_keys_made_before_scopes_keep_everything(
    pg_schema: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = pg_schema
    db = open_database(url, schema=schema)
    try:
        await _check(db, Keyring.load(None, tmp_path))
    finally:
        await db.close()
