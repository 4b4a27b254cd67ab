"""Acting as a user toward apps: submitting and closing modals, shortcuts, and select-menu
suggestions, with the app's answers honoured (``response_action`` ``errors``, ``update``,
``push``, ``clear``; ``block_suggestion`` options)."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.interaction_common import (
    ControlError,
    active_install,
    call_reply,
    channel_for,
    channel_name,
    failure_code,
    find_element,
    interactivity_url,
    message_or_404,
    offered_options,
    open_view_or_404,
    person,
    remember_options,
    send_interaction,
    team_json,
    user_json,
    workspace,
)
from slackbridge.emulator.ops import (
    close_view,
    message_json,
    new_trigger,
    push_view,
    render_view,
    update_view,
)
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.state import App, EmulatorState, Installation
from slackbridge.emulator.view_state import state_values
from slackbridge.emulator.webapi.registry import SlackError

__all__ = ["close_modal", "load_options", "run_shortcut", "submit_view"]


async def submit_view(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/views/submit``: a user submits a modal with ``values``."""
    state = out.state
    view = open_view_or_404(state, body.get("view_id"))
    if view.kind != "modal":
        raise ControlError("not_a_modal", "only modals can be submitted", status=400)
    ws = workspace(state, view.team_id)
    user = person(ws, body.get("user_id") or view.user_id)
    values = body.get("values", {})
    if not isinstance(values, dict):
        raise ControlError(
            "invalid_values", "values must be {block_id: {action_id: value}}", status=400
        )
    app, inst = active_install(state, view.app_id, ws.id)
    url = interactivity_url(app)
    try:
        offered = offered_options(state, ws.id, user.id, app.id)
        view.view["state"] = {"values": state_values(view.view.get("blocks"), values, offered)}
    except ValueError as exc:
        raise ControlError("invalid_values", str(exc), status=400) from None
    trigger = new_trigger(state, ws.id, user.id, app.id)
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": team_json(ws),
        "user": user_json(user),
        "api_app_id": app.id,
        "token": app.verification_token,
        "trigger_id": trigger.trigger_id,
        "view": render_view(view, bot_id=inst.bot_id),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    result = await send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=True
    )
    reply = call_reply(app, result)
    if not result.ok:
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
    view = open_view_or_404(state, body.get("view_id"))
    ws = workspace(state, view.team_id)
    user = person(ws, body.get("user_id") or view.user_id)
    closed = close_view(state, view)
    reply: dict[str, Any] = {"ok": True, "closed": [v.id for v in closed], "notified": False}
    if not view.view.get("notify_on_close"):
        return reply
    app, inst = active_install(state, view.app_id, ws.id)
    url = interactivity_url(app)
    payload = {
        "type": "view_closed",
        "team": team_json(ws),
        "user": user_json(user),
        "api_app_id": app.id,
        "token": app.verification_token,
        "view": render_view(view, bot_id=inst.bot_id),
        "is_cleared": len(closed) > 1,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    result = await send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=False
    )
    reply.update(notified=True, status=result.status)
    if not result.ok:
        reply.update(ok=False, error=failure_code(result))
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
    raise ControlError(
        "shortcut_not_found", f"no installed app has shortcut {callback_id!r}", status=404
    )


async def run_shortcut(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/shortcuts``: a global shortcut or a message shortcut."""
    state = out.state
    ws = workspace(state, body.get("team_id"))
    user = person(ws, body.get("user_id"))
    callback_id = body.get("callback_id")
    kind = body.get("type")
    if not isinstance(callback_id, str) or kind not in (None, "shortcut", "message_action"):
        raise ControlError(
            "invalid_shortcut", "callback_id and type shortcut|message_action", status=400
        )
    app, _inst, payload_type = _find_shortcut(state, ws.id, callback_id, kind)
    url = interactivity_url(app)
    trigger = new_trigger(state, ws.id, user.id, app.id)
    payload: dict[str, Any] = {
        "type": payload_type,
        "token": app.verification_token,
        "action_ts": f"{state.now():.6f}",
        "team": team_json(ws),
        "user": {"id": user.id, "username": user.name, "team_id": ws.id},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger.trigger_id,
    }
    response_url = None
    if payload_type == "message_action":
        channel = channel_for(ws, body.get("channel_id"), user)
        msg = message_or_404(channel, body.get("message_ts"))
        response_url = out.responses.create(app.id, ws.id, channel.id, user.id)
        payload.update(
            channel={"id": channel.id, "name": channel_name(channel)},
            message=message_json(state, channel, msg),
            message_ts=msg.ts,
            response_url=response_url,
        )
    result = await send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=False
    )
    return call_reply(app, result, trigger_id=trigger.trigger_id, response_url=response_url)


async def load_options(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/options``: a user types ``value`` into an external select menu."""
    state = out.state
    ws = workspace(state, body.get("team_id"))
    user = person(ws, body.get("user_id"))
    action_id = body.get("action_id")
    query = body.get("value", "")
    if not isinstance(action_id, str) or not isinstance(query, str):
        raise ControlError("invalid_arguments", "action_id and value must be strings", status=400)
    block_id = body.get("block_id") if isinstance(body.get("block_id"), str) else None
    payload: dict[str, Any] = {"type": "block_suggestion", "user": user_json(user)}
    if body.get("view_id"):
        view = open_view_or_404(state, body.get("view_id"), ws.id)
        app, inst = active_install(state, view.app_id, ws.id)
        real_block_id, _ = find_element(view.view.get("blocks"), action_id, block_id)
        payload["container"] = {"type": "view", "view_id": view.id}
        payload["view"] = render_view(view, bot_id=inst.bot_id)
    else:
        channel = channel_for(ws, body.get("channel_id"), user)
        msg = message_or_404(channel, body.get("message_ts"))
        app, inst = active_install(state, msg.app_id, ws.id)
        real_block_id, _ = find_element(msg.blocks, action_id, block_id)
        payload["container"] = {
            "type": "message",
            "message_ts": msg.ts,
            "channel_id": channel.id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel.id, "name": channel_name(channel)}
        payload["message"] = message_json(state, channel, msg)
    if not app.socket_mode and not app.options_load_url:
        raise ControlError(
            "options_load_url_not_set", f"{app.id} has no options load URL", status=409
        )
    payload.update(
        api_app_id=app.id,
        token=app.verification_token,
        action_id=action_id,
        block_id=real_block_id,
        value=query,
        team=team_json(ws),
        enterprise=None,
        is_enterprise_install=False,
    )
    result = await send_interaction(
        out,
        app,
        ws.id,
        payload,
        kind="options",
        url=app.options_load_url,
        accepts_response_payload=True,
    )
    reply = call_reply(app, result)
    if not result.ok:
        return reply
    answer = result.json()
    remember_options(state, ws.id, user.id, app.id, action_id, answer)
    reply["response"] = answer
    if isinstance(answer, dict):
        for key in ("options", "option_groups"):
            if key in answer:
                reply[key] = answer[key]
    return reply
