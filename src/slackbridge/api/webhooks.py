"""``/webhooks``: the product's webhook endpoints and the rotation of their signing secrets.

Rotating makes a new secret current while the old ones keep signing (each webhook then carries
one signature per secret); retiring ends the old ones. The actions themselves are the operator
actions of ``operations/webhook_secrets.py``, which the CLI calls too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from slackbridge.api.auth import AdminCaller
from slackbridge.api.errors import error_responses
from slackbridge.api.schemas_webhooks import (
    RotatedSecret,
    SigningSecret,
    WebhookEndpointInfo,
    WebhookEndpointList,
)
from slackbridge.operations.webhook_endpoints import get_endpoint, list_endpoints
from slackbridge.operations.webhook_secrets import describe_secrets, retire_secrets, rotate_secret
from slackbridge.product.endpoints import configured_endpoints, forget_cache
from slackbridge.runtime import gateway_of
from slackbridge.store.repositories.endpoints import WebhookEndpoint

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_MAX_ID = 2**63 - 1  # ids are 64-bit in the store
EndpointPath = Annotated[int, Path(ge=1, le=_MAX_ID, description="the endpoint id (GET /webhooks)")]
SecretPath = Annotated[int, Path(ge=1, le=_MAX_ID, description="a previous secret's id")]


def _info(endpoint: WebhookEndpoint) -> WebhookEndpointInfo:
    return WebhookEndpointInfo(
        id=endpoint.id,
        url=endpoint.shown_url,
        event_types=list(endpoint.event_types),
        synchronous=endpoint.synchronous,
        enabled=endpoint.enabled,
        secrets=[
            SigningSecret(id=s.id, fingerprint=s.fingerprint, current=s.current, since=s.since)
            for s in describe_secrets(endpoint)
        ],
    )


@router.get("", summary="List webhook endpoints", responses=error_responses())
async def list_webhook_endpoints(request: Request, _caller: AdminCaller) -> WebhookEndpointList:
    """Every endpoint slackbridge has stored, with its signing secrets' fingerprints."""
    gateway = gateway_of(request)
    endpoints = await list_endpoints(gateway.db, gateway.keyring)
    return WebhookEndpointList(endpoints=[_info(e) for e in endpoints])


@router.get(
    "/{endpoint_id}",
    summary="Get a webhook endpoint",
    responses=error_responses("endpoint_not_found"),
)
async def get_webhook_endpoint(
    endpoint_id: EndpointPath, request: Request, _caller: AdminCaller
) -> WebhookEndpointInfo:
    """One endpoint, with every secret it signs with."""
    gateway = gateway_of(request)
    return _info(await get_endpoint(gateway.db, gateway.keyring, endpoint_id))


@router.post(
    "/{endpoint_id}/secrets",
    status_code=201,
    summary="Rotate an endpoint's signing secret",
    responses=error_responses("endpoint_not_found", "secret_configured"),
)
async def rotate_webhook_secret(
    endpoint_id: EndpointPath, request: Request, caller: AdminCaller
) -> RotatedSecret:
    """Make a new generated secret current. The previous secrets keep signing (one signature
    each in ``webhook-signature``) until retired, so the product can switch at its own pace.
    The new secret is in this answer only."""
    gateway = gateway_of(request)
    rotated = await rotate_secret(
        gateway.db,
        gateway.keyring,
        endpoint_id,
        actor=f"api:{caller.name}",
        configured=configured_endpoints(gateway.settings),
        on_change=lambda: forget_cache(gateway),
    )
    return RotatedSecret(secret=rotated.secret, endpoint=_info(rotated.endpoint))


@router.delete(
    "/{endpoint_id}/secrets/previous",
    summary="Retire every previous secret",
    responses=error_responses("endpoint_not_found"),
)
async def retire_previous_secrets(
    endpoint_id: EndpointPath, request: Request, caller: AdminCaller
) -> WebhookEndpointInfo:
    """Stop signing with every secret but the current one."""
    gateway = gateway_of(request)
    retired = await retire_secrets(
        gateway.db,
        gateway.keyring,
        endpoint_id,
        actor=f"api:{caller.name}",
        on_change=lambda: forget_cache(gateway),
    )
    return _info(retired.endpoint)


@router.delete(
    "/{endpoint_id}/secrets/{secret_id}",
    summary="Retire one previous secret",
    responses=error_responses("endpoint_not_found", "secret_not_found"),
)
async def retire_one_secret(
    endpoint_id: EndpointPath, secret_id: SecretPath, request: Request, caller: AdminCaller
) -> WebhookEndpointInfo:
    """Stop signing with one previous secret (its ``id`` from the endpoint's ``secrets``)."""
    gateway = gateway_of(request)
    retired = await retire_secrets(
        gateway.db,
        gateway.keyring,
        endpoint_id,
        secret_id,
        actor=f"api:{caller.name}",
        on_change=lambda: forget_cache(gateway),
    )
    return _info(retired.endpoint)
