"""The ingress's inbox insert on a SQLite file: one multi-row statement on the raw connection.

This is the write job the group commit submits to the write path (``store/write_path.py``,
which runs it on its own SQLite connection, ``store/connector_sqlite.py``): one query for the
keys already stored, one multi-row ``INSERT`` of the new rows, all on the ``sqlite3`` connection
under the write path's transaction, without SQLAlchemy's cost per row. New rows may be written
already leased to this process's inbox worker (see ``store/inbox_handoff.py``).

Timestamps go through SQLAlchemy's own bind processor for the column type and the headers are
JSON, so the rows read back exactly as the inbox repository's; its ``insert_many`` stays the path
for PostgreSQL (and in-memory SQLite, whose connection is the async engine's).
``tests/integration/gateway/ingress/test_inbox_writer.py`` checks that the two agree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.models import InboxRow, table_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.inbox import (
    InboxInsertResult,
    InboxItem,
    InboxRepository,
    NewInboxItem,
)

__all__ = ["InboxIngest", "SqliteInboxInsert"]

_T = table_of(InboxRow)
_COLUMNS = (
    "dedupe_key",
    "kind",
    "body",
    "app_ref",
    "team_id",
    "headers",
    "received_at",
    "status",
    "attempts",
    "not_before",
    "lease_owner",
    "lease_expires_at",
)
_CHUNK = 500  # rows per statement: well under SQLite's bound-parameter limit


class SqliteInboxInsert:
    """One batch of inbox rows to insert (a write job: call it with the write path's connection).

    ``lease = (owner, seconds)`` writes the new rows leased to that owner (claimed at once,
    ``attempts`` 1); :meth:`outcome` then turns the job's result into the insert results and
    the leased rows, in order."""

    def __init__(
        self,
        items: Sequence[NewInboxItem],
        lease: tuple[str, float] | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.items = items
        self.lease = lease
        self._clock = clock

    def _rows(
        self,
        process: Callable[[Any], Any] | None,
        items: Sequence[NewInboxItem],
        now: datetime,
        lease: tuple[str, datetime] | None,
        *,
        first_id: int,
    ) -> list[Any]:
        """The statement's parameters for ``items`` (ids from ``first_id`` on), flat: the id,
        then :data:`_COLUMNS` in order.

        The batch's timestamps are converted once; the headers are JSON (orjson: the same
        document as SQLAlchemy's JSON type writes, without its cost per row)."""

        def when(value: datetime) -> Any:
            return process(value) if process is not None else value

        stamp = when(now)
        status, attempts = ("processing", 1) if lease else ("pending", 0)
        owner, expires = (lease[0], when(lease[1])) if lease else (None, None)
        params: list[Any] = []
        for row_id, item in enumerate(items, first_id):
            params += (
                row_id,
                item.dedupe_key,
                item.kind,
                item.body,
                item.app_ref,
                item.team_id,
                orjson.dumps(dict(item.headers)).decode(),
                stamp,
                status,
                attempts,
                stamp,
                owner,
                expires,
            )
        return params

    def __call__(self, conn: Connection) -> tuple[dict[str, int], datetime, datetime | None]:
        # Few statements, each one step, on the raw connection. Under the write lock (the
        # write path's BEGIN IMMEDIATE) nothing else can insert, so "new" keys and max(id) stay
        # true until COMMIT.
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        dialect = conn.dialect
        process = _T.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
        items, lease = self.items, self.lease
        now = self._clock()
        expires = now + timedelta(seconds=lease[1]) if lease else None
        row_lease = (lease[0], expires) if lease and expires else None
        inserted: dict[str, int] = {}
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            keys = [item.dedupe_key for item in chunk]
            marks = ", ".join("?" * len(keys))
            known = {
                key
                for (key,) in raw.execute(
                    f"SELECT dedupe_key FROM inbox WHERE dedupe_key IN ({marks})", keys
                )
            }
            new: list[NewInboxItem] = []
            for item in chunk:
                if item.dedupe_key not in known:
                    known.add(item.dedupe_key)  # a repeat within the batch is a duplicate
                    new.append(item)
            if not new:
                continue
            (last,) = raw.execute("SELECT coalesce(max(id), 0) FROM inbox").fetchone()
            one = "(" + ", ".join("?" * (len(_COLUMNS) + 1)) + ")"
            sql = f"INSERT INTO inbox (id, {', '.join(_COLUMNS)}) VALUES " + ", ".join(
                [one] * len(new)
            )
            raw.execute(sql, self._rows(process, new, now, row_lease, first_id=last + 1))
            inserted.update((item.dedupe_key, last + 1 + n) for n, item in enumerate(new))
        return inserted, now, expires

    def outcome(
        self, written: tuple[dict[str, int], datetime, datetime | None]
    ) -> tuple[list[InboxInsertResult], list[InboxItem]]:
        """The insert results (in order) and the rows written leased, from the job's result."""
        inserted, now, expires = dict(written[0]), written[1], written[2]
        lease = self.lease
        results: list[InboxInsertResult] = []
        leased: list[InboxItem] = []
        for item in self.items:
            row_id = inserted.pop(item.dedupe_key, None)
            results.append(InboxInsertResult(item.dedupe_key, row_id is not None))
            if row_id is not None and lease is not None:
                leased.append(
                    InboxItem(
                        id=row_id,
                        dedupe_key=item.dedupe_key,
                        app_ref=item.app_ref,
                        team_id=item.team_id,
                        kind=item.kind,
                        body=item.body,
                        headers=dict(item.headers),
                        received_at=now,
                        status="processing",
                        attempts=1,
                        not_before=now,
                        lease_owner=lease[0],
                        lease_expires_at=expires,
                        last_error=None,
                        payload=item.payload,
                    )
                )
        return results, leased


class InboxIngest:
    """The ingress's inbox writes, whatever the engine: urgent jobs of the write path."""

    def __init__(
        self, db: Database, keyring: Keyring, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._db = db
        self._clock = clock
        self._repo = InboxRepository(db, keyring, clock)

    async def insert_leased(
        self, items: Sequence[NewInboxItem], lease: tuple[str, float] | None
    ) -> tuple[list[InboxInsertResult], list[InboxItem]]:
        """Store ``items`` in one transaction (results in order; a key already stored, or
        repeated within ``items``, is reported as not inserted). On a SQLite file the new rows
        are leased to ``lease = (owner, seconds)`` and returned, for the local worker to take
        without a claim; elsewhere they are stored pending for any worker to claim, and no
        rows are returned."""
        if not items:
            return [], []
        if self._db.sqlite_file is None:
            return await self._repo.insert_many(items, urgent=True), []
        job = SqliteInboxInsert(items, lease, self._clock)
        return job.outcome(await self._db.write(job, urgent=True))

    async def insert_many(self, items: Sequence[NewInboxItem]) -> list[InboxInsertResult]:
        """Store ``items`` pending (see :meth:`insert_leased`)."""
        results, _ = await self.insert_leased(items, None)
        return results
