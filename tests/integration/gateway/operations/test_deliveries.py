"""Operator actions on deliveries: list them, send dead ones again (and refuse the others)."""

from __future__ import annotations

import pytest

from slackbridge.operations.deliveries import list_deliveries, retry_all_dead, retry_deliveries
from slackbridge.operations.errors import DeliveriesNotRetryable, InvalidInput
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store


async def _deliveries(store: Store) -> tuple[int, int, int]:
    """Three deliveries to two endpoints: (dead, pending, dead at the second endpoint)."""
    one = await store.endpoints.upsert(EndpointSpec("https://one.example/hooks", secret="whsec_1"))
    two = await store.endpoints.upsert(EndpointSpec("https://two.example/hooks", secret="whsec_2"))
    await store.deliveries.enqueue(
        [
            NewDelivery("msg_a", one.id, "message.created", "{}", ordering_key="a"),
            NewDelivery("msg_b", one.id, "reaction.added", "{}", ordering_key="b"),
            NewDelivery("msg_c", two.id, "message.created", "{}", ordering_key="c"),
        ]
    )
    claimed = {d.webhook_id: d for d in await store.deliveries.claim("w")}
    for webhook_id in ("msg_a", "msg_c"):
        await store.deliveries.mark_dead(claimed[webhook_id].id, "w", error="gave up")
    await store.deliveries.release(claimed["msg_b"].id, "w")
    return claimed["msg_a"].id, claimed["msg_b"].id, claimed["msg_c"].id


async def test_deliveries_are_listed_newest_first_with_filters(store: Store) -> None:
    dead, pending, other = await _deliveries(store)
    every = await list_deliveries(store.db, store.keyring)
    assert [d.id for d in every] == [other, pending, dead]
    assert [d.id for d in await list_deliveries(store.db, store.keyring, status="dead")] == [
        other,
        dead,
    ]
    typed = await list_deliveries(store.db, store.keyring, event_type="reaction.added")
    assert [d.id for d in typed] == [pending]
    first = every[-1].endpoint_id
    assert [d.id for d in await list_deliveries(store.db, store.keyring, endpoint_id=first)] == [
        pending,
        dead,
    ]
    assert len(await list_deliveries(store.db, store.keyring, limit=1)) == 1


async def test_an_unknown_status_is_refused(store: Store) -> None:
    with pytest.raises(InvalidInput) as exc:
        await list_deliveries(store.db, store.keyring, status="lost")
    assert exc.value.reason == "unknown status 'lost'"
    assert exc.value.hint == "Use one of: pending, delivering, delivered, dead."
    with pytest.raises(InvalidInput):
        await list_deliveries(store.db, store.keyring, limit=0)


async def test_dead_deliveries_are_sent_again(store: Store) -> None:
    dead, _pending, _other = await _deliveries(store)
    assert await retry_deliveries(store.db, store.keyring, [dead]) == 1
    again = await store.deliveries.get(dead)
    assert again is not None and again.status == "pending" and again.attempts == 0
    assert await retry_all_dead(store.db, store.keyring) == 1
    assert await list_deliveries(store.db, store.keyring, status="dead") == []


async def test_retrying_what_is_not_dead_changes_nothing(store: Store) -> None:
    dead, pending, _other = await _deliveries(store)
    with pytest.raises(DeliveriesNotRetryable) as exc:
        await retry_deliveries(store.db, store.keyring, [dead, pending, 999_999])
    assert exc.value.refused == ((pending, "pending"), (999_999, None))
    assert exc.value.reason == (
        f"delivery {pending} is pending, not dead; delivery 999999 does not exist"
    )
    still = await store.deliveries.get(dead)
    assert still is not None and still.status == "dead"


async def test_every_dead_delivery_of_one_endpoint(store: Store) -> None:
    dead, _pending, other = await _deliveries(store)
    endpoint = await store.deliveries.get(other)
    assert endpoint is not None
    assert await retry_all_dead(store.db, store.keyring, endpoint_id=endpoint.endpoint_id) == 1
    left = await list_deliveries(store.db, store.keyring, status="dead")
    assert [d.id for d in left] == [dead]
