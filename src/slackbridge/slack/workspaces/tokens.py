"""Tokens for calling Slack: found per workspace, refreshed before they expire, single-flight.

With token rotation on, Slack's access tokens live 12 hours and each refresh token works once.
:func:`bot_token` and :func:`user_token` refresh a token that expires within
:data:`REFRESH_MARGIN`, holding the installation's refresh lock (a row lock on PostgreSQL, so one
refresh per token at a time across every process); whoever waited on the lock finds the fresh
token and does not refresh again. A background worker refreshes tokens of idle workspaces too.

Calls for a workspace that is not ``active`` raise :class:`WorkspaceUnavailable`. The workspace
life-cycle (token death, uninstall, removal) lives in :mod:`slackbridge.slack.workspaces.lifecycle`
and is
re-exported here, because callers think of it as "what to do with a token Slack refused".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from slackbridge.ports import TokenRefreshError, WorkspaceUnavailable
from slackbridge.slack.workspaces.apps import SlackApp, app_by_ref
from slackbridge.slack.workspaces.call_budget import within_budget
from slackbridge.slack.workspaces.install_result import expiry_of
from slackbridge.slack.workspaces.lifecycle import (
    TOKEN_DEATH_ERRORS,
    installations_repo,
    locate_installations,
    mark_disconnected,
    own_identity,
    revoke_user_tokens,
    uninstall,
)
from slackbridge.slack.workspaces.oauth_access import refresh_token
from slackbridge.store.errors import RefreshConflict
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.installations import Installation, UserToken

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway, Worker

__all__ = [
    "REFRESH_MARGIN",
    "TOKEN_DEATH_ERRORS",
    "BotCredentials",
    "TokenRefreshError",
    "UserCredentials",
    "WorkspaceUnavailable",
    "bot_token",
    "call_as_bot",
    "find_installation",
    "own_identity",
    "refresh_bot_token",
    "refresh_expiring",
    "report_token_error",
    "revoke_user_tokens",
    "uninstall",
    "user_token",
    "workers",
]

_log = logging.getLogger("slackbridge.tokens")

#: A token expiring within this margin is refreshed before it is handed out.
REFRESH_MARGIN = timedelta(minutes=5)
# Answers to a refresh that mean the refresh token itself is dead (not a passing failure).
_DEAD_REFRESH = frozenset({"invalid_refresh_token", "invalid_grant_type", *TOKEN_DEATH_ERRORS})


@dataclass(frozen=True)
class BotCredentials:
    """What a caller needs to act as the app's bot in one workspace."""

    token: str = field(repr=False)
    team_id: str | None
    enterprise_id: str | None
    app_id: str | None  # Slack's A…
    app_ref: int  # the app's row id in the store
    installation_id: int
    bot_user_id: str | None
    bot_id: str | None
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass(frozen=True)
class UserCredentials:
    """A token one person granted (user scopes) in one workspace."""

    token: str = field(repr=False)
    team_id: str | None
    enterprise_id: str | None
    user_id: str
    app_id: str | None
    app_ref: int
    installation_id: int
    scopes: tuple[str, ...]
    expires_at: datetime | None


def _due(expires_at: datetime | None, now: datetime, margin: timedelta = REFRESH_MARGIN) -> bool:
    return expires_at is not None and expires_at - now <= margin


def _expiry(answer: AsyncSlackResponse, now: datetime) -> datetime | None:
    return expiry_of(answer.data if isinstance(answer.data, dict) else {}, now)


async def find_installation(
    gateway: Gateway,
    team_id: str | None,
    *,
    app_id: str | None = None,
    enterprise_id: str | None = None,
) -> tuple[SlackApp, Installation] | None:
    """The installation serving ``team_id`` (any status): of app ``app_id`` (Slack's ``A…``
    id) when given, else of the first app installed there, preferring an active one. An
    org-wide installation of ``enterprise_id`` serves teams that have none of their own."""
    found = await locate_installations(gateway, team_id, app_id, enterprise_id)
    if not found:
        return None
    return next(((a, i) for a, i in found if i.is_active), found[0])


async def _active(
    gateway: Gateway, team_id: str | None, app_id: str | None, enterprise_id: str | None
) -> tuple[SlackApp, Installation]:
    located = await find_installation(gateway, team_id, app_id=app_id, enterprise_id=enterprise_id)
    if located is None:
        raise WorkspaceUnavailable(team_id or enterprise_id or "", "not_installed")
    app, inst = located
    if not inst.is_active or not inst.bot_token:
        raise WorkspaceUnavailable(team_id or enterprise_id or "", inst.status)
    return app, inst


async def _refresh_call(
    gateway: Gateway, app: SlackApp, team_id: str | None, token: str
) -> AsyncSlackResponse:
    await within_budget(gateway, team_id or app.app_id, "oauth.v2.access")
    return await refresh_token(gateway.slack_client(), app, token)


