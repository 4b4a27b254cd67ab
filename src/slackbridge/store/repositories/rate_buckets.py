"""Slack's rate-limit buckets shared by every gateway on one PostgreSQL database.

One transaction per decision: the buckets a call touches are locked in key order (so two
decisions never deadlock; missing ones are made first), handed with the database's clock to a
pure function that decides, and written back in one statement: three round trips hold the
locks (lock, update, commit), two when the answer is "wait" and nothing changes. Each bucket
row is a few numbers; contention is per workspace (its ``chat.postMessage`` ceiling) and lasts
one short transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import text

from slackbridge.store.db import Database

__all__ = ["BucketState", "RateBucketsRepository"]

T = TypeVar("T")

#: The tokens of a bucket row that was just made: the decision starts it as a new bucket.
NEW = -1.0

_NOW = text("SELECT extract(epoch FROM clock_timestamp())::float8")
_ENSURE = text(
    """
    INSERT INTO rate_buckets (key, tokens, updated_at, blocked_until)
    SELECT k, -1.0, 0.0, 0.0 FROM unnest(CAST(:keys AS text[])) AS k
    ON CONFLICT (key) DO NOTHING
    """
)
# The database's clock comes with the rows (one round trip while the locks are held).
_LOCK = text(
    """
    SELECT key, tokens, updated_at, blocked_until,
           extract(epoch FROM clock_timestamp())::float8 AS now
    FROM rate_buckets
    WHERE key = ANY(CAST(:keys AS text[])) ORDER BY key FOR UPDATE
    """
)
_SAVE = text(
    """
    UPDATE rate_buckets AS b
    SET tokens = c.tokens, updated_at = c.updated_at, blocked_until = c.blocked_until
    FROM unnest(CAST(:keys AS text[]), CAST(:tokens AS float8[]), CAST(:updated AS float8[]),
                CAST(:blocked AS float8[])) AS c(key, tokens, updated_at, blocked_until)
    WHERE b.key = c.key
    """
)
_PRUNE = text(
    """
    DELETE FROM rate_buckets
    WHERE blocked_until < CAST(:now AS float8)
      AND updated_at < CAST(:now AS float8) - CAST(:idle AS float8)
    """
)


@dataclass
class BucketState:
    """A stored bucket: ``tokens`` (:data:`NEW` when never drawn on), when it was last
    refilled and until when its lane is held back (epoch seconds of the database's clock)."""

    tokens: float
    updated_at: float
    blocked_until: float = 0.0

    @property
    def new(self) -> bool:
        return self.tokens < 0


class RateBucketsRepository:
    """The ``rate_buckets`` table (PostgreSQL only: one process keeps its buckets in memory)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def decide(
        self,
        keys: Sequence[str],
        decision: Callable[[float, dict[str, BucketState]], tuple[T, dict[str, BucketState]]],
    ) -> T:
        """Lock ``keys``' buckets, call ``decision(now, states)`` and store the states it
        returns; returns its answer. ``now`` is the database's clock in epoch seconds."""
        ordered = sorted(set(keys))
        async with self._db.transaction() as session:
            rows = (await session.execute(_LOCK, {"keys": ordered})).all()
            if len(rows) < len(ordered):
                # First use of a bucket: make its row, then lock them all in order.
                await session.execute(_ENSURE, {"keys": ordered})
                rows = (await session.execute(_LOCK, {"keys": ordered})).all()
            now = float(rows[0][4])
            states = {
                str(key): BucketState(float(tokens), float(updated), float(blocked))
                for key, tokens, updated, blocked, _now in rows
            }
            answer, changed = decision(now, states)
            if changed:
                items = sorted(changed.items())
                await session.execute(
                    _SAVE,
                    {
                        "keys": [key for key, _ in items],
                        "tokens": [state.tokens for _, state in items],
                        "updated": [state.updated_at for _, state in items],
                        "blocked": [state.blocked_until for _, state in items],
                    },
                )
        return answer

    async def prune(self, idle_seconds: float) -> int:
        """Forget buckets untouched for ``idle_seconds`` (full again) and not held back."""
        async with self._db.transaction() as session:
            now = float((await session.execute(_NOW)).scalar_one())
            result = await session.execute(_PRUNE, {"now": now, "idle": idle_seconds})
        return int(getattr(result, "rowcount", 0) or 0)
