"""Acting as a user toward apps: slash commands, button clicks, modal submissions, shortcuts
and select-menu suggestions, each sent to the app as Slack sends it and its answer honoured.

Every function here builds the payload Slack would send, delivers it (HTTP or Socket Mode) and
applies the app's synchronous answer: a command's ``in_channel``/``ephemeral`` message, a
``view_submission``'s ``response_action`` (``errors``, ``update``, ``push``, ``clear``),
``block_suggestion`` options. Bad requests raise :class:`ControlError` (HTTP status + code).
"""

from __future__ import annotations

from typing import Any

import orjson

from slackbridge.emulator.delivery import CallResult, Kind
from slackbridge.emulator.ops import (
    close_view,
    find_message,
    message_json,
    new_trigger,
    post_message,
    push_view,
    render_view,
    update_view,
)
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.responses import post_ephemeral
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
from slackbridge.emulator.view_state import action_value, state_values
from slackbridge.emulator.webapi.registry import SlackError

__all__ = [
    "ControlError",
    "click_action",
    "close_modal",
    "load_options",
    "run_command",
    "run_shortcut",
    "submit_view",
]


class ControlError(Exception):
    """A control request that cannot be carried out: HTTP ``status`` and an error code."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


# --- lookups --------------------------------------------------------------------------------


def _workspace(state: EmulatorState, team_id: Any) -> Workspace:
    ws = state.workspace(str(team_id)) if team_id else None
    if ws is None:
        raise ControlError(404, "team_not_found", f"no workspace {team_id!r}")
    return ws


def _person(ws: Workspace, user_id: Any) -> User:
    user = ws.users.get(str(user_id)) if user_id else None
    if user is None or user.deleted:
        raise ControlError(404, "user_not_found", f"no user {user_id!r} in {ws.id}")
    return user


def _channel(ws: Workspace, channel_id: Any, user: User) -> Channel:
    channel = ws.channels.get(str(channel_id)) if channel_id else None
    if channel is None:
        raise ControlError(404, "channel_not_found", f"no channel {channel_id!r} in {ws.id}")
    if channel.kind != "public" and user.id not in channel.members:
        raise ControlError(403, "not_in_channel", f"{user.id} is not a member of {channel.id}")
    return channel


def _active(state: EmulatorState, app_id: str | None, team_id: str) -> tuple[App, Installation]:
    app = state.apps.get(app_id or "")
    inst = state.installation(app_id or "", team_id)
    if app is None or inst is None or inst.status != "active":
        raise ControlError(
            404, "app_not_installed", f"app {app_id!r} is not installed in {team_id}"
        )
    return app, inst


def _bot(state: EmulatorState, inst: Installation) -> User:
    bot = state.workspaces[inst.team_id].users.get(inst.bot_user_id)
    if bot is None:
        raise ControlError(404, "app_not_installed", f"{inst.app_id} has no bot user")
    return bot


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


def _team_json(ws: Workspace) -> dict[str, Any]:
    return {"id": ws.id, "domain": ws.domain}


def _channel_name(channel: Channel) -> str:
    if channel.kind == "im":
        return "directmessage"
    if channel.kind == "mpim":
        return channel.name or "mpdm"
    return channel.name if channel.kind == "public" else channel.name or "privategroup"


def _interactivity_url(app: App) -> str | None:
    if not app.socket_mode and not app.interactivity_url:
        raise ControlError(
            409, "interactivity_not_enabled", f"{app.id} has no interactivity request URL"
        )
    return app.interactivity_url


def _failure(result: CallResult) -> str:
    if result.error in ("http_timeout", "timeout"):
        return "operation_timeout"
    if result.status is not None and 400 <= result.status < 500:
        return "http_client_error"
    if result.status is not None:
        return "http_service_error"
    return "dispatch_failed"


async def _send_interaction(
    out: Outbound,
    app: App,
    team_id: str,
    payload: dict[str, Any],
    *,
    kind: Kind = "interactive",
    url: str | None,
    accepts_response_payload: bool,
) -> CallResult:
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


def _answer(result: CallResult) -> Any:
    parsed = result.json()
    if parsed is not None:
        return parsed
    text = result.body.decode(errors="replace").strip()
    return text or None


# --- slash commands -----------------------------------------------------------------------


def _find_command(state: EmulatorState, team_id: str, command: str) -> tuple[App, Installation]:
    for inst in state.active_installations(team_id):
        app = state.apps.get(inst.app_id)
        if app and any(c.command.lower() == command.lower() for c in app.slash_commands):
            return app, inst
    raise ControlError(404, "command_not_found", f"{command} is not a command of any installed app")


def _show_message(
    state: EmulatorState,
    channel: Channel,
    user: User,
    bot: User,
    message: dict[str, Any],
) -> dict[str, Any]:
    """Post an app's message answer: to the channel (``in_channel``) or to the user only."""
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    blocks = message.get("blocks") if isinstance(message.get("blocks"), list) else None
    attachments = message.get("attachments")
    attachments = attachments if isinstance(attachments, list) else None
    thread_ts = message.get("thread_ts") if isinstance(message.get("thread_ts"), str) else None
    if not text and not blocks and not attachments:
        return {}
    if message.get("response_type") == "in_channel":
        try:
            msg = post_message(
                state,
                channel,
                bot,
                text=text or "",
                blocks=blocks,
                attachments=attachments,
                thread_ts=thread_ts,
            )
        except SlackError as exc:
            return {"response_type": "in_channel", "error": exc.error}
        return {"response_type": "in_channel", "ts": msg.ts}
    record = post_ephemeral(
        state,
        channel,
        user.id,
        bot,
        text=text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
    )
    return {"response_type": "ephemeral", "ts": record["ts"]}


