"""Operator actions on webhook endpoints and their signing secrets: list, rotate with an
overlap, retire; audited, the cache port told, configured secrets refused."""

from __future__ import annotations

import pytest

from slackbridge.operations.errors import EndpointNotFound, SecretConfigured, SecretNotFound
from slackbridge.operations.webhook_endpoints import get_endpoint, list_endpoints
from slackbridge.operations.webhook_secrets import (
    describe_secrets,
    fingerprint,
    retire_secrets,
    rotate_secret,
)
from slackbridge.settings import WebhookEndpointConfig
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store

URL = "https://product.example/hooks"


async def test_endpoints_are_listed_and_got_by_id(store: Store) -> None:
    assert await list_endpoints(store.db, store.keyring) == []
    endpoint = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_old"))
    assert [e.id for e in await list_endpoints(store.db, store.keyring)] == [endpoint.id]
    assert (await get_endpoint(store.db, store.keyring, endpoint.id)).url == URL
    with pytest.raises(EndpointNotFound) as exc:
        await get_endpoint(store.db, store.keyring, 4242)
    assert str(exc.value) == (
        "no webhook endpoint has id 4242; list them with `slackbridge webhooks list`"
    )
    assert exc.value.code == "endpoint_not_found"


async def test_a_rotation_overlaps_until_the_old_secret_is_retired(store: Store) -> None:
    endpoint = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_old"))
    changes: list[str] = []
    rotated = await rotate_secret(
        store.db,
        store.keyring,
        endpoint.id,
        actor="console:ann",
        configured=[],
        on_change=lambda: changes.append("rotated"),
    )
    assert rotated.secret.startswith("whsec_") and rotated.secret not in repr(rotated)
    assert rotated.endpoint.signing_secrets == (rotated.secret, "whsec_old")
    shown = describe_secrets(rotated.endpoint)
    assert [(s.fingerprint, s.current) for s in shown] == [
        (fingerprint(rotated.secret), True),
        (fingerprint("whsec_old"), False),
    ]
    retired = await retire_secrets(
        store.db,
        store.keyring,
        endpoint.id,
        actor="console:ann",
        on_change=lambda: changes.append("retired"),
    )
    assert retired.count == 1 and retired.endpoint.signing_secrets == (rotated.secret,)
    assert changes == ["rotated", "retired"]
    audit = await store.audit.list()
    assert sorted((e.action, e.actor) for e in audit) == [
        ("webhook.secret_retired", "console:ann"),
        ("webhook.secret_rotated", "console:ann"),
    ]
    assert rotated.secret not in str([e.detail for e in audit])


async def test_one_previous_secret_is_retired_by_id(store: Store) -> None:
    endpoint = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_old"))
    await rotate_secret(store.db, store.keyring, endpoint.id, actor="cli", configured=[])
    second = await rotate_secret(store.db, store.keyring, endpoint.id, actor="cli", configured=[])
    oldest = second.endpoint.previous_secrets[-1]
    retired = await retire_secrets(store.db, store.keyring, endpoint.id, oldest.id, actor="cli")
    assert retired.count == 1
    assert "whsec_old" not in retired.endpoint.signing_secrets
    assert len(retired.endpoint.signing_secrets) == 2
    with pytest.raises(SecretNotFound) as exc:
        await retire_secrets(store.db, store.keyring, endpoint.id, oldest.id, actor="cli")
    assert exc.value.hint == f"list them with `slackbridge webhooks secrets list {endpoint.id}`"


async def test_retiring_with_nothing_to_retire_changes_nothing(store: Store) -> None:
    endpoint = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_only"))
    retired = await retire_secrets(store.db, store.keyring, endpoint.id, actor="cli")
    assert retired.count == 0 and retired.endpoint.signing_secrets == ("whsec_only",)
    assert await store.audit.list() == []
    with pytest.raises(EndpointNotFound):
        await retire_secrets(store.db, store.keyring, 4242, actor="cli")


async def test_a_secret_set_in_the_configuration_is_rotated_there(store: Store) -> None:
    endpoint = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_conf"))
    configured = [WebhookEndpointConfig(url=URL, secret="whsec_conf")]
    with pytest.raises(SecretConfigured) as exc:
        await rotate_secret(
            store.db, store.keyring, endpoint.id, actor="cli", configured=configured
        )
    assert str(exc.value).startswith(
        f"the secret of webhook endpoint {endpoint.id} is set in the configuration "
        "(SLACKBRIDGE_WEBHOOK_SECRET or SLACKBRIDGE_WEBHOOKS): put the new secret there"
    )
    assert (await get_endpoint(store.db, store.keyring, endpoint.id)).signing_secrets == (
        "whsec_conf",
    )
    with pytest.raises(EndpointNotFound):
        await rotate_secret(store.db, store.keyring, 4242, actor="cli", configured=[])
