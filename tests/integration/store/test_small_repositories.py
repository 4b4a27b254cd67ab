"""OAuth states, audit log, API keys and the user cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import Database
from slackbridge.store.repositories.api_keys import hash_api_key
from slackbridge.store.repositories.apps import AppSpec
from slackbridge.store.repositories.users import CachedUser
from slackbridge.store.store import Store

from .conftest import FakeClock
from .rawdump import raw_dump


async def _app_ref(store: Store) -> int:
    return (await store.apps.upsert(AppSpec(name="default"))).id


# -- OAuth states ---------------------------------------------------------------------------


async def test_state_is_single_use(cstore: Store) -> None:
    app_ref = await _app_ref(cstore)
    issued = await cstore.oauth_states.issue(app_ref, product_ref="acct-9")
    ok = await cstore.oauth_states.consume(issued.state, issued.browser_token)
    assert ok.ok and ok.app_ref == app_ref and ok.product_ref == "acct-9"
    replay = await cstore.oauth_states.consume(issued.state, issued.browser_token)
    assert replay.outcome == "used"


async def test_states_are_signed_and_stored_only_when_used(database: Database) -> None:
    old, new = generate_key(), generate_key()
    store = Store(database, Keyring.parse(old))
    app_ref = await _app_ref(store)
    issued = await store.oauth_states.issue(app_ref, product_ref="acct-9", link_expires=123)
    assert issued.browser_token not in issued.state  # the state holds only the cookie's digest
    body, _, mac = issued.state.partition(".")
    altered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    assert (await store.oauth_states.consume(altered, issued.browser_token)).outcome == "unknown"
    elsewhere = Store(database, Keyring.parse(new)).oauth_states
    assert (await elsewhere.consume(issued.state, issued.browser_token)).outcome == "unknown"
    never = datetime(9999, 1, 1, tzinfo=UTC)
    assert await store.oauth_states.purge(older_than=never) == 0  # nothing stored so far
    # Still valid after a key rotation that keeps the old key.
    rotated = Store(database, Keyring.parse(f"{new},{old}")).oauth_states
    ok = await rotated.consume(issued.state, issued.browser_token)
    assert (ok.outcome, ok.product_ref, ok.link_expires) == ("ok", "acct-9", 123)
    assert await store.oauth_states.purge(older_than=never) == 1


async def test_state_outcomes(cstore: Store, clock: FakeClock) -> None:
    app_ref = await _app_ref(cstore)
    issued = await cstore.oauth_states.issue(app_ref, ttl_seconds=600)
    assert (await cstore.oauth_states.consume("never-issued", "x")).outcome == "unknown"
    wrong = await cstore.oauth_states.consume(issued.state, "someone-elses-cookie")
    assert wrong.outcome == "browser_mismatch"
    assert (await cstore.oauth_states.consume(issued.state, None)).outcome == "browser_mismatch"
    # A mismatch doesn't burn the state: its owner can still finish.
    assert (await cstore.oauth_states.consume(issued.state, issued.browser_token)).ok

    late = await cstore.oauth_states.issue(app_ref, ttl_seconds=600)
    clock.advance(600)
    assert (await cstore.oauth_states.consume(late.state, late.browser_token)).outcome == "expired"
    # Only the state used up left a record (to refuse a replay); issuing stores nothing.
    assert await cstore.oauth_states.purge(older_than=clock.now + timedelta(seconds=1)) == 1


async def test_states_are_stored_hashed(store: Store) -> None:
    issued = await store.oauth_states.issue(await _app_ref(store))
    dump = await raw_dump(store.db)
    assert issued.state.encode() not in dump
    assert issued.browser_token.encode() not in dump
    assert issued.state not in repr(issued)


# -- audit ----------------------------------------------------------------------------------


async def test_audit_log(cstore: Store, clock: FakeClock) -> None:
    first = await cstore.audit.record(
        "workspace.removed", actor="cli", team_id="T1", detail={"revoked": True}
    )
    clock.advance(1)
    await cstore.audit.record("workspace.installed", actor="oauth", team_id="T2")
    await cstore.audit.record("apikey.created", actor="cli")
    assert first.at == clock.now - timedelta(seconds=1) and first.detail == {"revoked": True}
    newest_first = await cstore.audit.list()
    assert [e.action for e in newest_first] == [
        "apikey.created",
        "workspace.installed",
        "workspace.removed",
    ]
    assert [e.action for e in await cstore.audit.list(team_id="T1")] == ["workspace.removed"]
    assert len(await cstore.audit.list(action="apikey.created")) == 1
    assert len(await cstore.audit.list(limit=2)) == 2


# -- API keys -------------------------------------------------------------------------------


async def test_api_keys_lifecycle(cstore: Store, clock: FakeClock) -> None:
    created = await cstore.api_keys.create("helpdesk")
    assert created.secret.startswith(f"sbk_{created.key.prefix}_")
    assert created.secret not in repr(created)
    dump = await raw_dump(cstore.db)
    assert created.secret.encode() not in dump
    assert hash_api_key(created.secret).encode() in dump

    clock.advance(5)
    used = await cstore.api_keys.verify(created.secret)
    assert used is not None and used.id == created.key.id
    assert used.last_used_at == clock.now
    assert await cstore.api_keys.verify(created.secret + "x") is None
    assert await cstore.api_keys.verify("") is None

    other = await cstore.api_keys.create("ci")
    assert [k.name for k in await cstore.api_keys.list()] == ["helpdesk", "ci"]
    assert await cstore.api_keys.revoke(created.secret)  # the whole key works as a handle too
    assert not await cstore.api_keys.revoke(created.key.prefix)  # already revoked
    assert await cstore.api_keys.verify(created.secret) is None
    assert [k.name for k in await cstore.api_keys.list()] == ["ci"]
    listed = await cstore.api_keys.list(include_revoked=True)
    assert [k.active for k in listed] == [False, True]
    assert await cstore.api_keys.revoke(other.key.prefix)


# -- user cache -----------------------------------------------------------------------------


async def test_user_cache(cstore: Store, clock: FakeClock) -> None:
    ada = CachedUser("T1", "U1", name="ada", real_name="Ada L", email="Ada@Example.com")
    await cstore.users.put_many([ada, CachedUser("T1", "UB", name="bot", is_bot=True)])
    got = await cstore.users.get("T1", "U1")
    assert got is not None and got.real_name == "Ada L" and got.fetched_at == clock.now
    assert await cstore.users.get("T2", "U1") is None
    found = await cstore.users.find_by_email("T1", "ada@example.com")
    assert found is not None and found.user_id == "U1"

    clock.advance(3600)
    assert await cstore.users.get("T1", "U1", max_age=timedelta(minutes=30)) is None
    await cstore.users.put(CachedUser("T1", "U1", name="ada", real_name="Ada Lovelace"))
    fresh = await cstore.users.get("T1", "U1", max_age=timedelta(minutes=30))
    assert fresh is not None and fresh.real_name == "Ada Lovelace" and fresh.email is None

    assert await cstore.users.forget("T1", "UB") == 1
    assert await cstore.users.forget("T1") == 1
    assert await cstore.users.get("T1", "U1") is None
