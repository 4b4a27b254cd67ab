"""The product API's keys: create (shown once, stored as a digest), list, revoke.

A key's scope is what it may do (``read``, ``write``, ``admin``) and where: the workspaces
(team ids) and install refs it may touch, or everywhere when it names neither.
"""

from __future__ import annotations

from collections.abc import Iterable

from slackbridge.operations.errors import ApiKeyNotFound, InvalidInput
from slackbridge.operations.install_links import MAX_REF_LENGTH, TEAM_ID
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.api_keys import (
    ApiKey,
    ApiKeyScope,
    ApiKeysRepository,
    CreatedApiKey,
    parse_permissions,
)

__all__ = [
    "MAX_NAME_LENGTH",
    "ApiKey",
    "ApiKeyScope",
    "CreatedApiKey",
    "create_api_key",
    "key_name",
    "key_scope",
    "list_api_keys",
    "revoke_api_key",
]

#: The longest name a key may have.
MAX_NAME_LENGTH = 255


def key_name(name: str) -> str:
    """``name`` as stored (trimmed); :class:`InvalidInput` when empty or too long."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(f"the key's name must be 1 to {MAX_NAME_LENGTH} characters")
    return cleaned


def key_scope(permissions: str, workspaces: Iterable[str], refs: Iterable[str]) -> ApiKeyScope:
    """The scope given as a comma list of permissions, team ids and install refs (each
    trimmed); :class:`InvalidInput` saying what is wrong."""
    try:
        granted = parse_permissions(permissions)
    except ValueError as exc:
        raise InvalidInput(str(exc), "For example: --scope read,write") from None
    teams = [w.strip() for w in workspaces]
    bad = [t for t in teams if not TEAM_ID.fullmatch(t)]
    if bad:
        raise InvalidInput(
            f"{bad[0]!r} is not a Slack workspace id",
            "Give team ids like T0123ABCD (see them with: slackbridge workspaces list)",
        )
    cleaned = [r.strip() for r in refs]
    if any(not r or len(r) > MAX_REF_LENGTH for r in cleaned):
        raise InvalidInput(f"an install ref must be 1 to {MAX_REF_LENGTH} characters")
    return ApiKeyScope(permissions=granted, team_ids=tuple(teams), product_refs=tuple(cleaned))


async def create_api_key(
    db: Database, keyring: Keyring, name: str, scope: ApiKeyScope
) -> CreatedApiKey:
    """A new key called ``name`` with ``scope``: its ``secret`` is in this result only."""
    return await ApiKeysRepository(db, keyring).create(key_name(name), scope)


async def list_api_keys(
    db: Database, keyring: Keyring, *, include_revoked: bool = False
) -> list[ApiKey]:
    """The stored keys (prefixes and scopes, never the keys), revoked ones when asked."""
    return await ApiKeysRepository(db, keyring).list(include_revoked=include_revoked)


async def revoke_api_key(db: Database, keyring: Keyring, prefix: str) -> None:
    """Revoke the active key with ``prefix`` (``sbk_…`` or the whole key): requests with it
    are refused from now on. Raises :class:`ApiKeyNotFound`."""
    if not await ApiKeysRepository(db, keyring).revoke(prefix.strip()):
        raise ApiKeyNotFound(
            f"no active API key with prefix {prefix!r}",
            "See the keys with: slackbridge apikey list",
        )
