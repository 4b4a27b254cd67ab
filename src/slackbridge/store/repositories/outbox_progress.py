"""Progress notes on a leased outbox row, for operations made of several Slack calls.

A file upload is three steps (get an upload URL, send the bytes, complete the upload). The sender
writes down how far it got (``result``) before each step that changes Slack, so that a retry, or
another process after a crash, continues instead of starting over and sharing the file twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from slackbridge.store.models import OutboxRow, table_of
from slackbridge.store.repositories._base import Repository

__all__ = ["OutboxProgressRepository"]

_T = table_of(OutboxRow)


class OutboxProgressRepository(Repository):
    """Write a leased row's ``result`` without settling it."""

    async def save(self, row_id: int, owner: str, progress: Mapping[str, Any]) -> bool:
        """Store ``progress`` as the row's result; False if the lease is no longer ``owner``'s."""
        stmt = (
            update(_T)
            .where(_T.c.id == row_id, _T.c.lease_owner == owner, _T.c.status == "sending")
            .values(result=dict(progress))
            .execution_options(synchronize_session=False)
        )
        return await self._write(lambda conn: bool(conn.execute(stmt).rowcount == 1))
