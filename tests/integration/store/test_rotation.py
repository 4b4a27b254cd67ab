"""Key rotation: old keys keep decrypting; after rotate_all only the new key is needed."""

from __future__ import annotations

import pytest

from slackbridge.store.crypto import DecryptionError, Keyring, generate_key
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppSpec
from slackbridge.store.repositories.endpoints import EndpointSpec
from slackbridge.store.repositories.installations import InstallationSpec, UserTokenSpec
from slackbridge.store.store import Store


async def _fill(store: Store) -> None:
    app = await store.apps.upsert(
        AppSpec(name="default", client_secret="cs", signing_secret="ss", app_token="xapp-1")
    )
    await store.installations.save(
        InstallationSpec(
            app_ref=app.id,
            team_id="T1",
            bot_token="xoxb-1",
            bot_refresh_token="xoxe-1",
            incoming_webhook_url="https://hooks.example/1",
            user_token=UserTokenSpec("U1", token="xoxp-1"),
        )
    )
    await store.endpoints.upsert(EndpointSpec("http://u:pw@hook", secret="whsec_0"))
    await store.endpoints.upsert(EndpointSpec("http://u:pw@hook", secret="whsec_1"))


async def _read_all(store: Store) -> list[str | None]:
    app = await store.apps.get_by_name("default")
    assert app is not None
    (inst,) = await store.installations.list()
    (user,) = await store.installations.list_user_tokens(inst.id)
    (endpoint,) = await store.endpoints.list()
    return [
        app.client_secret,
        app.signing_secret,
        app.app_token,
        inst.bot_token,
        inst.bot_refresh_token,
        inst.incoming_webhook_url,
        user.token,
        endpoint.url,
        *endpoint.signing_secrets,
    ]


EXPECTED = [
    "cs",
    "ss",
    "xapp-1",
    "xoxb-1",
    "xoxe-1",
    "https://hooks.example/1",
    "xoxp-1",
    "http://u:pw@hook",
    "whsec_1",
    "whsec_0",
]


async def test_rotation_procedure(database: Database) -> None:
    old, new = generate_key(), generate_key()
    await _fill(Store(database, Keyring.parse(old)))

    # Step 1: the new key first, the old one still listed — everything reads.
    both = Store(database, Keyring.parse(f"{new},{old}"))
    assert await _read_all(both) == EXPECTED
    # Without the old key nothing old can be read, and the error says what to do.
    with pytest.raises(DecryptionError, match="add the old key"):
        await _read_all(Store(database, Keyring.parse(new)))

    # Step 2: rotate.
    seen: list[tuple[str, int, int]] = []
    report = await both.rotate_secrets(progress=lambda t, d, n: seen.append((t, d, n)))
    assert report.checked == 10 and report.reencrypted == 10
    assert report.by_column == {
        "slack_apps.client_secret_enc": 1,
        "slack_apps.signing_secret_enc": 1,
        "slack_apps.app_token_enc": 1,
        "installations.bot_token_enc": 1,
        "installations.bot_refresh_token_enc": 1,
        "installations.incoming_webhook_url_enc": 1,
        "user_tokens.token_enc": 1,
        "webhook_endpoints.secret_enc": 1,
        "webhook_endpoints.url_enc": 1,
        "webhook_endpoint_secrets.secret_enc": 1,
    }
    assert ("installations", 1, 1) in seen

    # Step 3: the old key can go.
    assert await _read_all(Store(database, Keyring.parse(new))) == EXPECTED
    with pytest.raises(DecryptionError):
        await _read_all(Store(database, Keyring.parse(old)))
    # Rotating again finds nothing left to do.
    again = await Store(database, Keyring.parse(new)).rotate_secrets()
    assert again.checked == 10 and again.reencrypted == 0


async def test_rotation_without_the_old_key_changes_nothing(database: Database) -> None:
    old = generate_key()
    await _fill(Store(database, Keyring.parse(old)))
    lost = Store(database, Keyring.parse(generate_key()))
    with pytest.raises(DecryptionError, match=r"slack_apps\.client_secret_enc:1"):
        await lost.rotate_secrets()
    assert await _read_all(Store(database, Keyring.parse(old))) == EXPECTED
