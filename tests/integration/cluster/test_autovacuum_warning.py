"""A PostgreSQL server running without autovacuum is warned about at start-up (the queues'
settled rows leave dead versions that only vacuum clears); SQLite has nothing to warn about."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from slackbridge import cluster
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database


async def test_startup_warns_when_autovacuum_is_off(
    database: Database, keyring: Keyring, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient() as http:
        gateway = Gateway(
            settings=Settings(data_dir=tmp_path), db=database, keyring=keyring, http=http
        )
        with caplog.at_level(logging.WARNING, logger="slackbridge.cluster"):
            await cluster.on_startup(gateway)
    warned = [r for r in caplog.records if r.getMessage() == cluster.AUTOVACUUM_OFF]
    if not database.is_postgres:
        assert warned == []
        return
    async with database.session() as session:
        setting = (await session.execute(text("SHOW autovacuum"))).scalar()
    assert len(warned) == (1 if setting != "on" else 0), setting
