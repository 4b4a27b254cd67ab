"""Tables that let several gateways share one PostgreSQL: leases, periodic runs, rate buckets.

* ``cluster_leases``: one row per singleton (or per slot of a bounded group, ``name#i``): who
  holds it until when, and a fencing token that grows by one every time the holder changes, so a
  holder that was replaced can be told from the current one in every write it makes.
* ``cluster_runs``: one row per (periodic job, period): the unique key makes "exactly once per
  period" a property of the database, whoever wins the race.
* ``rate_buckets``: Slack's rate-limit buckets shared by every gateway (token count, when it was
  last refilled and until when Slack's Retry-After holds the lane back, on the database's clock).

SQLite (one process) never writes them: its leases are held in memory and its buckets are the
process's own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from slackbridge.store.models_base import Base, utcnow

__all__ = ["ClusterLeaseRow", "ClusterRunRow", "RateBucketRow"]


class ClusterLeaseRow(Base):
    """A singleton's (or slot's) lease: ``holder`` until ``expires_at``, with its ``fence``."""

    __tablename__ = "cluster_leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    fence: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column()
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClusterRunRow(Base):
    """A periodic job ran for ``period`` (seconds since the epoch // its interval)."""

    __tablename__ = "cluster_runs"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    fence: Mapped[int] = mapped_column(BigInteger)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateBucketRow(Base):
    """One of Slack's rate-limit buckets, shared (times are the database's epoch seconds)."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
