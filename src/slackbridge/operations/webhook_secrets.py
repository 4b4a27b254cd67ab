"""Rotating webhook signing secrets with an overlap (``slackbridge webhooks secrets`` and the
API's ``/webhooks/{id}/secrets``).

``rotate`` makes a new secret current and keeps the old one signing: every webhook then carries
one signature per secret, so the product verifies with either while it switches over. ``retire``
ends the old ones (all of them, or one) once the product uses the new secret. A new secret is
returned once; afterwards only its fingerprint is shown. Each action is written to the audit log.

An endpoint whose secret is set in the configuration (``SLACKBRIDGE_WEBHOOK_SECRET`` or a
``secret`` in ``SLACKBRIDGE_WEBHOOKS``) is rotated there instead: the next start makes the new
value current and keeps the old one signing, until it is retired here.

The running process keeps the endpoints in a short-lived cache: the caller passes
``on_change``, a port that forgets it, so that the change is used at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from slackbridge.operations.errors import EndpointNotFound, SecretConfigured, SecretNotFound
from slackbridge.operations.webhook_endpoints import get_endpoint
from slackbridge.product.signing import generate_secret
from slackbridge.settings import WebhookEndpointConfig
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.audit import AuditRepository
from slackbridge.store.repositories.endpoints import EndpointsRepository, WebhookEndpoint

__all__ = [
    "OnChange",
    "Retired",
    "Rotated",
    "SecretInfo",
    "describe_secrets",
    "fingerprint",
    "retire_secrets",
    "rotate_secret",
]

#: The port called after a change (the running process forgets its cached endpoints).
OnChange = Callable[[], object]


@dataclass(frozen=True)
class SecretInfo:
    """A signing secret as it may be shown: never the secret, only its fingerprint.

    ``id`` is None for the current secret; ``since`` is when a previous one was replaced (its
    overlap began), None for the current one."""

    id: int | None
    fingerprint: str
    current: bool
    since: datetime | None


@dataclass(frozen=True)
class Rotated:
    """The endpoint after a rotation, and its new secret (shown this once)."""

    endpoint: WebhookEndpoint
    secret: str

    def __repr__(self) -> str:  # the secret is a credential
        return f"Rotated(endpoint={self.endpoint.id}, secret={fingerprint(self.secret)})"


@dataclass(frozen=True)
class Retired:
    """The endpoint after retiring, and how many previous secrets were retired."""

    endpoint: WebhookEndpoint
    count: int


def fingerprint(secret: str) -> str:
    """A short digest that tells secrets apart without revealing them."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def describe_secrets(endpoint: WebhookEndpoint) -> list[SecretInfo]:
    """The endpoint's signing secrets, the current one first."""
    found = []
    if endpoint.secret:
        found.append(SecretInfo(None, fingerprint(endpoint.secret), True, None))
    found.extend(
        SecretInfo(p.id, fingerprint(p.secret), False, p.replaced_at)
        for p in endpoint.previous_secrets
    )
    return found


def _check_not_configured(
    endpoint: WebhookEndpoint, configured: Iterable[WebhookEndpointConfig]
) -> None:
    for config in configured:
        if config.url == endpoint.url and config.secret is not None:
            raise SecretConfigured(
                f"the secret of webhook endpoint {endpoint.id} is set in the configuration "
                "(SLACKBRIDGE_WEBHOOK_SECRET or SLACKBRIDGE_WEBHOOKS)",
                "put the new secret there and restart; the old one keeps signing until you "
                "retire it",
            )


async def rotate_secret(
    db: Database,
    keyring: Keyring,
    endpoint_id: int,
    *,
    actor: str,
    configured: Iterable[WebhookEndpointConfig],
    on_change: OnChange | None = None,
) -> Rotated:
    """Make a new generated secret current; the old one keeps signing. ``configured``:
    the endpoints of the settings (one whose secret is set there is refused with
    :class:`SecretConfigured`). Raises :class:`EndpointNotFound`."""
    endpoint = await get_endpoint(db, keyring, endpoint_id)
    _check_not_configured(endpoint, configured)
    secret = generate_secret()
    async with db.transaction() as tx:
        rotated = await EndpointsRepository(db, keyring).rotate_secret(
            endpoint_id, secret, session=tx
        )
        if rotated is None:
            raise EndpointNotFound(f"webhook endpoint {endpoint_id} was removed meanwhile")
        await AuditRepository(db, keyring).record(
            "webhook.secret_rotated",
            actor=actor,
            detail={"endpoint_id": endpoint_id, "fingerprint": fingerprint(secret)},
            session=tx,
        )
    if on_change is not None:
        on_change()
    return Rotated(rotated, secret)


async def retire_secrets(
    db: Database,
    keyring: Keyring,
    endpoint_id: int,
    secret_id: int | None = None,
    *,
    actor: str,
    on_change: OnChange | None = None,
) -> Retired:
    """Stop signing with the endpoint's previous secrets (only ``secret_id`` if given). Raises
    :class:`EndpointNotFound` and :class:`SecretNotFound`."""
    await get_endpoint(db, keyring, endpoint_id)
    async with db.transaction() as tx:
        count = await EndpointsRepository(db, keyring).retire_secrets(
            endpoint_id, secret_id, session=tx
        )
        if secret_id is not None and count == 0:
            raise SecretNotFound(
                f"webhook endpoint {endpoint_id} has no previous secret with id {secret_id}",
                f"list them with `slackbridge webhooks secrets list {endpoint_id}`",
            )
        if count:
            await AuditRepository(db, keyring).record(
                "webhook.secret_retired",
                actor=actor,
                detail={"endpoint_id": endpoint_id, "secret_id": secret_id, "count": count},
                session=tx,
            )
    if on_change is not None:
        on_change()
    return Retired(await get_endpoint(db, keyring, endpoint_id), count)
