"""How many rows the next write of a retention purge deletes. Pure.

A purge of an hour of heavy traffic is millions of rows. It goes in chunks, each one write of
the store's write path, so that the ingress's commits go between them. How long a chunk holds
the writer is what Slack's acks wait for: on SQLite the write runs on the event loop's thread,
so nothing else runs meanwhile. A fixed number of rows took a few milliseconds on a quiet
machine and several times that under load (the soak: the acks' p99 doubled while purges ran,
with 500 rows a chunk). So the size follows the time: each chunk's is the last one's scaled
towards :data:`TARGET_SECONDS` (the write path's own slice on SQLite), at most doubled or halved
at a time, and kept within :data:`LEAST` and :data:`MOST` rows.
"""

from __future__ import annotations

__all__ = ["FIRST", "LEAST", "MOST", "TARGET_SECONDS", "next_chunk"]

#: The first chunk's rows.
FIRST = 500
#: Never fewer rows a chunk: below that, a chunk's fixed cost (its write, its commit) dominates.
LEAST = 50
#: Never more rows a chunk.
MOST = 5000
#: The time a chunk aims at (seconds).
TARGET_SECONDS = 0.002


def next_chunk(
    size: int,
    took: float,
    *,
    target: float = TARGET_SECONDS,
    least: int = LEAST,
    most: int = MOST,
) -> int:
    """The next chunk's rows after one of ``size`` rows took ``took`` seconds."""
    wanted = size * 2 if took <= 0 else round(size * target / took)
    wanted = max(size // 2, min(size * 2, wanted))
    return max(least, min(most, wanted))
