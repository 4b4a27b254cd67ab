"""``/webhooks``: the product's webhook endpoints and the rotation of their signing secrets.

Rotating makes a new secret current while the old ones keep signing (each webhook then carries
one signature per secret); retiring ends the old ones. See ``endpoint_secrets.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from slackbridge.product.api_errors import ApiError, error_responses
from slackbridge.product.auth import AdminCaller
from slackbridge.product.endpoint_secrets import (
    EndpointNotFound,
    SecretConfigured,
    SecretNotFound,
    describe_secrets,
    get_endpoint,
    list_endpoints,
    retire_secrets,
    rotate_secret,
)
from slackbridge.product.schemas_webhooks import (
    RotatedSecret,
    SigningSecret,
    WebhookEndpointInfo,
    WebhookEndpointList,
)
from slackbridge.server import Gateway, gateway_of
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


async def _endpoint(gateway: Gateway, endpoint_id: int) -> WebhookEndpoint:
    try:
        return await get_endpoint(gateway, endpoint_id)
    except EndpointNotFound as exc:
        raise ApiError("endpoint_not_found", str(exc)) from None


@router.get("", summary="List webhook endpoints", responses=error_responses())
async def list_webhook_endpoints(request: Request, _caller: AdminCaller) -> WebhookEndpointList:
    """Every endpoint slackbridge has stored, with its signing secrets' fingerprints."""
    endpoints = await list_endpoints(gateway_of(request))
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
    return _info(await _endpoint(gateway_of(request), endpoint_id))


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
    try:
        endpoint, secret = await rotate_secret(gateway, endpoint_id, actor=f"api:{caller.name}")
    except EndpointNotFound as exc:
        raise ApiError("endpoint_not_found", str(exc)) from None
    except SecretConfigured as exc:
        raise ApiError("secret_configured", str(exc)) from None
    return RotatedSecret(secret=secret, endpoint=_info(endpoint))


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
    try:
        endpoint, _count = await retire_secrets(gateway, endpoint_id, actor=f"api:{caller.name}")
    except EndpointNotFound as exc:
        raise ApiError("endpoint_not_found", str(exc)) from None
    return _info(endpoint)


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
    try:
        endpoint, _count = await retire_secrets(
            gateway, endpoint_id, secret_id, actor=f"api:{caller.name}"
        )
    except (EndpointNotFound, SecretNotFound) as exc:
        code = "endpoint_not_found" if isinstance(exc, EndpointNotFound) else "secret_not_found"
        raise ApiError(code, str(exc)) from None
    return _info(endpoint)
