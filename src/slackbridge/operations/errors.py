"""The refusals of operator actions, one class per kind, so that every front end can say what
went wrong the same way: the CLI prints ``reason`` (and ``hint``, what to do next) and exits
non-zero; the API answers ``code`` (its error code, whose HTTP status the API knows) with
``str(error)`` as the message.

``str(error)`` is the whole sentence: ``reason``, then ``hint`` after ``separator`` when there is
one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

__all__ = [
    "ApiKeyNotFound",
    "AppNotConfigured",
    "AppNotFound",
    "DeliveriesNotRetryable",
    "EndpointNotFound",
    "InvalidInput",
    "MissingConfigurationToken",
    "NotFound",
    "OperationError",
    "SecretConfigured",
    "SecretNotFound",
    "WorkspaceNotFound",
    "sentence",
]


def sentence(clause: str) -> str:
    """``clause`` as a sentence of its own: capitalised, with a full stop."""
    text = clause[:1].upper() + clause[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class OperationError(Exception):
    """An operator action refused; nothing was changed."""

    #: A stable name of the kind of refusal (the API answers it as its error code).
    code: ClassVar[str] = "invalid_request"
    separator: ClassVar[str] = "; "

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason + (f"{self.separator}{hint}" if hint else ""))
        self.reason = reason
        self.hint = hint


class InvalidInput(OperationError, ValueError):
    """An argument can't be used as given (the reason says which and why)."""


class NotFound(OperationError, LookupError):
    """What the action names does not exist."""

    code = "not_found"


class AppNotFound(NotFound):
    """No stored Slack app has this name (the reason names the apps there are)."""

    code = "app_not_found"


class AppNotConfigured(NotFound):
    """No app of the settings has this name; the hint names the configured ones."""

    code = "app_not_found"


class WorkspaceNotFound(NotFound):
    """The workspace has no installation (of the app named)."""

    code = "workspace_not_found"


class EndpointNotFound(NotFound):
    """No webhook endpoint has this id."""

    code = "endpoint_not_found"


class SecretNotFound(NotFound):
    """The endpoint has no previous secret with this id."""

    code = "secret_not_found"


class ApiKeyNotFound(NotFound):
    """No active API key has this prefix."""

    code = "api_key_not_found"


class SecretConfigured(OperationError):
    """The endpoint's secret comes from the configuration; the hint says how to rotate it."""

    code = "secret_configured"
    separator = ": "


class MissingConfigurationToken(OperationError):
    """Provisioning needs an app configuration token and none was given or configured."""

    code = "configuration_token_missing"


class DeliveriesNotRetryable(OperationError):
    """Some deliveries asked to be retried are not dead (or do not exist): ``refused`` holds
    ``(id, status)`` for each, status None for a delivery that does not exist."""

    code = "delivery_not_dead"

    def __init__(self, refused: Sequence[tuple[int, str | None]]) -> None:
        self.refused = tuple(refused)
        super().__init__(
            "; ".join(f"delivery {i} {describe_refusal(s)}" for i, s in self.refused),
            "only dead deliveries can be retried; nothing was changed",
        )


def describe_refusal(status: str | None) -> str:
    """Why a delivery in ``status`` (None: there is none) can't be retried."""
    return "does not exist" if status is None else f"is {status}, not dead"
