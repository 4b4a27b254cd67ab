"""Re-encrypting the stored secrets under a new first key, as an operator action."""

from __future__ import annotations

from slackbridge.operations.encryption_keys import new_encryption_key, rotate_encryption_keys
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.store import Store


async def test_secrets_are_re_encrypted_under_the_new_first_key(database: Database) -> None:
    old, new = new_encryption_key(), new_encryption_key()
    assert old != new
    before = Store(database, Keyring.parse(old))
    await before.endpoints.upsert(EndpointSpec("https://product.example/h", secret="whsec_k"))
    seen: list[str] = []
    report = await rotate_encryption_keys(
        database,
        Keyring.parse(f"{new},{old}"),
        progress=lambda table, done, total: seen.append(table),
    )
    assert report.reencrypted >= 2 and seen  # the URL and the secret, at least
    (endpoint,) = await Store(database, Keyring.parse(new)).endpoints.list()
    assert endpoint.secret == "whsec_k"
