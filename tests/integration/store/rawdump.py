"""Read every stored value bypassing the repositories (to prove what is on disk)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from slackbridge.store.db import Database
from slackbridge.store.models import metadata


async def raw_dump(db: Database) -> bytes:
    """Every value of every table, as bytes; plus the SQLite files themselves."""
    chunks: list[bytes] = []
    async with db.session() as s:
        for table in metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for value in row:
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
    if db.is_sqlite and db.url.database:
        path = Path(db.url.database)
        for candidate in (path, path.with_name(path.name + "-wal")):
            if candidate.exists():
                chunks.append(candidate.read_bytes())
    return b"\n".join(chunks)
