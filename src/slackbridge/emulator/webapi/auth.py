"""``auth.test``, ``auth.revoke`` and ``api.test``."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.installs import revoke_token
from slackbridge.emulator.webapi.args import as_bool
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []


@method("auth.test", tier=4)
async def _auth_test(ctx: CallContext) -> dict[str, Any]:
    token = ctx.token
    assert token is not None
    ws = ctx.state.workspace(token.team_id or "")
    user = ctx.state.user(token.user_id or "")
    if ws is None or user is None:
        raise SlackError("invalid_auth")
    out: dict[str, Any] = {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.name,
        "user": user.name,
        "team_id": ws.id,
        "user_id": user.id,
    }
    if token.kind == "bot":
        out["bot_id"] = user.bot_id
    if ws.enterprise_id:
        out["enterprise_id"] = ws.enterprise_id
    out["is_enterprise_install"] = False
    if token.expires_at is not None:
        out["expires_in"] = max(0, round(token.expires_at - ctx.state.now()))
    return out


@method("auth.revoke", tier=3)
async def _auth_revoke(ctx: CallContext) -> dict[str, Any]:
    token = ctx.token
    assert token is not None
    if as_bool(ctx.arg("test")):
        # Test mode checks the token but leaves it working.
        return {"revoked": False}
    revoke_token(ctx.state, token)
    return {"revoked": True}


@method("api.test", tier=4, auth="none")
async def _api_test(ctx: CallContext) -> dict[str, Any]:
    """Slack's echo: the arguments come back in ``args``; ``error`` makes the call fail with
    that code (and still echoes the arguments)."""
    args = {k: v for k, v in ctx.args.items() if k != "token"}
    error = ctx.args.get("error")
    if isinstance(error, str) and error:
        raise SlackError(error, args=args)
    return {"args": args} if args else {}
