"""Acting as a user toward apps: running slash commands and clicking message buttons.

Each function builds the payload Slack would send, delivers it (HTTP or Socket Mode) and applies
the app's synchronous answer; a command's ``in_channel``/``ephemeral`` message is posted as the
app. Bad requests raise :class:`~slackbridge.emulator.interaction_common.ControlError`. Modals,
shortcuts and select-menu suggestions are in ``interactive_views``.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.blocks import is_attachment_list, is_block_list
from slackbridge.emulator.interaction_common import (
    ControlError,
    active_install,
    answer_of,
    bot_user,
    call_reply,
    channel_for,
    channel_name,
    find_element,
    interactivity_url,
    message_or_404,
    offered_options,
    open_view_or_404,
    person,
    send_interaction,
    team_json,
    user_json,
    workspace,
)
from slackbridge.emulator.ops import (
    message_json,
    new_trigger,
    post_ephemeral,
    post_message,
    render_view,
)
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.state import (
    App,
    Channel,
    EmulatorState,
    Installation,
    Message,
    User,
    View,
)
from slackbridge.emulator.view_state import action_value
from slackbridge.emulator.webapi.registry import SlackError

__all__ = ["click_action", "run_command"]


# --- slash commands -----------------------------------------------------------------------


def _find_command(state: EmulatorState, team_id: str, command: str) -> tuple[App, Installation]:
    for inst in state.active_installations(team_id):
        app = state.apps.get(inst.app_id)
        if app and any(c.command.lower() == command.lower() for c in app.slash_commands):
            return app, inst
    raise ControlError(
        "command_not_found", f"{command} is not a command of any installed app", status=404
    )


def _show_message(
    state: EmulatorState,
    channel: Channel,
    user: User,
    bot: User,
    message: dict[str, Any],
) -> dict[str, Any]:
    """Post an app's message answer: to the channel (``in_channel``) or to the user only.

    Malformed blocks or attachments post nothing: Slack shows the person an error instead."""
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    blocks, attachments = message.get("blocks"), message.get("attachments")
    thread_ts = message.get("thread_ts") if isinstance(message.get("thread_ts"), str) else None
    response_type = "in_channel" if message.get("response_type") == "in_channel" else "ephemeral"
    if blocks is not None and not is_block_list(blocks):
        return {"response_type": response_type, "error": "invalid_blocks"}
    if attachments is not None and not is_attachment_list(attachments):
        return {"response_type": response_type, "error": "invalid_attachments"}
    if not text and not blocks and not attachments:
        return {}
    if response_type == "in_channel":
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
    ws = workspace(state, body.get("team_id"))
    user = person(ws, body.get("user_id"))
    channel = channel_for(ws, body.get("channel_id"), user)
    command = body.get("command")
    if not isinstance(command, str) or not command.startswith("/"):
        raise ControlError("invalid_command", "command must look like /name", status=400)
    text = body.get("text", "")
    if not isinstance(text, str):
        raise ControlError("invalid_text", "text must be a string", status=400)
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
        channel_name=channel_name(channel),
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
    reply = call_reply(app, result, trigger_id=trigger.trigger_id, response_url=response_url)
    if not result.ok:
        return reply
    answer = answer_of(result)
    reply["response"] = answer
    bot = bot_user(state, inst)
    if isinstance(answer, dict):
        reply["posted"] = _show_message(state, channel, user, bot, answer)
    elif isinstance(answer, str):
        reply["posted"] = _show_message(state, channel, user, bot, {"text": answer})
    return reply


async def click_action(out: Outbound, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_emulator/actions``: a user clicks or picks in a message (or a view) element."""
    state = out.state
    ws = workspace(state, body.get("team_id"))
    user = person(ws, body.get("user_id"))
    action_id = body.get("action_id")
    if not isinstance(action_id, str) or not action_id:
        raise ControlError("invalid_action_id", "action_id is required", status=400)
    block_id = body.get("block_id") if isinstance(body.get("block_id"), str) else None
    action_ts = f"{state.now():.6f}"
    view: View | None = None
    msg: Message | None = None
    channel: Channel | None = None
    if body.get("view_id"):
        view = open_view_or_404(state, body.get("view_id"), ws.id)
        app, inst = active_install(state, view.app_id, ws.id)
        real_block_id, element = find_element(view.view.get("blocks"), action_id, block_id)
    else:
        channel = channel_for(ws, body.get("channel_id"), user)
        msg = message_or_404(channel, body.get("message_ts"))
        if not msg.app_id:
            raise ControlError("not_an_app_message", "only app messages have actions", status=400)
        app, inst = active_install(state, msg.app_id, ws.id)
        real_block_id, element = find_element(msg.blocks, action_id, block_id)
    url = interactivity_url(app)
    trigger = new_trigger(state, ws.id, user.id, app.id)
    try:
        offered = offered_options(state, ws.id, user.id, app.id)
        action = action_value(element, real_block_id, body.get("value"), action_ts, offered)
    except ValueError as exc:
        raise ControlError("invalid_value", f"value: {exc}", status=400) from None
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": user_json(user),
        "api_app_id": app.id,
        "token": app.verification_token,
    }
    response_url = None
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.id}
        payload.update(trigger_id=trigger.trigger_id, team=team_json(ws), enterprise=None)
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
        payload.update(trigger_id=trigger.trigger_id, team=team_json(ws), enterprise=None)
        payload.update(is_enterprise_install=False)
        payload["channel"] = {"id": channel.id, "name": channel_name(channel)}
        payload["message"] = message_json(state, channel, msg)
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url
    payload["actions"] = [action]
    result = await send_interaction(
        out, app, ws.id, payload, url=url, accepts_response_payload=False
    )
    return call_reply(app, result, trigger_id=trigger.trigger_id, response_url=response_url)
