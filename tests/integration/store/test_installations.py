"""Apps and installations: save, reinstall, find, retire; secrets encrypted at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from slackbridge.store.crypto import DecryptionError
from slackbridge.store.models import InstallationRow, table_of
from slackbridge.store.repositories.apps import AppSpec, SlackApp
from slackbridge.store.repositories.installations import InstallationSpec, UserTokenSpec
from slackbridge.store.store import Store

from .conftest import FakeClock
from .rawdump import raw_dump

SECRETS = [
    "client-secret-42",
    "signing-secret-42",
    "verification-42",
    "xapp-1-app-token",
    "xoxb-bot-token-1",
    "xoxe-1-refresh-1",
    "https://hooks.slack.com/services/T1/B1/secret",
    "xoxp-user-token-1",
    "xoxe-1-user-refresh",
]


async def _app(store: Store, name: str = "default") -> SlackApp:
    return await store.apps.upsert(
        AppSpec(
            name=name,
            app_id=f"A{name.upper()}",
            client_id="111.222",
            client_secret="client-secret-42",
            signing_secret="signing-secret-42",
            verification_token="verification-42",
            app_token="xapp-1-app-token",
            bot_scopes=["chat:write", "commands"],
            user_scopes=["search:read"],
            socket_mode=True,
            token_rotation=True,
        )
    )


def _spec(app_ref: int, team: str = "T1", **overrides: object) -> InstallationSpec:
    values: dict[str, object] = {
        "app_ref": app_ref,
        "team_id": team,
        "team_name": "Acme",
        "bot_token": "xoxb-bot-token-1",
        "bot_refresh_token": "xoxe-1-refresh-1",
        "bot_user_id": "UBOT",
        "bot_id": "BBOT",
        "bot_scopes": ["chat:write"],
        "installer_user_id": "U1",
        "incoming_webhook_url": "https://hooks.slack.com/services/T1/B1/secret",
        "incoming_webhook_channel": "#general",
        "incoming_webhook_channel_id": "C1",
        "product_ref": "acct-1",
        "user_token": UserTokenSpec(
            "U1", token="xoxp-user-token-1", refresh_token="xoxe-1-user-refresh", scopes=["a"]
        ),
    }
    values.update(overrides)
    return InstallationSpec(**values)  # type: ignore[arg-type]


async def test_app_round_trip_and_lookups(store: Store) -> None:
    app = await _app(store)
    assert app.client_secret == "client-secret-42"
    assert app.app_token == "xapp-1-app-token"
    assert app.bot_scopes == ("chat:write", "commands")
    assert app.socket_mode and app.token_rotation
    assert await store.apps.get(app.id) == app
    assert await store.apps.get_by_name("default") == app
    assert await store.apps.get_by_app_id("ADEFAULT") == app
    assert await store.apps.get_by_app_id("ANOPE") is None
    # Upsert by name replaces the values, secrets included, and keeps the id.
    changed = await store.apps.upsert(AppSpec(name="default", client_secret="new-secret"))
    assert changed.id == app.id
    assert changed.client_secret == "new-secret"
    assert changed.signing_secret is None
    other = await _app(store, "second")
    assert [a.name for a in await store.apps.list()] == ["default", "second"]
    assert other.id != app.id


async def test_save_reinstall_and_user_tokens(cstore: Store, clock: FakeClock) -> None:
    app = await _app(cstore)
    first = await cstore.installations.save(_spec(app.id))
    assert first.created
    inst = first.installation
    assert inst.bot_token == "xoxb-bot-token-1"
    assert inst.team_id == "T1" and inst.enterprise_id is None
    assert inst.status == "active" and inst.is_active
    assert inst.installed_at == clock.now

    await cstore.installations.set_status(inst.id, "disconnected", last_error="invalid_auth")
    clock.advance(60)
    again = await cstore.installations.save(
        _spec(app.id, bot_token="xoxb-new", product_ref=None, user_token=None)
    )
    assert not again.created
    assert again.installation.id == inst.id
    assert again.installation.bot_token == "xoxb-new"
    assert again.installation.status == "active"
    assert again.installation.last_error is None
    assert again.installation.product_ref == "acct-1"  # kept when the reinstall has none
    assert len(await cstore.installations.list()) == 1

    token = await cstore.installations.get_user_token(inst.id, "U1")
    assert token is not None and token.token == "xoxp-user-token-1"
    assert token.scopes == ("a",)
    await cstore.installations.save_user_token(inst.id, UserTokenSpec("U1", token="xoxp-2"))
    await cstore.installations.save_user_token(inst.id, UserTokenSpec("U2", token="xoxp-3"))
    tokens = await cstore.installations.list_user_tokens(inst.id)
    assert [(t.user_id, t.token) for t in tokens] == [("U1", "xoxp-2"), ("U2", "xoxp-3")]


async def test_one_user_installs_into_many_workspaces(store: Store) -> None:
    app = await _app(store)
    one = (await store.installations.save(_spec(app.id, "T1"))).installation
    two = (await store.installations.save(_spec(app.id, "T2"))).installation
    assert one.id != two.id
    for inst in (one, two):
        token = await store.installations.get_user_token(inst.id, "U1")
        assert token is not None and token.token == "xoxp-user-token-1"


async def test_find_by_team_enterprise_and_app(store: Store) -> None:
    app = await _app(store)
    other_app = await _app(store, "other")
    plain = (await store.installations.save(_spec(app.id, "T1"))).installation
    grid = (await store.installations.save(_spec(app.id, "T2", enterprise_id="E1"))).installation
    org = (
        await store.installations.save(
            _spec(app.id, None, enterprise_id="E1", is_enterprise_install=True)
        )
    ).installation
    second = (await store.installations.save(_spec(other_app.id, "T1"))).installation

    find = store.installations.find
    assert (await find(app.id, team_id="T1")) == plain
    assert (await find(other_app.id, team_id="T1")) == second
    assert (await find(app.id, team_id="T2")) == grid
    assert (await find(app.id, team_id="T2", enterprise_id="E1")) == grid
    assert await find(app.id, team_id="T2", enterprise_id="E9") is None
    assert (await find(app.id, team_id="T3", enterprise_id="E1", is_enterprise_install=True)) == org
    assert org.team_id is None and org.enterprise_id == "E1"
    assert await find(app.id, team_id="T9") is None

    assert {i.id for i in await store.installations.list(team_id="T1")} == {plain.id, second.id}
    assert [i.id for i in await store.installations.list(app_ref=other_app.id)] == [second.id]
    await store.installations.set_status(plain.id, "disconnected", last_error="token_revoked")
    dead = await store.installations.list(status="disconnected")
    assert [(i.id, i.last_error) for i in dead] == [(plain.id, "token_revoked")]


async def test_retire_and_forget_tokens(store: Store) -> None:
    app = await _app(store)
    inst = (await store.installations.save(_spec(app.id))).installation
    await store.installations.save_user_token(inst.id, UserTokenSpec("U2", token="xoxp-2"))

    assert await store.installations.forget_tokens(inst.id, bot=False, user_ids=["U2"]) == 1
    kept = await store.installations.get(inst.id)
    assert kept is not None and kept.bot_token == "xoxb-bot-token-1"
    assert [t.user_id for t in await store.installations.list_user_tokens(inst.id)] == ["U1"]

    assert await store.installations.retire(inst.id, "uninstalled", reason="app_uninstalled")
    gone = await store.installations.get(inst.id)
    assert gone is not None
    assert gone.status == "uninstalled" and gone.last_error == "app_uninstalled"
    assert gone.bot_token is None and gone.bot_refresh_token is None
    assert gone.incoming_webhook_url is None
    assert await store.installations.list_user_tokens(inst.id) == []
    assert await store.installations.get(inst.id + 999) is None


async def test_expiring_tokens(cstore: Store, clock: FakeClock) -> None:
    app = await _app(cstore)
    soon = clock.now + timedelta(minutes=5)
    later = clock.now + timedelta(hours=12)
    a = await cstore.installations.save(_spec(app.id, "T1", bot_token_expires_at=soon))
    await cstore.installations.save(_spec(app.id, "T2", bot_token_expires_at=later))
    await cstore.installations.save(_spec(app.id, "T3"))  # no rotation: never expires
    await cstore.installations.save_user_token(
        a.installation.id, UserTokenSpec("U9", token="xoxp-9", expires_at=soon)
    )
    horizon = clock.now + timedelta(hours=1)
    expiring = await cstore.installations.expiring_before(horizon)
    assert [i.team_id for i in expiring] == ["T1"]
    users = await cstore.installations.user_tokens_expiring_before(horizon)
    assert [u.user_id for u in users] == ["U9"]
    await cstore.installations.set_status(a.installation.id, "disconnected")
    assert await cstore.installations.expiring_before(horizon) == []


async def test_no_secret_is_stored_in_plaintext(store: Store) -> None:
    app = await _app(store)
    await store.installations.save(_spec(app.id))
    dump = await raw_dump(store.db)
    for secret in SECRETS:
        assert secret.encode() not in dump, secret
    # …while the repositories still read them back.
    inst = await store.installations.find(app.id, team_id="T1")
    assert inst is not None and inst.incoming_webhook_url == SECRETS[6]


async def test_secrets_stay_out_of_repr(store: Store) -> None:
    app = await _app(store)
    inst = (await store.installations.save(_spec(app.id))).installation
    token = await store.installations.get_user_token(inst.id, "U1")
    text = repr(app) + repr(inst) + repr(token) + repr(_spec(app.id))
    for secret in SECRETS:
        assert secret not in text, secret


async def test_ciphertext_copied_to_another_row_is_refused(store: Store) -> None:
    app = await _app(store)
    one = (await store.installations.save(_spec(app.id, "T1"))).installation
    two = (await store.installations.save(_spec(app.id, "T2", bot_token="xoxb-two"))).installation
    table = table_of(InstallationRow)
    async with store.db.transaction() as tx:
        stolen = (
            await tx.execute(select(table.c.bot_token_enc).where(table.c.id == one.id))
        ).scalar_one()
        await tx.execute(update(table).where(table.c.id == two.id).values(bot_token_enc=stolen))
    with pytest.raises(DecryptionError, match=f"installations.bot_token_enc:{two.id}"):
        await store.installations.get(two.id)
