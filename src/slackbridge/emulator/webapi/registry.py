"""How Web API methods are declared.

A method module decorates an async handler with :func:`method`; the dispatcher (``dispatch.py``)
finds it by name, authenticates the caller, checks scopes, applies the tier's rate limit, runs the
handler and wraps the result in Slack's envelope. A handler returns the response fields without
``ok``; it raises :class:`SlackError` for Slack's ``{"ok": false, "error": …}`` answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request

from slackbridge.emulator.state import EmulatorState, Token

__all__ = ["REGISTRY", "CallContext", "MethodSpec", "SlackError", "method"]

# Which credential a method takes:
#   "token"  bot or user token (xoxb-/xoxp-), the usual case
#   "app"    app-level token (xapp-), e.g. apps.connections.open
#   "config" configuration token, e.g. apps.manifest.create
#   "none"   client credentials in the body, e.g. oauth.v2.access
AuthKind = Literal["token", "app", "config", "none"]
# Slack's tiers 1-4 (per minute: 1+, 20+, 50+, 100+), "post" for chat.postMessage's
# per-channel limit, or None for methods Slack does not rate limit.
Tier = Literal[1, 2, 3, 4, "post"] | None


class SlackError(Exception):
    """A logical error: HTTP 200 with ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class CallContext:
    state: EmulatorState
    args: dict[str, Any]  # query, form or JSON body fields merged (form values are strings)
    token: Token | None  # the authenticated token, for auth kinds "token"/"app"/"config"
    request: Request
    warnings: list[str] = field(default_factory=list)

    def arg(self, name: str, default: Any = None) -> Any:
        value = self.args.get(name, default)
        return default if value == "" else value

    def require(self, name: str) -> Any:
        value = self.arg(name)
        if value is None:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
            )
        return value


Handler = Callable[[CallContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Handler
    tier: Tier
    scopes: tuple[str, ...]  # any one of these grants access; empty: no scope needed
    auth: AuthKind


REGISTRY: dict[str, MethodSpec] = {}


def method(
    name: str, *, tier: Tier, scopes: tuple[str, ...] = (), auth: AuthKind = "token"
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the Web API method ``name``."""

    def register(handler: Handler) -> Handler:
        REGISTRY[name] = MethodSpec(name, handler, tier, scopes, auth)
        return handler

    return register
