"""Shared pieces of the control API: JSON bodies, field readers that name the bad field, and
the endpoint wrapper that turns errors into ``{"ok": false, "error", "detail"}``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from slackbridge.emulator.blocks import is_block_list
from slackbridge.emulator.state import Channel, EmulatorState, User
from slackbridge.emulator.webapi.dispatch import json_response
from slackbridge.emulator.webapi.registry import SlackError

__all__ = [
    "ControlError",
    "blocks_field",
    "bool_field",
    "channel_field",
    "endpoint",
    "read_body",
    "render_channel_summary",
    "required_field",
    "state_of",
    "str_field",
    "unrouted",
    "user_field",
]

_log = logging.getLogger("slackbridge.emulator.control")
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


def state_of(request: Request) -> EmulatorState:
    """The emulator state of the app serving ``request``."""
    state: EmulatorState = request.app.state.emulator
    return state


async def read_body(request: Request) -> dict[str, Any]:
    """The JSON object body (empty when there is none); ``invalid_json`` otherwise."""
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


def str_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string field (None when absent and optional)."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ControlError("invalid_arguments", f"{name}: required")
        return None
    if not isinstance(value, str):
        raise ControlError("invalid_arguments", f"{name}: expected a string")
    return value


def required_field(body: dict[str, Any], name: str) -> str:
    """A required string field."""
    value = str_field(body, name)
    assert value is not None
    return value


def bool_field(body: dict[str, Any], name: str) -> bool:
    """A boolean field, false when absent."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ControlError("invalid_arguments", f"{name}: expected true or false")
    return value


def channel_field(state: EmulatorState, body: dict[str, Any]) -> Channel:
    """The conversation named by ``channel_id`` (and ``team_id`` when given)."""
    channel_id = required_field(body, "channel_id")
    team_id = str_field(body, "team_id", required=False)
    if team_id is not None and team_id not in state.workspaces:
        raise ControlError("team_not_found", f"team_id: no workspace {team_id}")
    channel = state.channel(team_id, channel_id) if team_id else state.find_channel(channel_id)
    if channel is None:
        raise ControlError("channel_not_found", f"channel_id: no conversation {channel_id}")
    return channel


def user_field(state: EmulatorState, team_id: str, user_id: str, field: str = "user_id") -> User:
    """An active user of ``team_id``; ``user_not_found`` (404) otherwise."""
    user = state.workspaces[team_id].users.get(user_id)
    if user is None:
        raise ControlError("user_not_found", f"{field}: no user {user_id} in {team_id}")
    if user.deleted:
        raise ControlError("user_not_found", f"{field}: user {user_id} is deactivated")
    return user


def blocks_field(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """An optional list of Block Kit blocks."""
    blocks = body.get("blocks")
    if blocks is None:
        return None
    if not is_block_list(blocks):
        raise ControlError("invalid_blocks", "blocks: expected a list of up to 50 block objects")
    return blocks


Handler = Callable[[Request], Awaitable[dict[str, Any]]]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint answering ``{"ok": true, **result}`` or the error envelope."""

    async def endpoint(request: Request) -> Response:
        state = state_of(request)
        if state.base_url is None:
            state.base_url = str(request.base_url).rstrip("/")
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
        except Exception:
            _log.exception("emulator: control endpoint %s failed", request.url.path)
            return json_response(
                {"ok": False, "error": "internal_error", "detail": "see the emulator's log"}, 500
            )
        return json_response({"ok": True, **result})

    return endpoint


#: Addresses answered in Slack's plain text (response URLs and incoming webhooks), not JSON.
_PLAIN_TEXT_ROOTS = ("/_emulator/response", "/services")


async def unrouted(request: Request, exc: Exception) -> Response:
    """404/405 for requests no route takes, in the shape of the address they were meant for:
    the control API's JSON envelope, Slack's plain ``no_service`` for response URLs and incoming
    webhooks, and Starlette's plain text anywhere else."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    headers = dict(exc.headers) if isinstance(exc, HTTPException) and exc.headers else None
    path = request.url.path
    # Clients drop dot segments ("/services/." arrives as "/services"), so the bare prefixes
    # answer as the addresses under them do.
    if path in _PLAIN_TEXT_ROOTS or path.startswith(tuple(f"{p}/" for p in _PLAIN_TEXT_ROOTS)):
        return PlainTextResponse("no_service", status_code=404)
    if path.startswith("/_emulator/"):
        if status == 405:
            error, detail = "method_not_allowed", f"{request.method} is not allowed on {path}"
        else:
            error, detail = "not_found", f"no control endpoint {path} (see docs/emulator.md)"
        return json_response({"ok": False, "error": error, "detail": detail}, status, headers)
    text = exc.detail if isinstance(exc, HTTPException) else "Not Found"
    return PlainTextResponse(text, status_code=status, headers=headers)


def render_channel_summary(channel: Channel) -> dict[str, Any]:
    """A conversation as the control API lists it."""
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
