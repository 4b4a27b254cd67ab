"""``oauth.v2.access`` (code exchange and token refresh) and the legacy ``oauth.access``.

Client credentials come by HTTP Basic auth or as ``client_id``/``client_secret`` arguments.
Codes are single use and expire after 10 minutes; a code from ``/oauth/authorize`` (v1) cannot
be exchanged at ``oauth.v2.access`` and vice versa (``oauth_authorization_url_mismatch``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from slackbridge.emulator.installs import InstallResult, install, refresh
from slackbridge.emulator.oauth_pages import redirect_allowed
from slackbridge.emulator.state import App, OAuthCode, Token
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__ = ["client_of", "take_code"]


def _basic_credentials(ctx: CallContext) -> tuple[str, str] | None:
    header = ctx.request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def client_of(ctx: CallContext) -> App:
    """The app whose client credentials (Basic auth or arguments) the call carries."""
    basic = _basic_credentials(ctx)
    client_id, secret = basic if basic else (ctx.arg("client_id"), ctx.arg("client_secret"))
    app = ctx.state.app_by_client_id(str(client_id)) if client_id else None
    if app is None:
        raise SlackError("invalid_client_id")
    if secret != app.client_secret:
        raise SlackError("bad_client_secret")
    return app


def take_code(ctx: CallContext, app: App, version: int) -> OAuthCode:
    """Use up the authorization ``code`` the call carries, issued to ``app`` by the authorize
    page of ``version``."""
    raw = ctx.arg("code")
    code = ctx.state.oauth_codes.get(str(raw)) if raw else None
    if code is None or code.used or code.app_id != app.id or ctx.state.now() > code.expires_at:
        raise SlackError("invalid_code")
    if code.version != version:
        raise SlackError("oauth_authorization_url_mismatch")
    redirect_uri = ctx.arg("redirect_uri")
    if code.redirect_uri is not None and redirect_uri != code.redirect_uri:
        raise SlackError("bad_redirect_uri")
    if code.redirect_uri is None and redirect_uri and not redirect_allowed(app, redirect_uri):
        raise SlackError("bad_redirect_uri")
    code.used = True
    return code


def _rotation(token: Token, now: float) -> dict[str, Any]:
    if token.expires_at is None or token.refresh_token is None:
        return {}
    return {
        "refresh_token": token.refresh_token,
        "expires_in": max(0, round(token.expires_at - now)),
    }


def _team(ctx: CallContext, team_id: str) -> dict[str, str]:
    ws = ctx.state.workspaces[team_id]
    return {"id": ws.id, "name": ws.name}


def _v2_response(ctx: CallContext, app: App, result: InstallResult, user_id: str) -> dict[str, Any]:
    inst = result.installation
    now = ctx.state.now()
    out: dict[str, Any] = {}
    if result.bot_token is not None:
        out.update(
            access_token=result.bot_token.token,
            token_type="bot",
            scope=",".join(result.bot_token.scopes),
            bot_user_id=inst.bot_user_id,
        )
        out.update(_rotation(result.bot_token, now))
    authed_user: dict[str, Any] = {"id": user_id}
    if result.user_token is not None:
        authed_user.update(
            scope=",".join(result.user_token.scopes),
            access_token=result.user_token.token,
            token_type="user",
        )
        authed_user.update(_rotation(result.user_token, now))
    out.update(
        app_id=app.id,
        team=_team(ctx, inst.team_id),
        enterprise=None,
        is_enterprise_install=False,
        authed_user=authed_user,
    )
    if result.incoming_webhook is not None:
        out["incoming_webhook"] = dict(result.incoming_webhook)
    return out


def _refresh_response(ctx: CallContext, app: App, token: Token) -> dict[str, Any]:
    assert token.team_id is not None
    out: dict[str, Any] = {
        "app_id": app.id,
        "scope": ",".join(token.scopes),
        "token_type": token.kind,
        "access_token": token.token,
        **_rotation(token, ctx.state.now()),
    }
    inst = ctx.state.installation(app.id, token.team_id)
    if token.kind == "bot" and inst is not None:
        out["bot_user_id"] = inst.bot_user_id
    else:
        out["user_id"] = token.user_id
    out.update(team=_team(ctx, token.team_id), enterprise=None, is_enterprise_install=False)
    return out


@method("oauth.v2.access", tier=4, auth="none")
async def _oauth_v2_access(ctx: CallContext) -> dict[str, Any]:
    app = client_of(ctx)
    grant_type = ctx.arg("grant_type", "authorization_code")
    if grant_type == "refresh_token":
        try:
            token = refresh(ctx.state, app, str(ctx.arg("refresh_token") or ""))
        except LookupError:
            raise SlackError("invalid_refresh_token") from None
        return _refresh_response(ctx, app, token)
    if grant_type != "authorization_code":
        raise SlackError("invalid_grant_type")
    code = take_code(ctx, app, version=2)
    result = _install(ctx, app, code, code.scopes, code.user_scopes)
    return _v2_response(ctx, app, result, code.user_id)


def _install(
    ctx: CallContext, app: App, code: OAuthCode, bot_scopes: list[str], user_scopes: list[str]
) -> InstallResult:
    try:
        return install(
            ctx.state,
            app,
            code.team_id,
            code.user_id,
            bot_scopes=bot_scopes,
            user_scopes=user_scopes,
            webhook_channel_id=code.incoming_webhook_channel,
        )
    except LookupError as exc:
        raise SlackError(str(exc.args[0]) if exc.args else "invalid_code") from None


@method("oauth.access", tier=4, auth="none")
async def _oauth_access(ctx: CallContext) -> dict[str, Any]:
    """The classic-app exchange: a user token on top, the bot token under ``bot``."""
    app = client_of(ctx)
    code = take_code(ctx, app, version=1)
    wants_bot = "bot" in code.scopes
    user_scopes = [s for s in code.scopes if s != "bot"] or ["identify"]
    bot_scopes = [s for s in code.scopes if s in ("incoming-webhook", "commands")]
    if wants_bot:
        bot_scopes = list(dict.fromkeys(["bot", *app.bot_scopes, *bot_scopes]))
    result = _install(ctx, app, code, bot_scopes, user_scopes)
    ws = ctx.state.workspaces[code.team_id]
    user_token = result.user_token
    assert user_token is not None
    out: dict[str, Any] = {
        "access_token": user_token.token,
        "scope": ",".join(code.scopes),
        "user_id": code.user_id,
        "team_name": ws.name,
        "team_id": ws.id,
        "enterprise_id": ws.enterprise_id,
    }
    if result.incoming_webhook is not None:
        out["incoming_webhook"] = dict(result.incoming_webhook)
    if wants_bot and result.bot_token is not None:
        out["bot"] = {
            "bot_user_id": result.installation.bot_user_id,
            "bot_access_token": result.bot_token.token,
        }
    return out