def _error_of(exc: Exception) -> str | None:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error")
        return str(error) if error else None
    return None


async def refresh_bot_token(
    gateway: Gateway, app: SlackApp, inst: Installation, margin: timedelta = REFRESH_MARGIN
) -> Installation:
    """``inst`` with a bot token that lives longer than ``margin`` (refreshing it if needed)."""
    if not _due(inst.bot_token_expires_at, utcnow(), margin) or not inst.bot_refresh_token:
        return inst
    repo = installations_repo(gateway)
    failure: Exception | None = None
    async with repo.lock_for_refresh(inst.id) as lock:
        current = lock.installation
        now = utcnow()
        if not current.is_active or not current.bot_refresh_token:
            raise WorkspaceUnavailable(current.team_id or "", current.status)
        if not _due(current.bot_token_expires_at, now, margin):
            return current  # refreshed by whoever held the lock before us
        try:
            answer = await _refresh_call(gateway, app, current.team_id, current.bot_refresh_token)
        except Exception as exc:
            failure = exc
        else:
            try:
                saved = await lock.save_bot_token(
                    str(answer["access_token"]), answer.get("refresh_token"), _expiry(answer, now)
                )
            except RefreshConflict:
                saved = await repo.get(current.id) or current
            _log.info("refreshed the bot token of %s (app %s)", saved.team_id, app.name)
            return saved
    # Out of the lock (on PostgreSQL it is a row lock that marking the workspace would wait on).
    latest = await repo.get(current.id)
    if latest is not None and latest.bot_refresh_token != current.bot_refresh_token:
        return latest  # another process refreshed it first (SQLite has no cross-process lock)
    error = _error_of(failure)
    if error in _DEAD_REFRESH:
        await mark_disconnected(gateway, app, current, error or "invalid_refresh_token")
        raise WorkspaceUnavailable(current.team_id or "", "disconnected")
    if current.bot_token_expires_at is not None and current.bot_token_expires_at > now:
        _log.warning(
            "refreshing the bot token of %s failed (%s); using it until it expires",
            current.team_id,
            error or repr(failure),
        )
        return current
    raise TokenRefreshError(
        f"refreshing the bot token of {current.team_id} failed ({error or repr(failure)})"
    )


async def bot_token(
    gateway: Gateway,
    team_id: str | None,
    *,
    app_id: str | None = None,
    enterprise_id: str | None = None,
) -> BotCredentials:
    """The bot token for ``team_id`` (refreshed first when it expires soon).

    Raises :class:`WorkspaceUnavailable` when the workspace is not installed, disconnected,
    uninstalled or removed, and :class:`TokenRefreshError` when a due refresh failed for a
    passing reason and the old token has expired.
    """
    app, inst = await _active(gateway, team_id, app_id, enterprise_id)
    inst = await refresh_bot_token(gateway, app, inst)
    if inst.bot_token is None:
        raise WorkspaceUnavailable(team_id or "", inst.status)
    return BotCredentials(
        token=inst.bot_token,
        team_id=inst.team_id,
        enterprise_id=inst.enterprise_id,
        app_id=app.app_id,
        app_ref=app.id,
        installation_id=inst.id,
        bot_user_id=inst.bot_user_id,
        bot_id=inst.bot_id,
        scopes=inst.bot_scopes,
        expires_at=inst.bot_token_expires_at,
    )


async def _fresh_user(
    gateway: Gateway, app: SlackApp, inst: Installation, stored: UserToken
) -> UserToken | None:
    """``stored`` refreshed if it expires soon; ``None`` when Slack says it is dead."""
    if not _due(stored.expires_at, utcnow()) or not stored.refresh_token:
        return stored
    repo = installations_repo(gateway)
    failure: Exception | None = None
    async with repo.lock_for_refresh(inst.id) as lock:
        current = await lock.user_token(stored.user_id)
        now = utcnow()
        if current is None or not current.refresh_token or not _due(current.expires_at, now):
            return current
        try:
            answer = await _refresh_call(gateway, app, inst.team_id, current.refresh_token)
        except Exception as exc:
            failure = exc
        else:
            try:
                return await lock.save_user_token(
                    stored.user_id,
                    str(answer["access_token"]),
                    answer.get("refresh_token"),
                    _expiry(answer, now),
                )
            except RefreshConflict:
                return await repo.get_user_token(inst.id, stored.user_id)
    latest = await repo.get_user_token(inst.id, stored.user_id)
    if latest is not None and latest.refresh_token != current.refresh_token:
        return latest
    error = _error_of(failure)
    if error in _DEAD_REFRESH:
        await repo.forget_tokens(inst.id, bot=False, user_ids=[stored.user_id])
        return None
    if current.expires_at is not None and current.expires_at > now:
        return current
    raise TokenRefreshError(
        f"refreshing the user token of {stored.user_id} failed ({error or repr(failure)})"
    )


