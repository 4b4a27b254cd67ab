"""Deliveries answered synchronously (``product/sync.py``): recorded as delivered.

A synchronous call and the async delivery of the same webhook share one row (one
``webhook_id``). Whichever is written first wins the insert; a synchronous answer that comes
after the async row was enqueued turns that row into ``delivered`` as long as it is still
waiting (pending, not leased), so the endpoint isn't sent the webhook a second time. A failed
or late call releases the hold on the async row at once (:func:`release_sync_hold`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, update

from slackbridge.store.db import Database
from slackbridge.store.models import DeliveryRow, table_of
from slackbridge.store.repositories._base import dialect_insert
from slackbridge.store.repositories.deliveries import NewDelivery

__all__ = ["record_sync_delivery", "release_sync_hold"]

_T = table_of(DeliveryRow)


async def record_sync_delivery(
    db: Database, item: NewDelivery, status_code: int, now: datetime
) -> None:
    """Record that ``item`` reached its endpoint synchronously (answer ``status_code``)."""
    insert = dialect_insert(db, _T)
    stmt = insert.values(
        webhook_id=item.webhook_id,
        endpoint_id=item.endpoint_id,
        event_type=item.event_type,
        ordering_key=item.ordering_key,
        payload=item.payload,
        status="delivered",
        attempts=1,
        not_before=now,
        created_at=now,
        delivered_at=now,
        last_status=status_code,
    ).on_conflict_do_update(
        index_elements=["webhook_id"],
        set_={
            "status": "delivered",
            "delivered_at": now,
            "last_status": status_code,
            "attempts": _T.c.attempts + 1,
        },
        where=and_(_T.c.status == "pending", _T.c.lease_owner.is_(None)),
    )
    async with db.transaction() as tx:
        await tx.execute(stmt)


async def release_sync_hold(db: Database, webhook_id: str, now: datetime) -> int:
    """Let the held async delivery of ``webhook_id`` go now (its synchronous call failed)."""
    stmt = (
        update(_T)
        .where(_T.c.webhook_id == webhook_id, _T.c.status == "pending", _T.c.not_before > now)
        .values(not_before=now)
        .execution_options(synchronize_session=False)
    )
    async with db.transaction() as tx:
        result = await tx.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]
