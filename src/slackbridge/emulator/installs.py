"""Installing apps into workspaces: bot users, tokens (with rotation), revocation, uninstalling.

These are the state changes behind ``oauth.v2.access``, ``auth.revoke``, the uninstall control
endpoint and the test helper that installs an app without the consent page. Revocations and
uninstalls announce themselves as ``tokens_revoked`` / ``app_uninstalled`` signals, with
``data = {"app_id": A…, "tokens": {"oauth": [U…], "bot": [U…]}}`` and ``{"app_id": A…}``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Literal

from slackbridge.emulator.ops_common import base_url
from slackbridge.emulator.state import (
    App,
    Channel,
    EmulatorState,
    Installation,
    Signal,
    Token,
    User,
)

__all__ = [
    "SLACKBOT",
    "TOKEN_LIFETIME",
    "InstallResult",
    "find_incoming_webhook",
    "install",
    "install_refusal",
    "issue_token",
    "refresh",
    "revoke_token",
    "uninstall",
]

TOKEN_LIFETIME = 43_200  # seconds a rotating access token lives (12 h), as Slack's expires_in


@dataclass
class InstallResult:
    installation: Installation
    bot_token: Token | None
    user_token: Token | None
    incoming_webhook: dict[str, str] | None


def issue_token(
    state: EmulatorState,
    kind: Literal["bot", "user"],
    app: App,
    team_id: str,
    user_id: str,
    scopes: list[str],
) -> Token:
    """A new bot (``xoxb-``) or user (``xoxp-``) token; rotating apps get ``xoxe.`` tokens that
    expire after 12 hours and come with a single-use ``xoxe-1-`` refresh token."""
    short = "xoxb" if kind == "bot" else "xoxp"
    if app.token_rotation:
        token = Token(
            token=state.ids.token(f"xoxe.{short}-1"),
            kind=kind,
            team_id=team_id,
            user_id=user_id,
            app_id=app.id,
            scopes=list(scopes),
            expires_at=state.now() + TOKEN_LIFETIME,
            refresh_token=state.ids.token("xoxe-1"),
            installation_key=(app.id, team_id),
        )
        assert token.refresh_token is not None
        state.refresh_tokens[token.refresh_token] = token
    else:
        token = Token(
            token=state.ids.token(short),
            kind=kind,
            team_id=team_id,
            user_id=user_id,
            app_id=app.id,
            scopes=list(scopes),
            installation_key=(app.id, team_id),
        )
    state.tokens[token.token] = token
    return token


def _bot_name(app: App) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "_", (app.bot_display_name or app.name).lower()).strip("_")
    return name or "app"


def _ensure_bot_user(state: EmulatorState, app: App, team_id: str) -> tuple[str, str]:
    """The app's bot user and bot id in ``team_id``, created on first install, kept after."""
    existing = state.installation(app.id, team_id)
    ws = state.workspaces[team_id]
    if existing is not None:
        user = ws.users.get(existing.bot_user_id)
        if user is not None:
            user.deleted = False
            user.real_name = app.name
        return existing.bot_user_id, existing.bot_id
    bot_id = state.ids.next("B", 10)
    user = User(
        id=state.ids.next("U", 10),
        team_id=team_id,
        name=_bot_name(app),
        real_name=app.name,
        display_name=app.bot_display_name or app.name,
        is_bot=True,
        bot_id=bot_id,
        app_id=app.id,
    )
    ws.users[user.id] = user
    return user.id, bot_id


def _webhook_channel(state: EmulatorState, team_id: str, channel_id: str | None) -> Channel:
    ws = state.workspaces[team_id]
    if channel_id is not None:
        channel = ws.channels.get(channel_id)
        if channel is None:
            raise LookupError("channel_not_found")
        return channel
    public = [c for c in ws.channels.values() if c.kind == "public" and not c.is_archived]
    general = next((c for c in public if c.name == "general"), None)
    if general is None and not public:
        raise LookupError("channel_not_found")
    return general or public[0]


def _new_incoming_webhook(state: EmulatorState, team_id: str, channel: Channel) -> dict[str, str]:
    hook_id = state.ids.next("B", 10)
    secret = secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")[:24]
    base = base_url(state)
    domain = state.workspaces[team_id].domain
    name = channel.name if channel.kind in ("public", "private") else channel.id
    return {
        "url": f"{base}/services/{team_id}/{hook_id}/{secret}",
        "channel": f"#{name}",
        "channel_id": channel.id,
        "configuration_url": f"https://{domain}.slack.com/services/{hook_id}",
    }


SLACKBOT = "USLACKBOT"


def install_refusal(state: EmulatorState, app: App, team_id: str, user_id: str) -> str | None:
    """Slack's error code when ``user_id`` may not install ``app`` into ``team_id``: the app is
    not distributed and the workspace is not its home (``invalid_team_for_non_distributed_app``),
    or the installer is not a person (Slackbot, a bot user, a deactivated account)."""
    if app.owner_team_id is not None and team_id != app.owner_team_id and not app.distributed:
        return "invalid_team_for_non_distributed_app"
    ws = state.workspaces.get(team_id)
    user = ws.users.get(user_id) if ws else None
    if user is None or user.is_bot or user.deleted or user.id == SLACKBOT:
        return "invalid_user"
    return None