async def user_token(
    gateway: Gateway,
    team_id: str | None,
    user_id: str,
    *,
    app_id: str | None = None,
    enterprise_id: str | None = None,
) -> UserCredentials | None:
    """The token ``user_id`` granted in ``team_id`` (refreshed when due), or ``None`` when that
    person never granted one (or revoked it). Raises :class:`WorkspaceUnavailable` like
    :func:`bot_token`."""
    app, inst = await _active(gateway, team_id, app_id, enterprise_id)
    stored = await installations_repo(gateway).get_user_token(inst.id, user_id)
    if stored is None:
        return None
    fresh = await _fresh_user(gateway, app, inst, stored)
    if fresh is None or fresh.token is None:
        return None
    return UserCredentials(
        token=fresh.token,
        team_id=inst.team_id,
        enterprise_id=inst.enterprise_id,
        user_id=user_id,
        app_id=app.app_id,
        app_ref=app.id,
        installation_id=inst.id,
        scopes=fresh.scopes,
        expires_at=fresh.expires_at,
    )


async def report_token_error(
    gateway: Gateway,
    team_id: str | None,
    app_id: str | None,
    error_code: str,
) -> bool:
    """Tell the gateway that Slack answered ``error_code`` to a call with this workspace's token.

    Returns True when the error is token death: the installation is then marked
    ``disconnected`` (once; with ``error_code`` as its last error), audited, and
    ``workspace.disconnected`` is dispatched. Returns False for any other error, and for
    ``token_expired`` on a rotating installation whose token could be refreshed (or was
    refreshed meanwhile): then the next :func:`bot_token` is fresh and the call can be retried.
    """
    if error_code not in TOKEN_DEATH_ERRORS:
        return False
    targets = [
        (a, i) for a, i in await locate_installations(gateway, team_id, app_id, None) if i.is_active
    ]
    if error_code == "token_expired" and len(targets) == 1 and targets[0][1].bot_refresh_token:
        return not await _revive(gateway, *targets[0])
    # Without an app id, only an unambiguous workspace is marked.
    if app_id is None and len(targets) > 1:
        _log.warning(
            "%s for %s, which has %d apps installed; pass app_id to say which died",
            error_code,
            team_id,
            len(targets),
        )
        return True
    for app, target in targets:
        await mark_disconnected(gateway, app, target, error_code)
    return True


async def _revive(gateway: Gateway, app: SlackApp, inst: Installation) -> bool:
    """A rotating token expired: refresh it. True when the installation has a live token
    again; False when its refresh token is dead too (it is then marked disconnected)."""
    try:
        await refresh_bot_token(gateway, app, inst, margin=REFRESH_MARGIN)
    except WorkspaceUnavailable:
        return False
    except TokenRefreshError as exc:
        _log.warning("token_expired for %s and the refresh failed: %s", inst.team_id, exc)
    return True


async def call_as_bot(
    gateway: Gateway,
    team_id: str | None,
    method: str,
    *,
    app_id: str | None = None,
    enterprise_id: str | None = None,
    **params: Any,
) -> AsyncSlackResponse:
    """Call Web API ``method`` with the workspace's bot token.

    A token-death answer (``invalid_auth``, ``token_revoked``, …) marks the workspace
    disconnected and raises :class:`WorkspaceUnavailable`; other errors raise slack_sdk's
    ``SlackApiError`` as usual.
    """
    creds = await bot_token(gateway, team_id, app_id=app_id, enterprise_id=enterprise_id)
    await within_budget(gateway, creds.team_id or team_id, method)
    client = gateway.slack_client(creds.token)
    try:
        return await client.api_call(method, data=params)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if await report_token_error(gateway, creds.team_id, creds.app_id, error):
            raise WorkspaceUnavailable(team_id or "", "disconnected") from None
        raise


async def refresh_expiring(gateway: Gateway, *, within: timedelta = REFRESH_MARGIN * 2) -> int:
    """Refresh every active bot token that expires within ``within`` (so idle workspaces keep
    fresh tokens too); returns how many were due. Failures are logged (dead tokens marked) but
    don't stop the others."""
    repo = installations_repo(gateway)
    due = await repo.expiring_before(utcnow() + within)
    for inst in due:
        app = await app_by_ref(gateway, inst.app_ref)
        if app is None:
            continue
        try:
            await refresh_bot_token(gateway, app, inst, within)
        except (WorkspaceUnavailable, TokenRefreshError) as exc:
            _log.warning("background refresh of %s: %s", inst.team_id, exc)
    return len(due)


@dataclass
class _RefreshWorker:
    gateway: Gateway
    interval: float = 60.0
    name: str = "token-refresh"

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await refresh_expiring(self.gateway)
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                continue


def workers(gateway: Gateway) -> Sequence[Worker]:
    """Gateway part hook: the background refresher of rotating tokens."""
    return [_RefreshWorker(gateway)]
