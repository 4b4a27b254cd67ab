"""Handing freshly stored inbox rows to this process's inbox worker without a claim query.

When the inbox worker runs in the same process as the ingress (always, with SQLite), the group
commit can write new rows already leased to that worker (status ``processing``, the worker as
lease owner, the usual lease expiry) and pass them over in memory once committed. The worker
then only has to complete them: one write per row saved, and no claim query scanning the inbox
under load. Nothing changes for durability: the rows are committed before Slack is answered,
and if the process dies its leases expire and any worker claims the rows again.

The worker :meth:`~Handoff.open` s the handoff while it runs; new rows are leased to it only
while fewer than :attr:`Handoff.limit` are waiting, so that a slow worker never holds more than
it can process before their leases run out (beyond that rows are stored ``pending`` and claimed
the ordinary way).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from slackbridge.store.repositories.inbox import InboxItem

__all__ = ["Handoff"]


class Handoff:
    """Inbox rows leased to the local worker at insert time, waiting for it (in order)."""

    def __init__(self, limit: int = 2000) -> None:
        self.limit = limit
        self._owner: str | None = None
        self._lease_seconds = 30.0
        self._items: deque[InboxItem] = deque()
        #: How many times new rows were refused (stored pending instead): a worker that sees
        #: this change claims from the table before handed-over rows with higher ids go.
        self.refused = 0

    def open(self, owner: str, lease_seconds: float) -> None:
        """The local worker is running as ``owner`` and takes rows leased for ``lease_seconds``."""
        self._owner = owner
        self._lease_seconds = lease_seconds

    def close(self) -> list[InboxItem]:
        """The worker stops: lease no more rows to it; returns the rows it didn't take (their
        leases expire and they are claimed again)."""
        self._owner = None
        left = list(self._items)
        self._items.clear()
        return left

    def lease(self) -> tuple[str, float] | None:
        """``(owner, lease seconds)`` for new rows, or None to store them ``pending``."""
        if self._owner is None or len(self._items) >= self.limit:
            self.refused += 1
            return None
        return self._owner, self._lease_seconds

    def push(self, items: Sequence[InboxItem]) -> None:
        """Hand over rows that were committed leased to the worker (the caller then signals
        the ``inbox`` wake-up)."""
        self._items.extend(items)

    def take(self, limit: int) -> list[InboxItem]:
        """Up to ``limit`` waiting rows, oldest first."""
        taken: list[InboxItem] = []
        while self._items and len(taken) < limit:
            taken.append(self._items.popleft())
        return taken

    def put_back(self, items: Sequence[InboxItem]) -> None:
        """Return rows taken but not processed yet (still leased to the worker): they are
        taken again first, in id order with the rows waiting."""
        if items:
            self._items = deque(sorted([*items, *self._items], key=lambda item: item.id))

    def __len__(self) -> int:
        return len(self._items)
