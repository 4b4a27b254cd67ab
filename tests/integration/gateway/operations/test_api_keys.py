"""Operator actions on API keys: names and scopes checked, created once, listed, revoked."""

from __future__ import annotations

import pytest

from slackbridge.operations.api_keys import (
    create_api_key,
    key_name,
    key_scope,
    list_api_keys,
    revoke_api_key,
)
from slackbridge.operations.errors import ApiKeyNotFound, InvalidInput
from slackbridge.store.store import Store


def test_a_name_is_trimmed_and_bounded() -> None:
    assert key_name("  helpdesk-prod ") == "helpdesk-prod"
    for bad in ("", "   ", "x" * 256):
        with pytest.raises(InvalidInput, match="the key's name must be 1 to 255 characters"):
            key_name(bad)


def test_a_scope_is_read_from_permissions_workspaces_and_refs() -> None:
    scope = key_scope("read, admin", [" T0ONE "], ["acct-1 "])
    assert scope.permissions == frozenset({"read", "admin"})
    assert scope.team_ids == ("T0ONE",) and scope.product_refs == ("acct-1",)
    assert key_scope("read,write", [], []).everywhere


@pytest.mark.parametrize(
    ("permissions", "workspaces", "refs", "reason"),
    [
        ("read,fly", [], [], "unknown permission 'fly' (use read, write, admin)"),
        ("read", ["acme"], [], "'acme' is not a Slack workspace id"),
        ("read", [], [" "], "an install ref must be 1 to 255 characters"),
    ],
)
def test_a_bad_scope_is_refused(
    permissions: str, workspaces: list[str], refs: list[str], reason: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        key_scope(permissions, workspaces, refs)
    assert exc.value.reason == reason


async def test_a_key_is_created_listed_and_revoked(store: Store) -> None:
    created = await create_api_key(
        store.db, store.keyring, " helpdesk ", key_scope("read", ["T0ONE"], [])
    )
    assert created.key.name == "helpdesk" and created.secret.startswith("sbk_")
    assert (await store.api_keys.verify(created.secret)) is not None
    (listed,) = await list_api_keys(store.db, store.keyring)
    assert listed.prefix == created.key.prefix and listed.scope.team_ids == ("T0ONE",)
    await revoke_api_key(store.db, store.keyring, f" sbk_{created.key.prefix} ")
    assert await store.api_keys.verify(created.secret) is None
    assert await list_api_keys(store.db, store.keyring) == []
    (revoked,) = await list_api_keys(store.db, store.keyring, include_revoked=True)
    assert not revoked.active


async def test_revoking_an_unknown_key_is_refused(store: Store) -> None:
    with pytest.raises(ApiKeyNotFound) as exc:
        await revoke_api_key(store.db, store.keyring, "sbk_nothing")
    assert exc.value.reason == "no active API key with prefix 'sbk_nothing'"
    assert exc.value.hint == "See the keys with: slackbridge apikey list"
