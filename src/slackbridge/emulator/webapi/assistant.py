"""``assistant.threads.setStatus``, ``setSuggestedPrompts``, ``setTitle``: what an AI app shows
in a person's assistant thread (see ``assistant.py`` for the threads themselves).

The status (with up to 10 ``loading_messages``) clears when the app replies in the thread or
after about 2 minutes; an empty status clears it at once. Suggested prompts are at most 4, each
``{"title", "message"}``.
"""

from __future__ import annotations

from typing import Any

from slackbridge.emulator import ops
from slackbridge.emulator.state import AssistantThread
from slackbridge.emulator.webapi.args import as_json, as_list, invalid_args
from slackbridge.emulator.webapi.common import caller, resolve_channel
from slackbridge.emulator.webapi.registry import CallContext, SlackError, method

__all__: list[str] = []

_MAX_LOADING = 10
_MAX_PROMPTS = 4


def _thread(ctx: CallContext) -> tuple[AssistantThread, int]:
    """The assistant thread ``channel_id``/``thread_ts`` names, kept by ``(channel, ts)``; a
    thread in a channel (not an assistant DM) gets its record on first use."""
    me = caller(ctx)
    channel = resolve_channel(ctx, ctx.require("channel_id"))
    thread_ts = str(ctx.require("thread_ts"))
    root = ops.thread_root(channel, thread_ts)
    if me.id not in channel.members:
        raise SlackError("channel_not_found")
    key = (channel.id, root.ts)
    thread = ctx.state.assistant_threads.get(key)
    if thread is None:
        thread = AssistantThread(
            team_id=channel.team_id,
            app_id=me.app_id or "",
            user_id=root.user or "",
            channel_id=channel.id,
            thread_ts=root.ts,
        )
        ctx.state.assistant_threads[key] = thread
    return thread, len(root.replies)


@method("assistant.threads.setStatus", tier=3, scopes=("assistant:write", "chat:write"))
async def assistant_set_status(ctx: CallContext) -> dict[str, Any]:
    if ctx.args.get("status") is None:
        raise invalid_args("missing required field: status")
    thread, replies = _thread(ctx)
    loading = as_list(ctx.arg("loading_messages"))
    if len(loading) > _MAX_LOADING:
        raise invalid_args("loading_messages: at most 10 messages")
    thread.status = str(ctx.args["status"])
    thread.loading_messages = loading if thread.status else []
    thread.status_set_at = ctx.state.now()
    thread.status_replies = replies
    return {}


@method("assistant.threads.setSuggestedPrompts", tier=3, scopes=("assistant:write",))
async def assistant_set_suggested_prompts(ctx: CallContext) -> dict[str, Any]:
    prompts = as_json(ctx.require("prompts"))
    if not isinstance(prompts, list) or not all(
        isinstance(p, dict)
        and isinstance(p.get("title"), str)
        and isinstance(p.get("message"), str)
        for p in prompts
    ):
        raise invalid_args("prompts: a list of {title, message} objects")
    if not prompts or len(prompts) > _MAX_PROMPTS:
        raise invalid_args("prompts: 1 to 4 prompts")
    thread, _ = _thread(ctx)
    thread.suggested_prompts = [{"title": p["title"], "message": p["message"]} for p in prompts]
    thread.prompts_title = str(ctx.arg("title") or "")
    return {}


@method("assistant.threads.setTitle", tier=3, scopes=("assistant:write",))
async def assistant_set_title(ctx: CallContext) -> dict[str, Any]:
    title = str(ctx.require("title"))
    thread, _ = _thread(ctx)
    thread.title = title
    return {}
