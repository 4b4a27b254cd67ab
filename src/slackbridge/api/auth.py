"""Bearer API keys for the product API.

A request carries ``Authorization: Bearer sbk_…``. Keys come from ``slackbridge apikey create``
(stored as SHA-256 digests, see :mod:`slackbridge.store.repositories.api_keys`) or from
``SLACKBRIDGE_API_KEYS`` (a comma list, compared in constant time). Each key is its own
idempotency scope: two products using different keys never see each other's Idempotency-Keys.

A stored key has an :class:`ApiKeyScope`: its permissions (``read``, ``write``, ``admin``) and
the workspaces it may touch; keys from ``SLACKBRIDGE_API_KEYS`` may do everything everywhere.
Routes declare the permission they need with :data:`ReadCaller`, :data:`WriteCaller` or
:data:`AdminCaller` (403 ``permission_denied`` without it); workspace checks happen where the
route finds its workspace (:mod:`slackbridge.api.scope`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from slackbridge.api.errors import ApiError
from slackbridge.runtime import Gateway, gateway_of
from slackbridge.settings import Settings
from slackbridge.store.repositories.api_keys import (
    FULL_SCOPE,
    ApiKeyScope,
    ApiKeysRepository,
    hash_api_key,
)

__all__ = [
    "AdminCaller",
    "Caller",
    "CallerDep",
    "ReadCaller",
    "WriteCaller",
    "authenticate",
    "configured_keys",
    "require_caller",
]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `slackbridge apikey create` or SLACKBRIDGE_API_KEYS.",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="slackbridge"'}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's name, the scope its Idempotency-Keys live in (also recorded
    as the owner of the operations it queues) and what the key may do (``access``)."""

    name: str
    scope: str
    access: ApiKeyScope = FULL_SCOPE

    @property
    def is_admin(self) -> bool:
        return self.access.allows("admin")


def configured_keys(settings: Settings) -> list[str]:
    """The keys listed in ``SLACKBRIDGE_API_KEYS`` (blank entries ignored)."""
    if settings.api_keys is None:
        return []
    return [k.strip() for k in settings.api_keys.get_secret_value().split(",") if k.strip()]


async def authenticate(gateway: Gateway, key: str) -> Caller | None:
    """The caller ``key`` belongs to, or None when it is unknown or revoked."""
    digest = hash_api_key(key)
    for configured in configured_keys(gateway.settings):
        if hmac.compare_digest(hash_api_key(configured), digest):
            return Caller(name="SLACKBRIDGE_API_KEYS", scope="env:" + digest[:16])
    stored = await ApiKeysRepository(gateway.db, gateway.keyring).verify(key)
    if stored is None:
        return None
    return Caller(name=stored.name, scope=f"key:{stored.id}", access=stored.scope)


async def require_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """FastAPI dependency: the authenticated caller, or a 401."""
    if credentials is None or not credentials.credentials:
        raise ApiError(
            "missing_api_key",
            "send the API key as 'Authorization: Bearer <key>' "
            "(create one with: slackbridge apikey create NAME)",
            headers=_CHALLENGE,
        )
    caller = await authenticate(gateway_of(request), credentials.credentials)
    if caller is None:
        raise ApiError("invalid_api_key", headers=_CHALLENGE)
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]
"""Any valid key, whatever its permissions."""


def _needs(permission: str) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(caller: CallerDep) -> Caller:
        if not caller.access.allows(permission):
            raise ApiError(
                "permission_denied",
                f"this API key lacks the {permission!r} permission (it has "
                f"{caller.access.describe_permissions()}); use a key made with: "
                f"slackbridge apikey create NAME --scope {permission}",
            )
        return caller

    return check


ReadCaller = Annotated[Caller, Depends(_needs("read"))]
"""A key with ``read`` (or ``admin``)."""
WriteCaller = Annotated[Caller, Depends(_needs("write"))]
"""A key with ``write`` (or ``admin``)."""
AdminCaller = Annotated[Caller, Depends(_needs("admin"))]
"""A key with ``admin``."""
