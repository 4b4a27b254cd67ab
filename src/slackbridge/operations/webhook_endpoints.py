"""The product's webhook endpoints as the gateway stored them (configured at start-up)."""

from __future__ import annotations

from slackbridge.operations.errors import EndpointNotFound
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.endpoints import EndpointsRepository, WebhookEndpoint

__all__ = ["WebhookEndpoint", "get_endpoint", "list_endpoints"]


async def list_endpoints(db: Database, keyring: Keyring) -> list[WebhookEndpoint]:
    """Every stored endpoint (configured or no longer), in id order."""
    return await EndpointsRepository(db, keyring).list()


async def get_endpoint(db: Database, keyring: Keyring, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint with ``endpoint_id``; raises :class:`EndpointNotFound`."""
    endpoint = await EndpointsRepository(db, keyring).get(endpoint_id)
    if endpoint is None:
        raise EndpointNotFound(
            f"no webhook endpoint has id {endpoint_id}",
            "list them with `slackbridge webhooks list`",
        )
    return endpoint
