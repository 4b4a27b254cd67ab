"""A typed async Python client for slackbridge's product API, and webhook verification.

::

    from slackbridge.client import Slackbridge, verify_webhook

    async with Slackbridge("http://127.0.0.1:8000", api_key) as sb:
        sent = await sb.messages.post("T0ACME0001", "C0ACME0SUP", "Hello from the product")
        done = await sb.messages.wait(sent.id)          # status "sent", with done.ts
        await sb.messages.post("T0ACME0001", "C0ACME0SUP", "a reply", reply_to=sent.id)

Every method returns a typed model (the same ones the API's OpenAPI document describes) or raises
:class:`SlackbridgeError` (a subclass per HTTP status) carrying the API's stable ``code``. Pass
``transport=`` to talk to an in-process app (``httpx.ASGITransport``) in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from slackbridge.client_commands import (
    CommandDeclaration,
    CommandMatched,
    Commands,
    DeclaredCommand,
)
from slackbridge.client_conversations import (
    BridgeMessage,
    Conversation,
    Conversations,
    UserLink,
    UserLinks,
    WatchedChannel,
    WatchedChannels,
)
from slackbridge.client_models import (
    Accepted,
    ErrorBody,
    InstallUrl,
    MessageMetadata,
    OperationStatus,
    Permalink,
    Persona,
    SlackUser,
    ViewResult,
    WebhookEvent,
    Workspace,
)
from slackbridge.client_resources import (
    Files,
    Messages,
    Responses,
    SlackPassThrough,
    Users,
    Views,
    Workspaces,
)
from slackbridge.product.signing import WebhookVerificationError, verify_webhook

__all__ = [
    "Accepted",
    "AuthenticationError",
    "BridgeMessage",
    "CommandDeclaration",
    "CommandMatched",
    "ConflictError",
    "Conversation",
    "DeclaredCommand",
    "InstallUrl",
    "InvalidRequestError",
    "MessageMetadata",
    "NotFoundError",
    "OperationStatus",
    "Permalink",
    "Persona",
    "RateLimitedError",
    "SlackUser",
    "Slackbridge",
    "SlackbridgeError",
    "UnavailableError",
    "UserLink",
    "ViewResult",
    "WatchedChannel",
    "WebhookEvent",
    "WebhookVerificationError",
    "Workspace",
    "parse_webhook",
    "verify_webhook",
]


class SlackbridgeError(Exception):
    """An error answer of the API: ``status``, the stable ``code`` and a ``message``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.retry_after = retry_after


class AuthenticationError(SlackbridgeError):
    """401: the API key is missing, unknown or revoked."""


class NotFoundError(SlackbridgeError):
    """404: no such workspace, message, user, app or conversation."""


class ConflictError(SlackbridgeError):
    """409: an Idempotency-Key reused with another body, or a message not sent (yet)."""


class InvalidRequestError(SlackbridgeError):
    """400/403/413/415/422: the request (or Slack, for ``slack_error``) refused the input."""


class RateLimitedError(SlackbridgeError):
    """429: Slack's limit for a synchronous call is used up; see ``retry_after``."""


class UnavailableError(SlackbridgeError):
    """5xx: the workspace is disconnected or uninstalled, or Slack failed; see ``code``."""


def _error_class(status: int) -> type[SlackbridgeError]:
    if status == 401:
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return UnavailableError
    return InvalidRequestError


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = ErrorBody.model_validate(response.json()["error"])
        code, message, details = body.code, body.message, body.details
    except (ValueError, KeyError, TypeError):
        code, message, details = f"http_{response.status_code}", response.text[:200], None
    retry = response.headers.get("Retry-After")
    raise _error_class(response.status_code)(
        response.status_code,
        code,
        message,
        details=details,
        retry_after=float(retry) if retry and retry.isdigit() else None,
    )


def parse_webhook(secret: str, headers: Mapping[str, str], body: bytes | str) -> WebhookEvent:
    """Verify a slackbridge webhook (Standard Webhooks signature) and parse its body.

    Raises :class:`WebhookVerificationError` when the signature or timestamp is wrong.
    """
    return WebhookEvent.model_validate(verify_webhook(secret, headers, body))


class Slackbridge:
    """The product API client. Use it as an async context manager (or call :meth:`aclose`)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        root = base_url.rstrip("/")
        if not root.endswith("/api/v1"):
            root += "/api/v1"
        self._http = httpx.AsyncClient(
            base_url=root,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "slackbridge-client"},
            transport=transport,
            timeout=timeout,
        )
        self.workspaces = Workspaces(self)
        self.messages = Messages(self)
        self.files = Files(self)
        self.views = Views(self)
        self.responses = Responses(self)
        self.users = Users(self)
        self.slack = SlackPassThrough(self)
        self.commands = Commands(self)
        self.conversations = Conversations(self)
        self.user_links = UserLinks(self)
        self.watched_channels = WatchedChannels(self)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One API call: the parsed JSON answer, or a :class:`SlackbridgeError`."""
        response = await self._http.request(method, path, json=json, params=params, headers=headers)
        _raise_for(response)
        return response.json()

    async def request_empty(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> None:
        """A call answered without a body (204), or a :class:`SlackbridgeError`."""
        response = await self._http.request(method, path, params=params)
        _raise_for(response)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Slackbridge:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
