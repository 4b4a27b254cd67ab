"""A cheap fingerprint of the ``slack_apps`` table, so that processes caching the apps notice
at once when another process (``slackbridge apps provision``) adds or changes one."""

from __future__ import annotations

from sqlalchemy import func, select

from slackbridge.store.db import Database
from slackbridge.store.models import SlackAppRow, table_of

__all__ = ["apps_version"]

_T = table_of(SlackAppRow)


async def apps_version(db: Database) -> tuple[int, int, str]:
    """``(count, highest id, latest update)``: changes whenever an app is added or updated."""
    stmt = select(func.count(), func.max(_T.c.id), func.max(_T.c.updated_at))
    async with db.session() as session:
        count, top, latest = (await session.execute(stmt)).one()
    return int(count), int(top or 0), str(latest or "")
