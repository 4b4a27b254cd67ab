"""Shared steps for acting toward apps as a user: lookups with clear errors, payload pieces,
sending an interaction and reading the app's answer."""

from __future__ import annotations

from typing import Any

import orjson

from slackbridge.emulator.control_common import ControlError
from slackbridge.emulator.delivery import CallResult, Kind
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.state import (
    App,
    Channel,
    EmulatorState,
    Installation,
    Message,
    User,
    View,
    Workspace,
)

__all__ = [
    "ControlError",
    "active_install",
    "answer_of",
    "bot_user",
    "call_reply",
    "channel_for",
    "channel_name",
    "failure_code",
    "find_element",
    "interactivity_url",
    "message_or_404",
    "offered_options",
    "open_view_or_404",
    "person",
    "remember_options",
    "send_interaction",
    "team_json",
    "user_json",
    "workspace",
]


def workspace(state: EmulatorState, team_id: Any) -> Workspace:
    """The workspace ``team_id``, or 404 ``team_not_found``."""
    ws = state.workspace(str(team_id)) if team_id else None
    if ws is None:
        raise ControlError("team_not_found", f"no workspace {team_id!r}", status=404)
    return ws


def person(ws: Workspace, user_id: Any) -> User:
    """An active user of ``ws``, or 404 ``user_not_found``."""
    user = ws.users.get(str(user_id)) if user_id else None
    if user is None or user.deleted:
        raise ControlError("user_not_found", f"no user {user_id!r} in {ws.id}", status=404)
    return user


def channel_for(ws: Workspace, channel_id: Any, user: User) -> Channel:
    """A channel ``user`` may act in (any public one, or one they belong to)."""
    channel = ws.channels.get(str(channel_id)) if channel_id else None
    if channel is None:
        raise ControlError("channel_not_found", f"no channel {channel_id!r} in {ws.id}", status=404)
    if channel.kind != "public" and user.id not in channel.members:
        raise ControlError(
            "not_in_channel", f"{user.id} is not a member of {channel.id}", status=403
        )
    return channel


def active_install(
    state: EmulatorState, app_id: str | None, team_id: str
) -> tuple[App, Installation]:
    """The app and its active installation in ``team_id``, or 404 ``app_not_installed``."""
    app = state.apps.get(app_id or "")
    inst = state.installation(app_id or "", team_id)
    if app is None or inst is None or inst.status != "active":
        raise ControlError(
            "app_not_installed", f"app {app_id!r} is not installed in {team_id}", status=404
        )
    return app, inst


def bot_user(state: EmulatorState, inst: Installation) -> User:
    """The installation's bot user (who the app's messages are posted as)."""
    bot = state.workspaces[inst.team_id].users.get(inst.bot_user_id)
    if bot is None:
        raise ControlError("app_not_installed", f"{inst.app_id} has no bot user", status=404)
    return bot


def user_json(user: User) -> dict[str, Any]:
    """The ``user`` object of interaction payloads."""
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


def team_json(ws: Workspace) -> dict[str, Any]:
    """The ``team`` object of interaction payloads."""
    return {"id": ws.id, "domain": ws.domain}


def channel_name(channel: Channel) -> str:
    """``channel_name`` as slash commands report it (``directmessage`` for DMs)."""
    if channel.kind == "im":
        return "directmessage"
    if channel.kind == "mpim":
        return channel.name or "mpdm"
    return channel.name if channel.kind == "public" else channel.name or "privategroup"


def interactivity_url(app: App) -> str | None:
    """Where interactions go over HTTP; 409 when the app has neither a URL nor Socket Mode."""
    if not app.socket_mode and not app.interactivity_url:
        raise ControlError(
            "interactivity_not_enabled", f"{app.id} has no interactivity request URL", status=409
        )
    return app.interactivity_url


