"""AI apps' assistant threads: a person opens the app's assistant container, Slack starts a
thread in their DM with the app and tells the app (``assistant_thread_started``); when the person
looks at another channel meanwhile, the app hears ``assistant_thread_context_changed``. The
person's messages in the thread reach the app as ``message.im`` events with ``thread_ts``.

Control API: ``POST /_emulator/assistant/threads`` starts a thread as a person,
``POST /_emulator/assistant/context`` changes its context, and ``GET /_emulator/assistant/threads``
shows every thread with what the app set on it (status, title, suggested prompts). A status
clears when the app replies in the thread, or after 2 minutes (divided by ``--speed``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.control_common import (
    ControlError,
    endpoint,
    read_body,
    required_field,
    state_of,
    str_field,
    user_field,
)
from slackbridge.emulator.ops_channels import open_dm
from slackbridge.emulator.ops_common import announce, new_ts
from slackbridge.emulator.state import AssistantThread, Channel, EmulatorState, Message

__all__ = ["STATUS_LIFETIME", "current_status", "render_thread", "routes", "start_thread"]

STATUS_LIFETIME = 120.0  # seconds a status shows without a reply (divided by speed)


def _context(thread: AssistantThread) -> dict[str, Any]:
    return {
        "channel_id": thread.context.get("channel_id"),
        "team_id": thread.context.get("team_id", thread.team_id),
        "enterprise_id": thread.context.get("enterprise_id"),
    }


def _announce(state: EmulatorState, kind: str, channel: Channel, thread: AssistantThread) -> None:
    event = {
        "type": kind,
        "assistant_thread": {
            "user_id": thread.user_id,
            "context": _context(thread),
            "channel_id": thread.channel_id,
            "thread_ts": thread.thread_ts,
        },
        "event_ts": new_ts(state),
    }
    announce(state, kind, channel, {"event": event, "members_only": True, "app_id": thread.app_id})


def start_thread(
    state: EmulatorState, team_id: str, user_id: str, app_id: str, context_channel_id: str | None
) -> AssistantThread:
    """Open ``user_id``'s assistant thread with ``app_id`` (installed in ``team_id``) and emit
    ``assistant_thread_started``. The thread's parent is the app's ``assistant_app_thread``
    message, which Slack does not announce."""
    inst = state.installation(app_id, team_id)
    if inst is None or inst.status != "active":
        raise LookupError(f"{app_id} is not installed in {team_id}")
    channel, _ = open_dm(state, team_id, user_id, inst.bot_user_id)
    app = state.apps[app_id]
    root = Message(
        ts=new_ts(state),
        channel_id=channel.id,
        text="",
        user=inst.bot_user_id,
        bot_id=inst.bot_id,
        app_id=app_id,
        subtype="assistant_app_thread",
        metadata={"event_type": "assistant_app_thread", "event_payload": {"title": app.name}},
    )
    channel.messages.append(root)
    channel.by_ts[root.ts] = root
    thread = AssistantThread(
        team_id=team_id,
        app_id=app_id,
        user_id=user_id,
        channel_id=channel.id,
        thread_ts=root.ts,
        context={"channel_id": context_channel_id, "team_id": team_id, "enterprise_id": None},
    )
    state.assistant_threads[(channel.id, root.ts)] = thread
    _announce(state, "assistant_thread_started", channel, thread)
    return thread


def current_status(state: EmulatorState, thread: AssistantThread) -> str:
    """The status the person sees now: cleared by the app's reply or by time."""
    if not thread.status:
        return ""
    if state.now() - thread.status_set_at > state.scaled(STATUS_LIFETIME):
        return ""
    channel = state.channel(thread.team_id, thread.channel_id)
    root = channel.by_ts.get(thread.thread_ts) if channel else None
    inst = state.installation(thread.app_id, thread.team_id)
    if root is not None and channel is not None and inst is not None:
        for ts in root.replies[thread.status_replies :]:
            reply = channel.by_ts.get(ts)
            if reply is not None and reply.user == inst.bot_user_id:
                return ""
    return thread.status


def render_thread(state: EmulatorState, thread: AssistantThread) -> dict[str, Any]:
    return {
        "team_id": thread.team_id,
        "app_id": thread.app_id,
        "user_id": thread.user_id,
        "channel_id": thread.channel_id,
        "thread_ts": thread.thread_ts,
        "context": _context(thread),
        "status": current_status(state, thread),
        "loading_messages": list(thread.loading_messages),
        "title": thread.title,
        "suggested_prompts": list(thread.suggested_prompts),
        "suggested_prompts_title": thread.prompts_title,
    }


async def _start(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    team_id = required_field(body, "team_id")
    if team_id not in state.workspaces:
        raise ControlError("team_not_found", f"team_id: no workspace {team_id}", 404)
    user = user_field(state, team_id, required_field(body, "user_id"))
    if user.is_bot:
        raise ControlError("invalid_arguments", "user_id: a person, not a bot")
    app_id = required_field(body, "app_id")
    context = str_field(body, "context_channel_id", required=False)
    if context is not None and state.channel(team_id, context) is None:
        raise ControlError("channel_not_found", f"context_channel_id: no conversation {context}")
    try:
        thread = start_thread(state, team_id, user.id, app_id, context)
    except LookupError as exc:
        raise ControlError("not_installed", str(exc), 404) from None
    return {"thread": render_thread(state, thread)}


async def _change_context(request: Request) -> dict[str, Any]:
    state = state_of(request)
    body = await read_body(request)
    key = (required_field(body, "channel_id"), required_field(body, "thread_ts"))
    thread = state.assistant_threads.get(key)
    if thread is None:
        raise ControlError("thread_not_found", "no assistant thread there", 404)
    context = required_field(body, "context_channel_id")
    if state.channel(thread.team_id, context) is None:
        raise ControlError("channel_not_found", f"context_channel_id: no conversation {context}")
    thread.context = {"channel_id": context, "team_id": thread.team_id, "enterprise_id": None}
    channel = state.channel(thread.team_id, thread.channel_id)
    if channel is not None:
        _announce(state, "assistant_thread_context_changed", channel, thread)
    return {"thread": render_thread(state, thread)}


async def _list(request: Request) -> dict[str, Any]:
    state = state_of(request)
    return {"threads": [render_thread(state, t) for t in state.assistant_threads.values()]}


def routes() -> list[BaseRoute]:
    p = "/_emulator/assistant"
    return [
        Route(f"{p}/threads", endpoint(_start), methods=["POST"]),
        Route(f"{p}/threads", endpoint(_list), methods=["GET"]),
        Route(f"{p}/context", endpoint(_change_context), methods=["POST"]),
    ]