async def run_command(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/commands``: a user runs ``command`` with ``text`` in a channel."""
    state = out.state
    ws = _workspace(state, body.get("team_id"))
    user = _person(ws, body.get("user_id"))
    channel = _channel(ws, body.get("channel_id"), user)
    command = body.get("command")
    if not isinstance(command, str) or not command.startswith("/"):
        raise ControlError(400, "invalid_command", "command must look like /name")
    text = body.get("text", "")
    if not isinstance(text, str):
        raise ControlError(400, "invalid_text", "text must be a string")
    app, inst = _find_command(state, ws.id, command)
    spec = next(c for c in app.slash_commands if c.command.lower() == command.lower())
    trigger = new_trigger(state, ws.id, user.id, app.id)
    response_url = out.responses.create(app.id, ws.id, channel.id, user.id)
    form: dict[str, str] = {
        "token": app.verification_token,
        "team_id": ws.id,
        "team_domain": ws.domain,
    }
    if ws.enterprise_id:
        form.update(enterprise_id=ws.enterprise_id, enterprise_name=ws.name)
    form.update(
        channel_id=channel.id,
        channel_name=_channel_name(channel),
        user_id=user.id,
        user_name=user.name,
        command=spec.command,
        text=text,
        api_app_id=app.id,
        is_enterprise_install="false",
        response_url=response_url,
        trigger_id=trigger.trigger_id,
    )
    result = await out.deliverer.call(
        app,
        "command",
        ws.id,
        url=spec.url or None,
        form=form,
        socket_type="slash_commands",
        accepts_response_payload=True,
    )
    reply: dict[str, Any] = {
        "ok": result.ok,
        "app_id": app.id,
        "status": result.status,
        "trigger_id": trigger.trigger_id,
        "response_url": response_url,
    }
    if not result.ok:
        reply["error"] = _failure(result)
        return reply
    answer = _answer(result)
    reply["response"] = answer
    bot = _bot(state, inst)
    if isinstance(answer, dict):
        reply["posted"] = _show_message(state, channel, user, bot, answer)
    elif isinstance(answer, str):
        reply["posted"] = _show_message(state, channel, user, bot, {"text": answer})
    return reply


# --- block actions ------------------------------------------------------------------------


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in ("elements", "accessory", "element"):
        value = block.get(key)
        if isinstance(value, dict):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, dict))
    return found


def _find_element(
    blocks: list[dict[str, Any]] | None, action_id: str, block_id: str | None
) -> tuple[str, dict[str, Any]]:
    for block in blocks or []:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    raise ControlError(404, "action_not_found", f"no element with action_id {action_id!r}")


async def click_action(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/actions``: a user clicks or picks in a message (or a view) element."""
    state = out.state
    ws = _workspace(state, body.get("team_id"))
    user = _person(ws, body.get("user_id"))
    action_id = body.get("action_id")
    if not isinstance(action_id, str) or not action_id:
        raise ControlError(400, "invalid_action_id", "action_id is required")
    block_id = body.get("block_id") if isinstance(body.get("block_id"), str) else None
    action_ts = f"{state.now():.6f}"
    view: View | None = None
    msg: Message | None = None
    channel: Channel | None = None
    if body.get("view_id"):
        view = _open_view(state, body.get("view_id"), ws.id)
        app, inst = _active(state, view.app_id, ws.id)
        real_block_id, element = _find_element(view.view.get("blocks"), action_id, block_id)
    else:
        channel = _channel(ws, body.get("channel_id"), user)
        try:
            msg = find_message(channel, str(body.get("message_ts", "")))
        except SlackError:
            raise ControlError(404, "message_not_found", "message_ts names no message") from None
        if not msg.app_id:
            raise ControlError(400, "not_an_app_message", "only app messages have actions")
        app, inst = _active(state, msg.app_id, ws.id)
        real_block_id, element = _find_element(msg.blocks, action_id, block_id)
    url = _interactivity_url(app)
    trigger = new_trigger(state, ws.id, user.id, app.id)
    action = action_value(element, real_block_id, body.get("value"), action_ts)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user_json(user),
        "api_app_id": app.id,
        "token": app.verification_token,
    }
    response_url = None
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.id}
        payload.update(trigger_id=trigger.trigger_id, team=_team_json(ws), enterprise=None)
        payload.update(is_enterprise_install=False, view=render_view(view, bot_id=inst.bot_id))
    else:
        assert msg is not None and channel is not None
        response_url = out.responses.create(app.id, ws.id, channel.id, user.id, message_ts=msg.ts)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": msg.ts,
            "channel_id": channel.id,
            "is_ephemeral": False,
        }
        if msg.thread_ts and msg.thread_ts != msg.ts:
            container["thread_ts"] = msg.thread_ts
        payload["container"] = container
        payload.update(trigger_id=trigger.trigger_id, team=_team_json(ws), enterprise=None)
        payload.update(is_enterprise_install=False)
        payload["channel"] = {"id": channel.id, "name": _channel_name(channel)}
        payload["message"] = message_json(state, channel, msg)
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url
    payload["actions"] = [action]
    result = await _send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=False
    )
    reply: dict[str, Any] = {
        "ok": result.ok,
        "app_id": app.id,
        "status": result.status,
        "trigger_id": trigger.trigger_id,
        "response_url": response_url,
    }
    if not result.ok:
        reply["error"] = _failure(result)
    return reply


