"""``team.info`` and ``bots.info``."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.render import render_bot_profile, render_team
from slackbridge.emulator.webapi.common import workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []


@method("team.info", tier=3, scopes=("team:read",))
async def team_info(ctx: CallContext) -> dict[str, Any]:
    ws = workspace(ctx)
    wanted = ctx.arg("team")
    if wanted and wanted != ws.id:
        raise SlackError("team_not_found")
    return {"team": render_team(ws, base_url=ops.base_url(ctx.state))}


@method("bots.info", tier=3, scopes=("users:read",))
async def bots_info(ctx: CallContext) -> dict[str, Any]:
    ws = workspace(ctx)
    bot_id = str(ctx.require("bot"))
    user = next((u for u in ws.users.values() if u.is_bot and u.bot_id == bot_id), None)
    inst = next(
        (i for i in ctx.state.installations.values() if i.bot_id == bot_id and i.team_id == ws.id),
        None,
    )
    if user is None or inst is None:
        raise SlackError("bot_not_found")
    app = ctx.state.apps.get(inst.app_id)
    profile = render_bot_profile(
        bot_id=bot_id,
        app_id=inst.app_id,
        name=app.name if app else user.real_name,
        team_id=ws.id,
        updated=int(inst.installed_at),
    )
    return {
        "bot": {
            "id": bot_id,
            "deleted": user.deleted or inst.status != "active",
            "name": profile["name"],
            "updated": profile["updated"],
            "app_id": inst.app_id,
            "user_id": user.id,
            "icons": profile["icons"],
        }
    }
