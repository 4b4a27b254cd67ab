"""The control API under ``/_emulator/``: act as users and read or reset the world.

JSON in, JSON out, fields named as Slack names them. Bad input answers 400 with
``{"ok": false, "error": code, "detail": "…"}`` naming the field; an unknown team, channel, user
or message answers 404 the same way.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from slackbridge.emulator import ops
from slackbridge.emulator.render import render_user
from slackbridge.emulator.seed import reset_state
from slackbridge.emulator.state import App, Channel, EmulatorState, Installation, User
from slackbridge.emulator.webapi.dispatch import json_response
from slackbridge.emulator.webapi.registry import SlackError

__all__ = ["ControlError", "render_app", "render_installation", "routes"]

_NOT_FOUND = {
    "team_not_found",
    "channel_not_found",
    "user_not_found",
    "message_not_found",
    "thread_not_found",
    "file_not_found",
    "fault_not_found",
}


class ControlError(Exception):
    """A control-API failure answered as ``{"ok": false, "error", "detail"}``."""

    def __init__(self, error: str, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.error = error
        self.detail = detail
        self.status = status or (404 if error in _NOT_FOUND else 400)


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ControlError("invalid_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ControlError("invalid_json", "body must be a JSON object")
    return data


def _str(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ControlError("invalid_arguments", f"{name}: required")
        return None
    if not isinstance(value, str):
        raise ControlError("invalid_arguments", f"{name}: expected a string")
    return value


def _req(body: dict[str, Any], name: str) -> str:
    value = _str(body, name)
    assert value is not None
    return value


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ControlError("invalid_arguments", f"{name}: expected true or false")
    return value


def _channel(state: EmulatorState, body: dict[str, Any]) -> Channel:
    channel_id = _req(body, "channel_id")
    team_id = _str(body, "team_id", required=False)
    if team_id is not None and team_id not in state.workspaces:
        raise ControlError("team_not_found", f"team_id: no workspace {team_id}")
    channel = state.channel(team_id, channel_id) if team_id else state.find_channel(channel_id)
    if channel is None:
        raise ControlError("channel_not_found", f"channel_id: no conversation {channel_id}")
    return channel


def _user(state: EmulatorState, team_id: str, user_id: str, field: str = "user_id") -> User:
    user = state.workspaces[team_id].users.get(user_id)
    if user is None:
        raise ControlError("user_not_found", f"{field}: no user {user_id} in {team_id}")
    if user.deleted:
        raise ControlError("user_not_found", f"{field}: user {user_id} is deactivated")
    return user


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    blocks = body.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
    ):
        raise ControlError("invalid_blocks", "blocks: expected a list of block objects")
    return blocks


Handler = Callable[[Request], Awaitable[dict[str, Any]]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request)
        except ControlError as exc:
            return json_response(
                {"ok": False, "error": exc.error, "detail": exc.detail}, status=exc.status
            )
        except SlackError as exc:
            status = 404 if exc.error in _NOT_FOUND else 400
            detail = exc.error.replace("_", " ")
            return json_response({"ok": False, "error": exc.error, "detail": detail}, status)
        return json_response({"ok": True, **result})

    return endpoint


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


def _render_channel(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind,
        "members": list(channel.members),
        "is_archived": channel.is_archived,
        "topic": channel.topic,
        "purpose": channel.purpose,
        "created": channel.created,
    }


async def _get_state(request: Request) -> dict[str, Any]:
    state = _state(request)
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
                "channels": [_render_channel(c) for c in ws.channels.values()],
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
    state = _state(request)
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
    return {"channel": _render_channel(channel), "messages": messages}


# --- acting as users ----------------------------------------------------------------------------
async def _post_message(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    channel = _channel(state, body)
    user = _user(state, channel.team_id, _req(body, "user_id"))
    text = _str(body, "text", required=False) or ""
    blocks = _blocks(body)
    if not text and not blocks:
        raise ControlError("no_text", "text: required (or blocks)")
    if user.id not in channel.members:
        raise ControlError("not_in_channel", f"user_id: {user.id} is not in {channel.id}")
    if channel.is_archived:
        raise ControlError("is_archived", f"channel_id: {channel.id} is archived")
    thread_ts = _str(body, "thread_ts", required=False)
    msg = ops.post_message(
        state,
        channel,
        user,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        reply_broadcast=_bool(body, "reply_broadcast"),
    )
    return {"ts": msg.ts, "channel_id": channel.id, "thread_ts": msg.thread_ts}


async def _edit_message(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    channel = _channel(state, body)
    msg = ops.find_message(channel, _req(body, "ts"))
    user_id = _str(body, "user_id", required=False) or msg.user or ""
    user = _user(state, channel.team_id, user_id)
    if msg.user != user.id:
        raise ControlError("cant_update_message", f"user_id: {user.id} did not post {msg.ts}")
    text = _str(body, "text", required=False)
    blocks = _blocks(body)
    if text is None and blocks is None:
        raise ControlError("no_text", "text: required (or blocks)")
    changes: dict[str, Any] = {"blocks": blocks} if blocks is not None else {}
    ops.edit_message(state, channel, msg.ts, user, text=text, **changes)
    return {"ts": msg.ts, "channel_id": channel.id}


async def _delete_message(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    channel = _channel(state, body)
    msg = ops.find_message(channel, _req(body, "ts"))
    user_id = _str(body, "user_id", required=False)
    if user_id is not None:
        user = _user(state, channel.team_id, user_id)
        if msg.user != user.id and not user.is_admin:
            raise ControlError("cant_delete_message", f"user_id: {user.id} did not post {msg.ts}")
    ops.delete_message(state, channel, msg.ts)
    return {"ts": msg.ts, "channel_id": channel.id}


async def _react(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    channel = _channel(state, body)
    user = _user(state, channel.team_id, _req(body, "user_id"))
    name = _req(body, "name").strip(":")
    if not name:
        raise ControlError("invalid_name", "name: an emoji name such as thumbsup")
    ts = _req(body, "ts")
    if _bool(body, "remove"):
        ops.remove_reaction(state, channel, ts, user.id, name)
    else:
        ops.add_reaction(state, channel, ts, user.id, name)
    return {"channel_id": channel.id, "ts": ts, "name": name}


async def _invite(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    channel = _channel(state, body)
    inviter = _user(state, channel.team_id, _req(body, "user_id"))
    raw = body.get("users")
    if isinstance(raw, str):
        user_ids = [u.strip() for u in raw.split(",") if u.strip()]
    elif isinstance(raw, list) and all(isinstance(u, str) for u in raw):
        user_ids = list(raw)
    else:
        raise ControlError("invalid_arguments", 'users: "U1,U2" or a list of user ids')
    if not user_ids:
        raise ControlError("invalid_arguments", "users: required")
    if channel.kind not in {"public", "private"}:
        raise ControlError(
            "method_not_supported_for_channel_type", f"channel_id: {channel.id} is a DM"
        )
    if channel.is_archived:
        raise ControlError("is_archived", f"channel_id: {channel.id} is archived")
    if inviter.id not in channel.members:
        raise ControlError("not_in_channel", f"user_id: {inviter.id} is not in {channel.id}")
    invitees = [_user(state, channel.team_id, u, "users") for u in user_ids]
    joined = [u.id for u in invitees if ops.join_channel(state, channel, u, inviter=inviter.id)]
    return {"channel": _render_channel(channel), "joined": joined}


def _file_content(body: dict[str, Any]) -> bytes:
    if "content_base64" in body:
        raw = _req(body, "content_base64")
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ControlError("invalid_arguments", "content_base64: not valid base64") from None
    content = body.get("content")
    if not isinstance(content, str):
        raise ControlError("invalid_arguments", "content: required (text), or content_base64")
    return content.encode()


async def _share_file(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    channel = _channel(state, body)
    user = _user(state, channel.team_id, _req(body, "user_id"))
    filename = _req(body, "filename")
    content = _file_content(body)
    if user.id not in channel.members:
        raise ControlError("not_in_channel", f"user_id: {user.id} is not in {channel.id}")
    if channel.is_archived:
        raise ControlError("is_archived", f"channel_id: {channel.id} is archived")
    file = ops.create_file(
        state,
        channel.team_id,
        user.id,
        name=filename,
        title=_str(body, "title", required=False),
        content=content,
    )
    msg = ops.share_files(
        state,
        [file],
        channel,
        user,
        thread_ts=_str(body, "thread_ts", required=False),
        initial_comment=_str(body, "initial_comment", required=False) or "",
    )
    return {"file": ops.file_json(state, file), "ts": msg.ts, "channel_id": channel.id}


# --- emulator settings ---------------------------------------------------------------------------
async def _add_fault(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    try:
        fault = state.faults.add(body)
    except ValueError as exc:
        raise ControlError("invalid_arguments", str(exc)) from None
    return {"fault": fault.to_json()}


async def _list_faults(request: Request) -> dict[str, Any]:
    return {"faults": [f.to_json() for f in _state(request).faults.faults]}


async def _clear_faults(request: Request) -> dict[str, Any]:
    state = _state(request)
    removed = len(state.faults.faults)
    state.faults.clear()
    return {"removed": removed}


async def _remove_fault(request: Request) -> dict[str, Any]:
    fault_id = request.path_params["fault_id"]
    if not _state(request).faults.remove(fault_id):
        raise ControlError("fault_not_found", f"fault_id: no fault {fault_id}")
    return {"removed": 1}


async def _get_ratelimits(request: Request) -> dict[str, Any]:
    state = _state(request)
    return {"enabled": state.rate_limits_enabled, **state.rate_limiter.snapshot()}


async def _set_ratelimits(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    unknown = sorted(set(body) - {"enabled", "overrides", "reset"})
    if unknown:
        raise ControlError("invalid_arguments", f"{unknown[0]}: unknown field")
    overrides = body.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ControlError("invalid_arguments", "overrides: expected an object")
    enabled = body.get("enabled", state.rate_limits_enabled)
    if not isinstance(enabled, bool):
        raise ControlError("invalid_arguments", "enabled: expected true or false")
    try:
        state.rate_limiter.configure(overrides)
    except ValueError as exc:
        raise ControlError("invalid_arguments", f"overrides.{exc}") from None
    state.rate_limits_enabled = enabled
    if _bool(body, "reset"):
        state.rate_limiter.reset()
    return {"enabled": state.rate_limits_enabled, **state.rate_limiter.snapshot()}


async def _reset(request: Request) -> dict[str, Any]:
    state = _state(request)
    reset_state(state, request.app.state.emulator_seed)
    return {"configuration_token": state.configuration_token}


def routes() -> list[BaseRoute]:
    """The control API's routes."""
    p = "/_emulator"
    return [
        Route(f"{p}/state", _endpoint(_get_state), methods=["GET"]),
        Route(
            p + "/conversations/{team_id}/{channel_id}/messages",
            _endpoint(_get_messages),
            methods=["GET"],
        ),
        Route(f"{p}/conversations/invite", _endpoint(_invite), methods=["POST"]),
        Route(f"{p}/messages", _endpoint(_post_message), methods=["POST"]),
        Route(f"{p}/messages/edit", _endpoint(_edit_message), methods=["POST"]),
        Route(f"{p}/messages/delete", _endpoint(_delete_message), methods=["POST"]),
        Route(f"{p}/reactions", _endpoint(_react), methods=["POST"]),
        Route(f"{p}/files", _endpoint(_share_file), methods=["POST"]),
        Route(f"{p}/faults", _endpoint(_add_fault), methods=["POST"]),
        Route(f"{p}/faults", _endpoint(_list_faults), methods=["GET"]),
        Route(f"{p}/faults", _endpoint(_clear_faults), methods=["DELETE"]),
        Route(p + "/faults/{fault_id}", _endpoint(_remove_fault), methods=["DELETE"]),
        Route(f"{p}/ratelimits", _endpoint(_get_ratelimits), methods=["GET"]),
        Route(f"{p}/ratelimits", _endpoint(_set_ratelimits), methods=["POST"]),
        Route(f"{p}/reset", _endpoint(_reset), methods=["POST"]),
    ]
