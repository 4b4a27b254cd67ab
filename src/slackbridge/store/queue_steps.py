"""A lane runner's step as a write job that can run together with other lanes' steps.

A lane runner settles its lane's head and leases the lane's next row in one job
(:meth:`Queue.complete_and_take_next <slackbridge.store.queue.Queue.complete_and_take_next>`).
On PostgreSQL a busy gateway's batch holds a step of each of dozens of lanes; run one after the
other, each is a round trip on the batch's one connection, and the queue's other jobs wait for
the batch. A :class:`LaneStep` is a :class:`~slackbridge.store.write_path.Combinable` job: the
write path runs the steps of one group (one queue, one lease owner and length, the same
settled columns) as one statement (:meth:`PgQueue.settle_and_take_next_many
<slackbridge.store.queue_postgres.PgQueue.settle_and_take_next_many>`). Elsewhere (SQLite, a
caller's own transaction, a step that only Core can run) each runs on its own, as before.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from slackbridge.store.queue import Queue
from slackbridge.store.queue_postgres import raw_postgres
from slackbridge.store.queue_statements import QueueRow, pg_statements

__all__ = ["LaneStep", "StepResult"]

#: Whether the settled row was still the runner's, and the lane's next row leased (or None).
StepResult = tuple[bool, QueueRow | None]


@dataclass(eq=False)
class LaneStep:
    """Settle ``row_id`` (leased to ``owner``) with ``values`` and lease the next row of its
    ``lane`` for ``lease_seconds``, in ``queue``. It may join other lanes' steps when it is one
    plain statement on PostgreSQL (:meth:`Queue.step_is_one_statement
    <slackbridge.store.queue.Queue.step_is_one_statement>`)."""

    queue: Queue
    row_id: int
    owner: str
    lane: Mapping[str, Any]
    lease_seconds: float
    values: Mapping[str, Any]
    write_group: Hashable | None = field(init=False)

    def __post_init__(self) -> None:
        spec = self.queue.spec
        self.write_group = (
            (spec.table.name, self.owner, self.lease_seconds, tuple(sorted(self.values)))
            if self.queue.step_is_one_statement(self.lane, self.values)
            else None
        )

    def __call__(self, conn: Connection) -> StepResult:
        return self.queue.complete_and_take_next(
            conn, self.row_id, self.owner, self.lane, self.lease_seconds, self.values
        )

    def run_together(self, conn: Connection, jobs: Sequence[Any]) -> list[StepResult] | None:
        """Every step of ``jobs`` (this one's group) as one statement on PostgreSQL's write
        path; None elsewhere, or when two of them are of one lane (a runner has one step out at
        a time: never, as a rule)."""
        pg = raw_postgres(conn)
        if pg is None:
            return None
        steps: list[LaneStep] = [job for job in jobs if isinstance(job, LaneStep)]
        spec = self.queue.spec
        lanes = {tuple(step.lane[c] for c in spec.lane) for step in steps}
        if len(steps) != len(jobs) or len(lanes) != len(steps):
            return None
        now = self.queue.clock()
        expires = now + timedelta(seconds=self.lease_seconds)
        found = pg_statements(spec, conn.dialect).settle_and_take_next_many(
            pg, [(s.row_id, s.lane, s.values) for s in steps], self.owner, now, expires
        )
        return list[StepResult](found)
