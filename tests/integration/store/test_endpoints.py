"""Webhook endpoints at rest: URLs encrypted (and those stored in plaintext before, encrypted
at the next start without losing anything), several signing secrets during a rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import Database, open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store
from tests.conftest import _pg_url, fresh_pg_schema

from .rawdump import raw_dump

URL = "https://hookuser:pa55word-xyz@product.example/hooks?token=tok-123abc"
SECRETS = (b"pa55word-xyz", b"tok-123abc", b"hookuser")


async def test_urls_are_encrypted_and_stored_once(store: Store) -> None:
    first = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_a"))
    again = await store.endpoints.upsert(EndpointSpec(URL, event_types=["message.*"]))
    other = await store.endpoints.upsert(EndpointSpec(URL.replace("tok-123abc", "tok-other")))
    assert again.id == first.id != other.id
    assert again.url == URL and again.secret == "whsec_a"  # no secret given: the stored one
    assert again.event_types == ("message.*",)
    assert again.shown_url == "https://***@product.example/hooks?***"
    dump = await raw_dump(store.db)
    for secret in SECRETS:
        assert secret not in dump
    assert [e.url for e in await store.endpoints.list()] == [URL, URL.replace("123abc", "other")]


async def test_a_url_is_found_after_the_keys_were_rotated(database: Database) -> None:
    old, new = generate_key(), generate_key()
    first = await Store(database, Keyring.parse(old)).endpoints.upsert(EndpointSpec(URL))
    rotated = Store(database, Keyring.parse(f"{new},{old}"))
    await rotated.rotate_secrets()
    (synced,) = await rotated.endpoints.sync([EndpointSpec(URL, secret="whsec_n")])
    assert synced.id == first.id
    assert len(await rotated.endpoints.list()) == 1


async def test_a_new_secret_overlaps_with_the_old_until_retired(store: Store) -> None:
    endpoint = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_old"))
    rotated = await store.endpoints.rotate_secret(endpoint.id, "whsec_new")
    assert rotated is not None
    assert rotated.signing_secrets == ("whsec_new", "whsec_old")
    (previous,) = rotated.previous_secrets
    assert previous.secret == "whsec_old" and previous.replaced_at.tzinfo is UTC
    assert b"whsec_old" not in await raw_dump(store.db)
    # A configuration that comes back to the old secret makes it current, not listed twice.
    back = await store.endpoints.upsert(EndpointSpec(URL, secret="whsec_old"))
    assert back.signing_secrets == ("whsec_old", "whsec_new")
    assert await store.endpoints.retire_secrets(endpoint.id, secret_id=10_000) == 0
    assert await store.endpoints.retire_secrets(endpoint.id) == 1
    after = await store.endpoints.get(endpoint.id)
    assert after is not None and after.signing_secrets == ("whsec_old",)
    assert await store.endpoints.rotate_secret(endpoint.id + 99, "whsec_x") is None


@pytest.fixture(params=["sqlite", "postgres"])
async def legacy_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database at revision 0001 (URLs in plaintext), not yet upgraded."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'legacy.db'}")
        else:
            url = _pg_url()
            db = open_database(url, schema=await stack.enter_async_context(fresh_pg_schema(url)))
        stack.push_async_callback(db.close)
        await upgrade_database(db, "0001")
        yield db


async def test_plaintext_urls_from_before_are_encrypted_at_the_next_start(
    legacy_db: Database, keyring: Keyring
) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    sealed = keyring.encrypt("whsec_legacy", "webhook_endpoints.secret_enc:1")
    async with legacy_db.transaction() as tx:
        await tx.execute(
            text(
                "INSERT INTO webhook_endpoints (id, url, secret_enc, event_types, synchronous, "
                "enabled, created_at, updated_at) VALUES (1, :url, :s, '[]', false, true, :t, :t)"
            ),
            {"url": URL, "s": sealed, "t": now},
        )
        await tx.execute(
            text(
                "INSERT INTO deliveries (webhook_id, endpoint_id, event_type, payload, status, "
                "attempts, not_before, created_at) "
                "VALUES ('msg_1', 1, 'message.posted', '{}', 'dead', 12, :t, :t)"
            ),
            {"t": now},
        )
    await upgrade_database(legacy_db)
    store = Store(legacy_db, keyring)
    # Readable as it is before the start that encrypts it (the CLI may come first).
    (endpoint,) = await store.endpoints.list()
    assert endpoint.url == URL and endpoint.secret == "whsec_legacy"

    assert await store.endpoints.seal_plaintext_urls() == 1
    assert await store.endpoints.seal_plaintext_urls() == 0
    dump = await raw_dump(legacy_db)
    for secret in SECRETS:
        assert secret not in dump
    (endpoint,) = await store.endpoints.list()
    assert endpoint.url == URL and endpoint.secret == "whsec_legacy" and endpoint.id == 1
    delivery = await store.deliveries.get_by_webhook_id("msg_1")
    assert delivery is not None and delivery.endpoint_id == 1
    (synced,) = await store.endpoints.sync([EndpointSpec(URL)])
    assert synced.id == 1
