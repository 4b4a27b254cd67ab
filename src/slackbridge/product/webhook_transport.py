"""Webhook delivery through an injected HTTP transport, for tests and embedding.

:class:`~slackbridge.product.webhook_client.WebhookClient` speaks HTTP/1.1 over sockets of its
own, which is what makes delivery cheap. When the gateway was given a transport instead
(``create_app(http_transport=...)``: a test's product as an ASGI app, or a mock), deliveries go
through the gateway's httpx client on that transport, with the same interface and errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx

from slackbridge.product.webhook_client import (
    Dial,
    WebhookClient,
    WebhookError,
    WebhookResponse,
    WebhookTimeout,
)

__all__ = ["HttpxWebhookClient", "WebhookPoster", "webhook_poster"]


class WebhookPoster(Protocol):
    """What the delivery worker posts webhooks through."""

    @property
    def dials(self) -> bool:
        """Whether new connections go through the ``dial`` it was given (which vets the host);
        else the worker vets the host before each request."""
        ...

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float,  # noqa: ASYNC109 (the request's one deadline)
    ) -> WebhookResponse: ...

    async def aclose(self) -> None: ...


class HttpxWebhookClient:
    """Posts through an ``httpx.AsyncClient`` (whose transport the caller chose)."""

    dials = False

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float,  # noqa: ASYNC109 (the request's one deadline)
    ) -> WebhookResponse:
        try:
            response = await self._http.post(
                url, content=body, headers=dict(headers), timeout=timeout, follow_redirects=False
            )
        except httpx.TimeoutException:
            raise WebhookTimeout(f"no answer within {timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise WebhookError(f"{exc.__class__.__name__}: {exc}") from None
        return WebhookResponse(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}
        )

    async def aclose(self) -> None:
        """The httpx client belongs to the gateway, which closes it."""


def webhook_poster(
    http: httpx.AsyncClient, transport: httpx.AsyncBaseTransport | None, dial: Dial | None
) -> WebhookPoster:
    """The kept-alive socket client (its connections opened through ``dial``), or the gateway's
    httpx client when a transport was given."""
    if transport is not None:
        return HttpxWebhookClient(http)
    return WebhookClient(dial=dial)