# --- views ----------------------------------------------------------------------------------


def _open_view(state: EmulatorState, view_id: Any, team_id: str | None = None) -> View:
    view = state.views.get(str(view_id)) if view_id else None
    if view is None or not view.open or (team_id is not None and view.team_id != team_id):
        raise ControlError(404, "view_not_found", f"no open view {view_id!r}")
    return view


async def submit_view(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/views/submit``: a user submits a modal with ``values``."""
    state = out.state
    view = _open_view(state, body.get("view_id"))
    if view.kind != "modal":
        raise ControlError(400, "not_a_modal", "only modals can be submitted")
    ws = _workspace(state, view.team_id)
    user = _person(ws, body.get("user_id") or view.user_id)
    values = body.get("values", {})
    if not isinstance(values, dict):
        raise ControlError(400, "invalid_values", "values must be {block_id: {action_id: value}}")
    app, inst = _active(state, view.app_id, ws.id)
    url = _interactivity_url(app)
    try:
        view.view["state"] = {"values": state_values(view.view.get("blocks"), values)}
    except ValueError as exc:
        raise ControlError(400, "invalid_values", str(exc)) from None
    trigger = new_trigger(state, ws.id, user.id, app.id)
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": _team_json(ws),
        "user": _user_json(user),
        "api_app_id": app.id,
        "token": app.verification_token,
        "trigger_id": trigger.trigger_id,
        "view": render_view(view, bot_id=inst.bot_id),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    result = await _send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=True
    )
    reply: dict[str, Any] = {"ok": result.ok, "app_id": app.id, "status": result.status}
    if not result.ok:
        reply["error"] = _failure(result)
        return reply
    answer = result.json()
    reply["response"] = answer
    action = answer.get("response_action") if isinstance(answer, dict) else None
    reply["response_action"] = action
    try:
        if action == "errors":
            reply["errors"] = answer.get("errors", {}) if isinstance(answer, dict) else {}
            reply["view_id"] = view.id
        elif action == "update" and isinstance(answer, dict):
            reply["view_id"] = update_view(state, app.id, answer.get("view"), view_id=view.id).id
        elif action == "push" and isinstance(answer, dict):
            pushed = push_view(state, app.id, ws.id, user.id, answer.get("view"))
            reply["view_id"] = pushed.id
        elif action == "clear":
            close_view(state, state.views[view.root_view_id or view.id])
            reply["view_id"] = None
        else:
            close_view(state, view)
            previous = state.views.get(view.previous_view_id or "")
            reply["view_id"] = previous.id if previous is not None and previous.open else None
    except SlackError as exc:
        reply.update(ok=False, error=exc.error)
    return reply


async def close_modal(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/views/close``: the user closes a modal (``view_closed`` if asked)."""
    state = out.state
    view = _open_view(state, body.get("view_id"))
    ws = _workspace(state, view.team_id)
    user = _person(ws, body.get("user_id") or view.user_id)
    closed = close_view(state, view)
    reply: dict[str, Any] = {"ok": True, "closed": [v.id for v in closed], "notified": False}
    if not view.view.get("notify_on_close"):
        return reply
    app, inst = _active(state, view.app_id, ws.id)
    url = _interactivity_url(app)
    payload = {
        "type": "view_closed",
        "team": _team_json(ws),
        "user": _user_json(user),
        "api_app_id": app.id,
        "token": app.verification_token,
        "view": render_view(view, bot_id=inst.bot_id),
        "is_cleared": len(closed) > 1,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    result = await _send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=False
    )
    reply.update(notified=True, status=result.status)
    if not result.ok:
        reply.update(ok=False, error=_failure(result))
    return reply


# --- shortcuts and options ----------------------------------------------------------------------


def _find_shortcut(
    state: EmulatorState, team_id: str, callback_id: str, kind: str | None
) -> tuple[App, Installation, str]:
    for inst in state.active_installations(team_id):
        app = state.apps.get(inst.app_id)
        features = app.manifest.get("features", {}) if app else {}
        shortcuts = features.get("shortcuts", []) if isinstance(features, dict) else []
        for shortcut in shortcuts if isinstance(shortcuts, list) else []:
            if not isinstance(shortcut, dict) or shortcut.get("callback_id") != callback_id:
                continue
            payload_type = "message_action" if shortcut.get("type") == "message" else "shortcut"
            if app is not None and (kind is None or kind == payload_type):
                return app, inst, payload_type
    raise ControlError(404, "shortcut_not_found", f"no installed app has shortcut {callback_id!r}")


async def run_shortcut(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/shortcuts``: a global shortcut or a message shortcut."""
    state = out.state
    ws = _workspace(state, body.get("team_id"))
    user = _person(ws, body.get("user_id"))
    callback_id = body.get("callback_id")
    kind = body.get("type")
    if not isinstance(callback_id, str) or kind not in (None, "shortcut", "message_action"):
        raise ControlError(400, "invalid_shortcut", "callback_id and type shortcut|message_action")
    app, _inst, payload_type = _find_shortcut(state, ws.id, callback_id, kind)
    url = _interactivity_url(app)
    trigger = new_trigger(state, ws.id, user.id, app.id)
    payload: dict[str, Any] = {
        "type": payload_type,
        "token": app.verification_token,
        "action_ts": f"{state.now():.6f}",
        "team": _team_json(ws),
        "user": {"id": user.id, "username": user.name, "team_id": ws.id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger.trigger_id,
    }
    response_url = None
    if payload_type == "message_action":
        channel = _channel(ws, body.get("channel_id"), user)
        try:
            msg = find_message(channel, str(body.get("message_ts", "")))
        except SlackError:
            raise ControlError(404, "message_not_found", "message_ts names no message") from None
        response_url = out.responses.create(app.id, ws.id, channel.id, user.id)
        payload.update(
            channel={"id": channel.id, "name": _channel_name(channel)},
            message=message_json(state, channel, msg),
            message_ts=msg.ts,
            response_url=response_url,
        )
    result = await _send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=False
    )
    reply: dict[str, Any] = {
        "ok": result.ok,
        "app_id": app.id,
        "status": result.status,
        "trigger_id": trigger.trigger_id,
        "response_url": response_url,
    }
    if not result.ok:
        reply["error"] = _failure(result)
    return reply


async def load_options(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/options``: a user types ``value`` into an external select menu."""
    state = out.state
    ws = _workspace(state, body.get("team_id"))
    user = _person(ws, body.get("user_id"))
    action_id = body.get("action_id")
    query = body.get("value", "")
    if not isinstance(action_id, str) or not isinstance(query, str):
        raise ControlError(400, "invalid_arguments", "action_id and value must be strings")
    block_id = body.get("block_id") if isinstance(body.get("block_id"), str) else None
    payload: dict[str, Any] = {"type": "block_suggestion", "user": _user_json(user)}
    if body.get("view_id"):
        view = _open_view(state, body.get("view_id"), ws.id)
        app, inst = _active(state, view.app_id, ws.id)
        real_block_id, _ = _find_element(view.view.get("blocks"), action_id, block_id)
        payload["container"] = {"type": "view", "view_id": view.id}
        payload["view"] = render_view(view, bot_id=inst.bot_id)
    else:
        channel = _channel(ws, body.get("channel_id"), user)
        try:
            msg = find_message(channel, str(body.get("message_ts", "")))
        except SlackError:
            raise ControlError(404, "message_not_found", "message_ts names no message") from None
        app, inst = _active(state, msg.app_id, ws.id)
        real_block_id, _ = _find_element(msg.blocks, action_id, block_id)
        payload["container"] = {
            "type": "message",
            "message_ts": msg.ts,
            "channel_id": channel.id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel.id, "name": _channel_name(channel)}
        payload["message"] = message_json(state, channel, msg)
    if not app.socket_mode and not app.options_load_url:
        raise ControlError(409, "options_load_url_not_set", f"{app.id} has no options load URL")
    payload.update(
        api_app_id=app.id,
        token=app.verification_token,
        action_id=action_id,
        block_id=real_block_id,
        value=query,
        team=_team_json(ws),
        enterprise=None,
        is_enterprise_install=False,
    )
    result = await _send_interaction(
        out,
        app,
        ws.id,
        payload,
        kind="options",
        url=app.options_load_url,
        accepts_response_payload=True,
    )
    reply: dict[str, Any] = {"ok": result.ok, "app_id": app.id, "status": result.status}
    if not result.ok:
        reply["error"] = _failure(result)
        return reply
    answer = result.json()
    reply["response"] = answer
    if isinstance(answer, dict):
        for key in ("options", "option_groups"):
            if key in answer:
                reply[key] = answer[key]
    return reply
