"""What the plain-SQL tests of both engines share: Core's versions of the queues' operations, to
compare the plain statements with (the stores are fixtures: ``conftest.py``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from slackbridge.store.db import Database

__all__ = ["Undo", "core_claim", "in_session", "without_ids"]


def without_ids(value: Any) -> dict[str, Any]:
    """A stored row without the values that differ between two stores of the same rows."""
    row = asdict(value)
    for name in ("id", "webhook_id", "dedupe_key", "ordering_key"):
        row.pop(name, None)
    return row


async def in_session(db: Database, job: Any) -> Any:
    """``job`` in a session's transaction: not the write path's connection, so through Core."""
    async with db.transaction() as session:
        return await session.run_sync(lambda sync: job(sync.connection()))


class Undo(Exception):
    """Rolls a session's claim back, so that the plain claim sees the same rows."""


async def core_claim(db: Database, queue: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """What Core's claim takes (in a session), rolled back afterwards."""
    rows: list[dict[str, Any]] = []
    with pytest.raises(Undo):
        async with db.transaction() as session:
            rows = await session.run_sync(
                lambda sync: [dict(r) for r in queue.claim_rows(sync.connection(), **kwargs)]
            )
            raise Undo
    return rows
