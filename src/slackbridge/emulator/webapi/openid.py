"""Sign in with Slack: ``openid.connect.token`` and ``openid.connect.userInfo``.

``openid.connect.token`` exchanges a code from ``/openid/connect/authorize`` (client
credentials by HTTP Basic auth or as arguments, ``redirect_uri`` when the authorize URL had one)
for a user token (``xoxp-``) holding the requested scopes and a signed ``id_token``; a code
from another authorize page answers ``oauth_authorization_url_mismatch``. With token rotation,
``grant_type=refresh_token`` refreshes the user token.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.installs import issue_token, refresh
from slackbridge.emulator.oauth_pages import OPENID
from slackbridge.emulator.oidc import claims, id_token
from slackbridge.emulator.webapi.oauth import client_of, take_code
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []


@method("openid.connect.token", tier=3, auth="none")
async def openid_connect_token(ctx: CallContext) -> dict[str, Any]:
    app = client_of(ctx)
    grant_type = ctx.arg("grant_type") or "authorization_code"
    if grant_type == "refresh_token":
        token = refresh(ctx.state, app, str(ctx.arg("refresh_token") or ""))
        out: dict[str, Any] = {"access_token": token.token, "token_type": "Bearer"}
        if token.refresh_token is not None and token.expires_at is not None:
            out["refresh_token"] = token.refresh_token
            out["expires_in"] = max(0, round(token.expires_at - ctx.state.now()))
        return out
    if grant_type != "authorization_code":
        raise SlackError("invalid_grant_type")
    code = take_code(ctx, app, version=OPENID)
    ws = ctx.state.workspaces[code.team_id]
    user = ws.users[code.user_id]
    token = issue_token(ctx.state, "user", app, ws.id, user.id, code.user_scopes)
    out = {
        "access_token": token.token,
        "token_type": "Bearer",
        "id_token": id_token(
            ctx.state,
            client_id=app.client_id,
            ws=ws,
            user=user,
            scopes=code.user_scopes,
            nonce=code.nonce,
        ),
    }
    if token.refresh_token is not None and token.expires_at is not None:
        out["refresh_token"] = token.refresh_token
        out["expires_in"] = max(0, round(token.expires_at - ctx.state.now()))
    return out


@method("openid.connect.userInfo", tier=3, scopes=("openid",))
async def openid_connect_user_info(ctx: CallContext) -> dict[str, Any]:
    token = ctx.token
    assert token is not None
    if token.kind != "user" or token.team_id is None or token.user_id is None:
        raise SlackError("not_allowed_token_type")
    ws = ctx.state.workspaces[token.team_id]
    user = ws.users.get(token.user_id)
    if user is None:
        raise SlackError("user_not_found")
    return claims(ws, user, token.scopes)
