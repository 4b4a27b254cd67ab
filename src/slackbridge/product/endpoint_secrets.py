"""Rotating webhook signing secrets with an overlap: the operator actions behind
``slackbridge webhooks secrets`` and the API's ``/webhooks/{id}/secrets``.

``rotate`` makes a new secret current and keeps the old one signing: every webhook then carries
one signature per secret, so the product verifies with either while it switches over. ``retire``
ends the old ones (all of them, or one) once the product uses the new secret. A new secret is
returned once; afterwards only its fingerprint is shown. Each action is written to the audit log.

An endpoint whose secret is set in the configuration (``SLACKBRIDGE_WEBHOOK_SECRET`` or a
``secret`` in ``SLACKBRIDGE_WEBHOOKS``) is rotated there instead: the next start makes the new
value current and keeps the old one signing, until it is retired here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from slackbridge.product.endpoints import configured_endpoints, forget_cache
from slackbridge.product.signing import generate_secret
from slackbridge.server import Gateway
from slackbridge.store.repositories.audit import AuditRepository
from slackbridge.store.repositories.endpoints import EndpointsRepository, WebhookEndpoint

__all__ = [
    "EndpointNotFound",
    "SecretConfigured",
    "SecretInfo",
    "SecretNotFound",
    "describe_secrets",
    "fingerprint",
    "get_endpoint",
    "list_endpoints",
    "retire_secrets",
    "rotate_secret",
]


class EndpointNotFound(LookupError):
    """No webhook endpoint has this id."""


class SecretNotFound(LookupError):
    """The endpoint has no previous secret with this id."""


class SecretConfigured(ValueError):
    """The endpoint's secret comes from the configuration; the message says how to rotate it."""


@dataclass(frozen=True)
class SecretInfo:
    """A signing secret as it may be shown: never the secret, only its fingerprint.

    ``id`` is None for the current secret; ``since`` is when a previous one was replaced (its
    overlap began), None for the current one."""

    id: int | None
    fingerprint: str
    current: bool
    since: datetime | None


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


def _repo(gateway: Gateway) -> EndpointsRepository:
    return EndpointsRepository(gateway.db, gateway.keyring)


async def list_endpoints(gateway: Gateway) -> list[WebhookEndpoint]:
    """Every stored endpoint (configured or no longer), in id order."""
    return await _repo(gateway).list()


async def get_endpoint(gateway: Gateway, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await _repo(gateway).get(endpoint_id)
    if endpoint is None:
        raise EndpointNotFound(
            f"no webhook endpoint has id {endpoint_id}; list them with `slackbridge webhooks list`"
        )
    return endpoint


def _check_not_configured(gateway: Gateway, endpoint: WebhookEndpoint) -> None:
    for config in configured_endpoints(gateway.settings):
        if config.url == endpoint.url and config.secret is not None:
            raise SecretConfigured(
                f"the secret of webhook endpoint {endpoint.id} is set in the configuration "
                "(SLACKBRIDGE_WEBHOOK_SECRET or SLACKBRIDGE_WEBHOOKS): put the new secret there "
                "and restart; the old one keeps signing until you retire it"
            )


async def rotate_secret(
    gateway: Gateway, endpoint_id: int, *, actor: str
) -> tuple[WebhookEndpoint, str]:
    """Make a new generated secret current (the old one keeps signing); the endpoint and the
    new secret, which is shown this once."""
    endpoint = await get_endpoint(gateway, endpoint_id)
    _check_not_configured(gateway, endpoint)
    secret = generate_secret()
    async with gateway.db.transaction() as tx:
        rotated = await _repo(gateway).rotate_secret(endpoint_id, secret, session=tx)
        if rotated is None:
            raise EndpointNotFound(f"webhook endpoint {endpoint_id} was removed meanwhile")
        await AuditRepository(gateway.db, gateway.keyring).record(
            "webhook.secret_rotated",
            actor=actor,
            detail={"endpoint_id": endpoint_id, "fingerprint": fingerprint(secret)},
            session=tx,
        )
    forget_cache(gateway)
    return rotated, secret


async def retire_secrets(
    gateway: Gateway, endpoint_id: int, secret_id: int | None = None, *, actor: str
) -> tuple[WebhookEndpoint, int]:
    """Stop signing with the endpoint's previous secrets (only ``secret_id`` if given); the
    endpoint as it is now and how many were retired."""
    await get_endpoint(gateway, endpoint_id)
    async with gateway.db.transaction() as tx:
        count = await _repo(gateway).retire_secrets(endpoint_id, secret_id, session=tx)
        if secret_id is not None and count == 0:
            raise SecretNotFound(
                f"webhook endpoint {endpoint_id} has no previous secret with id {secret_id}; "
                f"list them with `slackbridge webhooks secrets list {endpoint_id}`"
            )
        if count:
            await AuditRepository(gateway.db, gateway.keyring).record(
                "webhook.secret_retired",
                actor=actor,
                detail={"endpoint_id": endpoint_id, "secret_id": secret_id, "count": count},
                session=tx,
            )
    forget_cache(gateway)
    return await get_endpoint(gateway, endpoint_id), count
