"""The database files hold secrets' envelopes and every message: only their owner may read them.

The SQLite file, its ``-wal`` and ``-shm`` companions and the key file are created mode 0600, the
data dir (when slackbridge creates it) 0700, whatever the process's umask lets through.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from slackbridge.store.crypto import KEY_FILE_NAME, Keyring
from slackbridge.store.db import open_database


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The umask most systems start with (files 0644, dirs 0755)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
async def test_sqlite_files_are_created_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = data_dir / "slackbridge.db"
    db = open_database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.transaction() as tx:
            await tx.execute(text("CREATE TABLE t (x TEXT)"))
            await tx.execute(text("INSERT INTO t VALUES ('secret')"))
        assert _mode(path) == 0o600
        assert _mode(Path(f"{path}-wal")) == 0o600  # os.stat fails if it is missing
        assert _mode(Path(f"{path}-shm")) == 0o600
        assert _mode(data_dir) == 0o700
    finally:
        await db.close()


@pytest.mark.usefixtures("permissive_umask")
async def test_an_existing_data_dir_keeps_its_mode(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}")
    try:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
    finally:
        await db.close()
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "sb.db") == 0o600


@pytest.mark.usefixtures("permissive_umask")
def test_generated_key_file_and_its_data_dir_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    Keyring.load(None, data_dir)
    assert _mode(data_dir / KEY_FILE_NAME) == 0o600
    assert _mode(data_dir) == 0o700