def failure_code(result: CallResult) -> str:
    """What Slack tells the user when the app did not answer properly."""
    if result.error in ("http_timeout", "timeout"):
        return "operation_timeout"
    if result.status is not None and 400 <= result.status < 500:
        return "http_client_error"
    if result.status is not None:
        return "http_service_error"
    return "dispatch_failed"


async def send_interaction(
    out: Outbound,
    app: App,
    team_id: str,
    payload: dict[str, Any],
    *,
    kind: Kind = "interactive",
    url: str | None,
    accepts_response_payload: bool,
) -> CallResult:
    """Send an interaction payload: ``payload=<json>`` form over HTTP, an envelope over Socket
    Mode."""
    return await out.deliverer.call(
        app,
        kind,
        team_id,
        url=url,
        form={"payload": orjson.dumps(payload).decode()} if not app.socket_mode else None,
        payload=payload,
        socket_type="interactive",
        accepts_response_payload=accepts_response_payload,
    )


def call_reply(app: App, result: CallResult, **extra: Any) -> dict[str, Any]:
    """What the control API answers after sending an app an interaction: ``ok``, ``app_id``,
    the app's HTTP ``status``, ``extra`` (trigger id, response URL …) and, when the app did not
    answer properly, the ``error`` Slack would show the user."""
    reply: dict[str, Any] = {"ok": result.ok, "app_id": app.id, "status": result.status, **extra}
    if not result.ok:
        reply["error"] = failure_code(result)
    return reply


def message_or_404(channel: Channel, message_ts: Any) -> Message:
    """The live message ``message_ts`` in ``channel``, or 404 ``message_not_found``."""
    msg = channel.by_ts.get(str(message_ts or ""))
    if msg is None or msg.deleted:
        raise ControlError("message_not_found", "message_ts names no message", status=404)
    return msg


def answer_of(result: CallResult) -> Any:
    """The app's answer as JSON, else its text, else None."""
    parsed = result.json()
    if parsed is not None:
        return parsed
    text = result.body.decode(errors="replace").strip()
    return text or None


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in ("elements", "accessory", "element"):
        value = block.get(key)
        if isinstance(value, dict):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, dict))
    return found


def find_element(
    blocks: list[Any] | None, action_id: str, block_id: str | None
) -> tuple[str, dict[str, Any]]:
    """The block id and element with ``action_id`` (in ``block_id`` if given), or 404."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue  # a view's blocks are only checked to be a list
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    raise ControlError("action_not_found", f"no element with action_id {action_id!r}", status=404)


def open_view_or_404(state: EmulatorState, view_id: Any, team_id: str | None = None) -> View:
    """An open view, or 404 ``view_not_found``."""
    view = state.views.get(str(view_id)) if view_id else None
    if view is None or not view.open or (team_id is not None and view.team_id != team_id):
        raise ControlError("view_not_found", f"no open view {view_id!r}", status=404)
    return view


def offered_options(
    state: EmulatorState, team_id: str, user_id: str, app_id: str
) -> dict[str, dict[str, dict[str, Any]]]:
    """The options ``app_id`` offered ``user_id`` in external selects: action_id → value →
    option."""
    return state.offered_options.get((team_id, user_id, app_id), {})


def remember_options(
    state: EmulatorState, team_id: str, user_id: str, app_id: str, action_id: str, answer: Any
) -> None:
    """Keep the options of an app's block_suggestion answer (``options`` or ``option_groups``),
    so that the user's pick echoes the app's own option object."""
    if not isinstance(answer, dict):
        return
    found: list[Any] = list(answer.get("options") or [])
    for group in answer.get("option_groups") or []:
        if isinstance(group, dict):
            found.extend(group.get("options") or [])
    options = {
        o["value"]: o for o in found if isinstance(o, dict) and isinstance(o.get("value"), str)
    }
    key = (team_id, user_id, app_id)
    state.offered_options.setdefault(key, {}).setdefault(action_id, {}).update(options)
