"""The webhooks sent to the product (deliveries): list them, send dead ones again.

They work on the store; a running gateway picks replayed deliveries up within a second.
"""

from __future__ import annotations

from collections.abc import Sequence

from slackbridge.operations.errors import DeliveriesNotRetryable, InvalidInput
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.deliveries import DeliveriesRepository, Delivery

__all__ = [
    "DELIVERY_STATUSES",
    "Delivery",
    "list_deliveries",
    "retry_all_dead",
    "retry_deliveries",
]

#: Every status a delivery can have.
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "dead")


async def list_deliveries(
    db: Database,
    keyring: Keyring,
    *,
    status: str | None = None,
    endpoint_id: int | None = None,
    event_type: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Deliveries, newest first (with ``status``, to ``endpoint_id``, of ``event_type``), at
    most ``limit``. Raises :class:`InvalidInput` for an unknown status or a limit below 1."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}", f"Use one of: {', '.join(DELIVERY_STATUSES)}."
        )
    if limit < 1:
        raise InvalidInput("the limit must be at least 1")
    return await DeliveriesRepository(db, keyring).list(
        status=status, endpoint_id=endpoint_id, event_type=event_type, limit=limit
    )


async def retry_deliveries(db: Database, keyring: Keyring, ids: Sequence[int]) -> int:
    """Send the dead deliveries ``ids`` again (attempts start over, the webhook-id stays the
    same); how many were queued. Raises :class:`DeliveriesNotRetryable`, changing nothing, when
    any of them is not dead or does not exist."""
    repo = DeliveriesRepository(db, keyring)
    refused: list[tuple[int, str | None]] = []
    for delivery_id in ids:
        found = await repo.get(delivery_id)
        if found is None or found.status != "dead":
            refused.append((delivery_id, found.status if found else None))
    if refused:
        raise DeliveriesNotRetryable(refused)
    return await repo.retry(ids)


async def retry_all_dead(db: Database, keyring: Keyring, *, endpoint_id: int | None = None) -> int:
    """Send every dead delivery (to ``endpoint_id``, or to any endpoint) again; how many."""
    return await DeliveriesRepository(db, keyring).retry_dead(endpoint_id=endpoint_id)
