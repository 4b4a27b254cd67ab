"""The control API under ``/_emulator/``: read the world, act as users, tune the emulator.

JSON in, JSON out, fields named as Slack names them. Bad input answers 400 with
``{"ok": false, "error": code, "detail": "…"}`` naming the field; an unknown team, channel, user
or message answers 404 the same way. Acting as users lives in ``control_users.py``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from slackbridge.emulator import ops
from slackbridge.emulator.control_common import (
    ControlError,
    bool_field,
    endpoint,
    read_body,
    render_channel_summary,
    state_of,
    user_field,
)
from slackbridge.emulator.control_users import routes as user_routes
from slackbridge.emulator.ratelimit import HISTORY_PROFILES
from slackbridge.emulator.render import render_user
from slackbridge.emulator.seed import reset_state
from slackbridge.emulator.state import App, Installation

__all__ = ["render_app", "render_installation", "routes"]


# --- reading the world --------------------------------------------------------------------------
def render_app(app: App) -> dict[str, Any]:
    """An app with its credentials, as ``GET /_emulator/state`` lists it."""
    return {
        "id": app.id,
        "name": app.name,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "signing_secret": app.signing_secret,
        "verification_token": app.verification_token,
        "app_tokens": list(app.app_tokens),
        "redirect_urls": list(app.redirect_urls),
        "bot_scopes": list(app.bot_scopes),
        "user_scopes": list(app.user_scopes),
        "event_request_url": app.event_request_url,
        "bot_events": list(app.bot_events),
        "user_events": list(app.user_events),
        "interactivity_url": app.interactivity_url,
        "options_load_url": app.options_load_url,
        "slash_commands": [
            {"command": c.command, "url": c.url, "description": c.description}
            for c in app.slash_commands
        ],
        "socket_mode": app.socket_mode,
        "token_rotation": app.token_rotation,
        "owner_team_id": app.owner_team_id,
        "distributed": app.distributed,
        "metadata_subscriptions": [dict(sub) for sub in app.metadata_subscriptions],
    }


def render_installation(inst: Installation) -> dict[str, Any]:
    """An installation with its status and tokens."""
    return {
        "app_id": inst.app_id,
        "team_id": inst.team_id,
        "status": inst.status,
        "bot_user_id": inst.bot_user_id,
        "bot_id": inst.bot_id,
        "bot_token": inst.bot_token,
        "bot_scopes": list(inst.bot_scopes),
        "installer_user_id": inst.installer_user_id,
        "user_tokens": dict(inst.user_tokens),
        "incoming_webhooks": [dict(h) for h in inst.incoming_webhooks],
        "installed_at": inst.installed_at,
    }


async def _get_state(request: Request) -> dict[str, Any]:
    state = state_of(request)
    bots = {inst.bot_id: inst for inst in state.installations.values()}
    return {
        "configuration_token": state.configuration_token,
        "base_url": ops.base_url(state),
        "speed": state.speed,
        "rate_limits_enabled": state.rate_limits_enabled,
        "workspaces": [
            {
                "id": ws.id,
                "name": ws.name,
                "domain": ws.domain,
                "users": [render_user(u, include_email=True) for u in ws.users.values()],
                "channels": [render_channel_summary(c) for c in ws.channels.values()],
            }
            for ws in state.workspaces.values()
        ],
        "apps": [render_app(app) for app in state.apps.values()],
        "installations": [render_installation(i) for i in state.installations.values()],
        "views": [
            ops.render_view(v, bot_id=_bot_id(bots, v.app_id, v.team_id))
            | {"user_id": v.user_id, "kind": v.kind}
            for v in state.views.values()
            if v.open
        ],
    }


def _bot_id(bots: dict[str, Installation], app_id: str, team_id: str) -> str | None:
    for bot_id, inst in bots.items():
        if inst.app_id == app_id and inst.team_id == team_id:
            return bot_id
    return None


async def _get_messages(request: Request) -> dict[str, Any]:
    state = state_of(request)
    team_id = request.path_params["team_id"]
    channel_id = request.path_params["channel_id"]
    if team_id not in state.workspaces:
        raise ControlError("team_not_found", f"team_id: no workspace {team_id}")
    channel = state.channel(team_id, channel_id)
    if channel is None:
        raise ControlError("channel_not_found", f"channel_id: no conversation {channel_id}")
    messages = []
    for msg in channel.messages:
        if msg.thread_ts and msg.thread_ts != msg.ts and msg.subtype != "thread_broadcast":
            continue
        rendered = ops.message_json(state, channel, msg)
        if msg.replies and msg.thread_ts == msg.ts:
            rendered["replies"] = [
                ops.message_json(state, channel, r) for r in ops.thread_of(channel, msg)[1:]
            ]
        messages.append(rendered)
    answer = {"channel": render_channel_summary(channel), "messages": messages}
    viewer = request.query_params.get("user_id")
    if viewer is not None:
        # What only this person sees here (ephemeral answers), as their Slack client shows it.
        user_field(state, team_id, viewer)
        answer["ephemerals"] = [
            e["message"]
            for e in state.ephemerals
            if e["team_id"] == team_id and e["channel_id"] == channel.id and e["user_id"] == viewer
        ]
    return answer


# --- emulator settings ---------------------------------------------------------------------------
async def _add_fault(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    try:
        fault = state.faults.add(body)
    except ValueError as exc:
        raise ControlError("invalid_arguments", str(exc)) from None
    return {"fault": fault.to_json()}


async def _list_faults(request: Request) -> dict[str, Any]:
    return {"faults": [f.to_json() for f in state_of(request).faults.faults]}


async def _clear_faults(request: Request) -> dict[str, Any]:
    state = state_of(request)
    removed = len(state.faults.faults)
    state.faults.clear()
    return {"removed": removed}


async def _remove_fault(request: Request) -> dict[str, Any]:
    fault_id = request.path_params["fault_id"]
    if not state_of(request).faults.remove(fault_id):
        raise ControlError("fault_not_found", f"fault_id: no fault {fault_id}")
    return {"removed": 1}


async def _get_ratelimits(request: Request) -> dict[str, Any]:
    state = state_of(request)
    return {"enabled": state.rate_limits_enabled, **state.rate_limiter.snapshot()}


async def _set_ratelimits(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    unknown = sorted(set(body) - {"enabled", "overrides", "reset", "history"})
    if unknown:
        raise ControlError("invalid_arguments", f"{unknown[0]}: unknown field")
    overrides = body.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ControlError("invalid_arguments", "overrides: expected an object")
    enabled = body.get("enabled", state.rate_limits_enabled)
    if not isinstance(enabled, bool):
        raise ControlError("invalid_arguments", "enabled: expected true or false")
    history = body.get("history")
    if history is not None and history not in HISTORY_PROFILES:
        raise ControlError(
            "invalid_arguments", f"history: expected one of {', '.join(HISTORY_PROFILES)}"
        )
    try:
        state.rate_limiter.configure(overrides)
    except ValueError as exc:
        raise ControlError("invalid_arguments", f"overrides.{exc}") from None
    if history is not None:
        state.rate_limiter.set_history(history)
    state.rate_limits_enabled = enabled
    if bool_field(body, "reset"):
        state.rate_limiter.reset()
    return {"enabled": state.rate_limits_enabled, **state.rate_limiter.snapshot()}


async def _ratelimit_report(request: Request) -> dict[str, Any]:
    """Per workspace and bucket: calls, peak calls in any minute and second, over-limit calls
    and 429s; ``clean`` when no bucket was exceeded and no 429 answered."""
    state = state_of(request)
    team_id = request.query_params.get("team_id") or None
    if team_id is not None and team_id not in state.workspaces:
        raise ControlError("team_not_found", f"team_id: no workspace {team_id}", 404)
    return state.rate_limiter.usage_report(team_id)


async def _reset(request: Request) -> dict[str, Any]:
    state = state_of(request)
    reset_state(state, request.app.state.emulator_seed)
    return {"configuration_token": state.configuration_token}


def routes() -> list[BaseRoute]:
    """The control API's routes."""
    p = "/_emulator"
    return [
        Route(f"{p}/state", endpoint(_get_state), methods=["GET"]),
        Route(
            p + "/conversations/{team_id}/{channel_id}/messages",
            endpoint(_get_messages),
            methods=["GET"],
        ),
        Route(f"{p}/faults", endpoint(_add_fault), methods=["POST"]),
        Route(f"{p}/faults", endpoint(_list_faults), methods=["GET"]),
        Route(f"{p}/faults", endpoint(_clear_faults), methods=["DELETE"]),
        Route(p + "/faults/{fault_id}", endpoint(_remove_fault), methods=["DELETE"]),
        Route(f"{p}/ratelimits", endpoint(_get_ratelimits), methods=["GET"]),
        Route(f"{p}/ratelimits", endpoint(_set_ratelimits), methods=["POST"]),
        Route(f"{p}/ratelimits/report", endpoint(_ratelimit_report), methods=["GET"]),
        Route(f"{p}/reset", endpoint(_reset), methods=["POST"]),
        *user_routes(),
    ]
