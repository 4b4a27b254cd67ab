"""The product's webhook endpoints: configured in settings, synced into the store at start-up.

``SLACKBRIDGE_WEBHOOK_URL`` (+ ``SLACKBRIDGE_WEBHOOK_SECRET``) configures one endpoint that gets
every type except the opt-in ones; ``SLACKBRIDGE_WEBHOOKS`` (a JSON list, or ``[[webhooks]]``
tables in slackbridge.toml) configures several, each with its own ``event_types`` filter and
``synchronous`` flag. At start-up the store is made to match: configured endpoints are created or
updated, the others are disabled (kept, with their history). An endpoint configured without a
secret keeps the secret already stored for it, or gets a generated one, which
``slackbridge webhooks list --show-secret`` shows. A changed secret does not end the old one
at once: both sign until the old one is retired (``slackbridge webhooks secrets``).

URLs are shown only without their credentials and query (:func:`~slackbridge.redact.redact_url`),
and URLs to link-local or cloud metadata addresses are refused (``webhook_addresses.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

from slackbridge.domain.events import DomainEvent
from slackbridge.product.signing import generate_secret
from slackbridge.product.webhook_addresses import refused_url
from slackbridge.product.webhook_policy import webhook_id
from slackbridge.redact import redact_url
from slackbridge.runtime import Gateway, Slot
from slackbridge.settings import Settings, WebhookEndpointConfig
from slackbridge.store.repositories.endpoints import (
    EndpointSpec,
    EndpointsRepository,
    WebhookEndpoint,
)

__all__ = [
    "EndpointConfigError",
    "WebhookEndpoint",
    "configured_endpoints",
    "enabled_endpoints",
    "endpoint_by_id",
    "endpoint_webhook_id",
    "forget_cache",
    "sync_endpoints",
]

_log = logging.getLogger("slackbridge.webhooks")

# Endpoints change only at start-up (or from the CLI of another process), so reading them again
# every few seconds is plenty and keeps the hot paths free of queries.
_CACHE_SECONDS = 2.0


class EndpointConfigError(ValueError):
    """The webhook settings are inconsistent; the message says which setting to fix."""


@dataclass
class _Cache:
    endpoints: list[WebhookEndpoint]
    loaded_at: float


class _Endpoints:
    """The endpoints as this runtime last read them, and the lock of the one reload at a time."""

    def __init__(self, gateway: Gateway) -> None:
        self.read: _Cache | None = None
        self.loading = asyncio.Lock()

    def fresh(self) -> _Cache | None:
        cache = self.read
        if cache is None or time.monotonic() - cache.loaded_at > _CACHE_SECONDS:
            return None
        return cache


_ENDPOINTS: Slot[_Endpoints] = Slot("webhook endpoints", _Endpoints)


def endpoint_webhook_id(event: DomainEvent, endpoint_id: int) -> str:
    """The ``webhook-id`` of ``event`` at one endpoint: the same on every retry and every
    redelivery (a crashed worker's rows produce the same ids), different per endpoint (each
    endpoint dedupes on its own)."""
    digest = hashlib.sha256(f"{webhook_id(event)}\x00{endpoint_id}".encode()).hexdigest()
    return "msg_" + digest[:32]


def configured_endpoints(settings: Settings) -> list[WebhookEndpointConfig]:
    """Every endpoint in the settings, the single ``webhook_url`` first; one entry per URL."""
    configs: list[WebhookEndpointConfig] = []
    if settings.webhook_url:
        configs.append(
            WebhookEndpointConfig(url=settings.webhook_url, secret=settings.webhook_secret)
        )
    configs.extend(settings.webhooks)
    seen: set[str] = set()
    for config in configs:
        shown = redact_url(config.url)
        if not config.url.startswith(("http://", "https://")):
            raise EndpointConfigError(f"webhook URL {shown!r} must start with http:// or https://")
        if config.url in seen:
            raise EndpointConfigError(
                f"webhook URL {shown} is configured twice; list each endpoint once "
                "(SLACKBRIDGE_WEBHOOK_URL and SLACKBRIDGE_WEBHOOKS together)"
            )
        why = None if settings.webhook_allow_link_local else refused_url(config.url)
        if why is not None:
            raise EndpointConfigError(
                f"webhook URL {shown} is refused: {why}; point it at the product, or set "
                "SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL=true if that address really is the product"
            )
        seen.add(config.url)
    return configs


def _repo(gateway: Gateway) -> EndpointsRepository:
    return EndpointsRepository(gateway.db, gateway.keyring)


async def sync_endpoints(gateway: Gateway) -> list[WebhookEndpoint]:
    """Make the stored endpoints match the settings; returns the configured ones as stored."""
    configs = configured_endpoints(gateway.settings)
    repo = _repo(gateway)
    sealed = await repo.seal_plaintext_urls()
    if sealed:
        _log.info("encrypted %d webhook URL(s) stored in plaintext by an older version", sealed)
    stored = {e.url: e for e in await repo.list()}
    specs: list[EndpointSpec] = []
    generated: list[str] = []
    for config in configs:
        secret = config.secret.get_secret_value() if config.secret else None
        if not secret:
            kept = stored.get(config.url)
            secret = kept.secret if kept is not None and kept.secret else None
        if not secret:
            secret = generate_secret()
            generated.append(config.url)
        specs.append(
            EndpointSpec(
                url=config.url,
                secret=secret,
                event_types=tuple(config.event_types),
                synchronous=config.synchronous,
            )
        )
    endpoints = await repo.sync(specs)
    forget_cache(gateway)
    for url in generated:
        _log.warning(
            "generated a signing secret for webhook endpoint %s; show it with "
            "`slackbridge webhooks list --show-secret` (or set it with SLACKBRIDGE_WEBHOOK_SECRET)",
            redact_url(url),
        )
    return endpoints


def forget_cache(gateway: Gateway) -> None:
    """Make the next lookup read the endpoints from the store."""
    _ENDPOINTS.of(gateway).read = None


async def _all(gateway: Gateway) -> list[WebhookEndpoint]:
    held = _ENDPOINTS.of(gateway)
    cache = held.fresh()
    if cache is not None:
        return cache.endpoints
    # One reload at a time: when the cache runs out, every delivery in flight asks at once
    # (measured: dozens of identical reads per expiry under load); they wait for one read.
    async with held.loading:
        cache = held.fresh()
        if cache is None:
            cache = held.read = _Cache(await _repo(gateway).list(), time.monotonic())
    return cache.endpoints


async def enabled_endpoints(gateway: Gateway) -> list[WebhookEndpoint]:
    """The endpoints that receive webhooks, in id order (read from a short-lived cache)."""
    return [e for e in await _all(gateway) if e.enabled]


async def endpoint_by_id(gateway: Gateway, endpoint_id: int) -> WebhookEndpoint | None:
    """The endpoint with row id ``endpoint_id`` (enabled or not)."""
    for endpoint in await _all(gateway):
        if endpoint.id == endpoint_id:
            return endpoint
    return await _repo(gateway).get(endpoint_id)
