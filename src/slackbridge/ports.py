"""Ports: what an edge may ask of another part without importing it.

The edges (Slack inbound and outbound, workspaces, the product's webhooks, the bridge, commands)
never import each other, and none imports the pipeline's dispatch. Where one must reach
another (the sender announcing ``message.delivered``, OAuth announcing ``workspace.installed``,
the sender asking for a workspace's token and reporting it dead, Socket Mode waiting for
Slack's shared rate-limit budget) it calls a port: a typed callable on ``gateway.ports``,
filled at start-up by the composition (:func:`slackbridge.wiring.compose_ports`), which is the
only place that knows which part answers.

Every port has a safe default, so a gateway built by hand (a test) works without composition:
nothing is told, no workspace is installed, no budget is shared. This module imports nothing of
slackbridge above the domain.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from slackbridge.domain.events import DomainEvent

__all__ = [
    "BotToken",
    "Notify",
    "Ports",
    "ReportTokenError",
    "ReserveSharedCall",
    "SlackCredentials",
    "TokenRefreshError",
    "UserToken",
    "WorkspaceUnavailable",
]

_HINTS = {
    "not_installed": "the app is not installed there; send an admin to /slack/install",
    "disconnected": "Slack rejected its token; reinstall the app through /slack/install",
    "uninstalled": "the app was uninstalled from it; reinstall it through /slack/install",
    "removed": "an operator removed it; reinstall it through /slack/install",
}


class WorkspaceUnavailable(Exception):
    """Calls for this workspace can't be made: ``status`` is ``not_installed``,
    ``disconnected``, ``uninstalled`` or ``removed``."""

    def __init__(self, team_id: str, status: str) -> None:
        self.team_id = team_id
        self.status = status
        hint = _HINTS.get(status, "")
        super().__init__(f"workspace {team_id or '?'} is {status}" + (f": {hint}" if hint else ""))


class TokenRefreshError(RuntimeError):
    """A refresh failed for a passing reason (network, rate limit); try again later."""


class SlackCredentials(Protocol):
    """A token to call Slack with, and the Slack app (``A…``) it was granted to."""

    @property
    def token(self) -> str: ...

    @property
    def app_id(self) -> str | None: ...

    @property
    def scopes(self) -> tuple[str, ...]: ...


#: Tell the product these events (one delivery per interested endpoint); returns how many
#: deliveries were stored (0 for events told before: dispatch dedupes on their keys).
Notify = Callable[[Sequence[DomainEvent]], Awaitable[int]]
#: ``(team_id, app_id)`` → the workspace's bot token, refreshed when due. Raises
#: :class:`WorkspaceUnavailable` or :class:`TokenRefreshError`.
BotToken = Callable[[str | None, str | None], Awaitable[SlackCredentials]]
#: ``(team_id, user_id, app_id)`` → the token that person granted, or None; raises like
#: :data:`BotToken`.
UserToken = Callable[[str | None, str, str | None], Awaitable[SlackCredentials | None]]
#: ``(team_id, app_id, Slack's error code)`` after a call with the bot token failed: True when
#: the token is dead (the workspace is then marked disconnected and the product told).
ReportTokenError = Callable[[str | None, str | None, str], Awaitable[bool]]
#: ``(team or app key, method, channel)`` → seconds to wait before this call fits the rate-limit
#: budget shared by every gateway on the store; 0.0 when it may go now (it is then counted).
ReserveSharedCall = Callable[[str, str, str | None], Awaitable[float]]
#: ``(team or app key, method, max_wait)`` → wait (at most ``max_wait`` seconds) until the
#: gateway's rate limiter (the one the outbox and every other Web API call go through) lets
#: this call go; 0.0 when it may go now (it is then counted), else the seconds still to wait.
ReserveCall = Callable[[str, str, float], Awaitable[float]]


async def _tell_no_one(events: Sequence[DomainEvent]) -> int:
    return 0


async def _no_bot_token(team_id: str | None, app_id: str | None) -> SlackCredentials:
    raise WorkspaceUnavailable(team_id or "", "not_installed")


async def _no_user_token(
    team_id: str | None, user_id: str, app_id: str | None
) -> SlackCredentials | None:
    return None


async def _no_token_death(team_id: str | None, app_id: str | None, error: str) -> bool:
    return False


async def _nothing_shared(key: str, method: str, channel: str | None) -> float:
    return 0.0


async def _no_limit(key: str, method: str, max_wait: float) -> float:
    return 0.0


@dataclass(frozen=True)
class Ports:
    """The callables one gateway's parts reach each other through (see the module doc)."""

    notify: Notify = _tell_no_one
    bot_token: BotToken = _no_bot_token
    user_token: UserToken = _no_user_token
    report_token_error: ReportTokenError = _no_token_death
    reserve_shared_call: ReserveSharedCall = _nothing_shared
    reserve_call: ReserveCall = _no_limit