def install(
    state: EmulatorState,
    app: App,
    team_id: str,
    installer_user_id: str,
    *,
    bot_scopes: list[str],
    user_scopes: list[str],
    webhook_channel_id: str | None = None,
) -> InstallResult:
    """Install (or reinstall) ``app`` into ``team_id`` as ``installer_user_id`` would by
    approving the consent page. A reinstall keeps the bot user and bot id, adds the newly granted
    scopes to the old ones and issues new tokens; earlier unrevoked tokens keep working."""
    if team_id not in state.workspaces:
        raise LookupError("team_not_found")
    refusal = install_refusal(state, app, team_id, installer_user_id)
    if refusal is not None:
        raise LookupError(refusal)
    bot_user_id, bot_id = _ensure_bot_user(state, app, team_id)
    inst = state.installation(app.id, team_id)
    if inst is None:
        inst = Installation(
            app_id=app.id,
            team_id=team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            installer_user_id=installer_user_id,
            bot_scopes=[],
        )
        state.installations[(app.id, team_id)] = inst
    inst.installer_user_id = installer_user_id
    inst.status = "active"
    inst.installed_at = state.now()
    granted = list(dict.fromkeys([*inst.bot_scopes, *bot_scopes]))
    inst.bot_scopes = granted

    hook = None
    if "incoming-webhook" in bot_scopes:
        channel = _webhook_channel(state, team_id, webhook_channel_id)
        hook = _new_incoming_webhook(state, team_id, channel)
        inst.incoming_webhooks.append(hook)

    bot_token = None
    if granted:
        bot_token = issue_token(state, "bot", app, team_id, bot_user_id, granted)
        inst.bot_token = bot_token.token

    user_token = None
    if user_scopes:
        previous = state.tokens.get(inst.user_tokens.get(installer_user_id, ""))
        scopes = list(dict.fromkeys([*(previous.scopes if previous else []), *user_scopes]))
        user_token = issue_token(state, "user", app, team_id, installer_user_id, scopes)
        inst.user_tokens[installer_user_id] = user_token.token
    return InstallResult(inst, bot_token, user_token, hook)


def refresh(state: EmulatorState, app: App, refresh_token: str) -> Token:
    """Trade a single-use refresh token for a new access token (and a new refresh token).

    The old access token keeps working until it expires. ``LookupError`` when the refresh token
    is unknown, already used, revoked, or belongs to another app."""
    old = state.refresh_tokens.get(refresh_token)
    if old is None or old.app_id != app.id or old.revoked or old.team_id is None:
        raise LookupError("invalid_refresh_token")
    # Popping before any await keeps two concurrent refreshes from both succeeding.
    del state.refresh_tokens[refresh_token]
    assert old.user_id is not None and old.kind in ("bot", "user")
    kind: Literal["bot", "user"] = "bot" if old.kind == "bot" else "user"
    new = issue_token(state, kind, app, old.team_id, old.user_id, old.scopes)
    inst = state.installation(app.id, old.team_id)
    if inst is not None:
        if kind == "bot":
            inst.bot_token = new.token
        else:
            inst.user_tokens[old.user_id] = new.token
    return new


def _revoke(state: EmulatorState, token: Token) -> None:
    token.revoked = True
    for key in [k for k, t in state.refresh_tokens.items() if t is token]:
        del state.refresh_tokens[key]


def revoke_token(state: EmulatorState, token: Token) -> None:
    """Revoke one token as ``auth.revoke`` does. Revoking a bot token revokes the installation's
    bot access (status ``revoked``); either way the app hears ``tokens_revoked``."""
    inst = state.installations.get(token.installation_key) if token.installation_key else None
    _revoke(state, token)
    if inst is None or token.user_id is None:
        return
    revoked: dict[str, list[str]] = {"oauth": [], "bot": []}
    if token.kind == "bot":
        for other in state.tokens.values():
            if other.installation_key == token.installation_key and other.kind == "bot":
                _revoke(state, other)
        inst.bot_token = None
        inst.status = "revoked"
        revoked["bot"].append(token.user_id)
    else:
        if inst.user_tokens.get(token.user_id) == token.token:
            del inst.user_tokens[token.user_id]
        revoked["oauth"].append(token.user_id)
    state.emit(
        Signal("tokens_revoked", inst.team_id, data={"app_id": inst.app_id, "tokens": revoked})
    )


def uninstall(state: EmulatorState, app_id: str, team_id: str) -> Installation:
    """Uninstall the app from the workspace: every token revoked, the bot user deactivated and
    removed from channels, then ``tokens_revoked`` and ``app_uninstalled`` announced."""
    inst = state.installation(app_id, team_id)
    if inst is None or inst.status == "uninstalled":
        raise LookupError("not_installed")
    revoked: dict[str, list[str]] = {"oauth": [], "bot": []}
    for token in state.tokens.values():
        if token.installation_key == (app_id, team_id) and not token.revoked:
            _revoke(state, token)
            bucket = revoked["bot"] if token.kind == "bot" else revoked["oauth"]
            if token.user_id and token.user_id not in bucket:
                bucket.append(token.user_id)
    inst.status = "uninstalled"
    inst.bot_token = None
    inst.user_tokens.clear()
    inst.incoming_webhooks.clear()
    ws = state.workspaces.get(team_id)
    if ws is not None:
        bot = ws.users.get(inst.bot_user_id)
        if bot is not None:
            bot.deleted = True
        for channel in ws.channels.values():
            if inst.bot_user_id in channel.members:
                channel.members.remove(inst.bot_user_id)
    state.emit(Signal("tokens_revoked", team_id, data={"app_id": app_id, "tokens": revoked}))
    state.emit(Signal("app_uninstalled", team_id, data={"app_id": app_id}))
    return inst


def find_incoming_webhook(
    state: EmulatorState, team_id: str, hook_id: str, secret: str
) -> tuple[Installation, dict[str, str]] | None:
    """The active installation and webhook behind ``/services/T…/B…/X…``, if any."""
    suffix = f"/services/{team_id}/{hook_id}/{secret}"
    for inst in state.installations.values():
        if inst.team_id != team_id:
            continue
        for hook in inst.incoming_webhooks:
            if hook["url"].endswith(suffix):
                return inst, hook
    return None
