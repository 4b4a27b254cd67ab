"""Helpers shared by the world operations: rendering with the state's context, ts, mentions."""

from __future__ import annotations

import re
from typing import Any

from slackbridge.emulator.render import (
    render_bot_profile,
    render_file,
    render_message,
)
from slackbridge.emulator.state import Channel, EmulatorState, File, Message, Signal

__all__ = [
    "DEFAULT_BASE_URL",
    "announce",
    "base_url",
    "file_json",
    "mentions",
    "message_json",
    "new_ts",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8001"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def base_url(state: EmulatorState) -> str:
    """The emulator's base URL without a trailing slash."""
    return (state.base_url or DEFAULT_BASE_URL).rstrip("/")


def announce(state: EmulatorState, kind: str, channel: Channel, data: dict[str, Any]) -> None:
    """Tell the state's listeners that ``kind`` happened in ``channel`` (see ``ops.py`` for
    each kind's ``data``)."""
    state.emit(Signal(kind=kind, team_id=channel.team_id, channel_id=channel.id, data=data))


def new_ts(state: EmulatorState) -> str:
    return state.ts_clock.next(state.now())


def mentions(text: str) -> list[str]:
    """User ids mentioned as ``<@U…>`` in ``text``, in order, without repeats."""
    return list(dict.fromkeys(_MENTION.findall(text or "")))


def file_json(state: EmulatorState, file: File) -> dict[str, Any]:
    kinds: dict[str, str] = {}
    names: dict[str, str] = {}
    ws = state.workspaces.get(file.team_id)
    if ws is not None:
        for channel_id in file.shares:
            ch = ws.channels.get(channel_id)
            if ch is not None:
                kinds[channel_id] = ch.kind
                names[channel_id] = ch.name
    return render_file(file, base_url=base_url(state), channel_kinds=kinds, channel_names=names)


def _bot_profile(state: EmulatorState, msg: Message, team_id: str) -> dict[str, Any] | None:
    if not msg.bot_id:
        return None
    app = state.apps.get(msg.app_id) if msg.app_id else None
    inst = state.installations.get((app.id, team_id)) if app else None
    return render_bot_profile(
        bot_id=msg.bot_id,
        app_id=msg.app_id,
        name=app.name if app else (msg.username or "bot"),
        team_id=team_id,
        updated=int(inst.installed_at) if inst else 0,
    )


def message_json(state: EmulatorState, channel: Channel, msg: Message) -> dict[str, Any]:
    """``msg`` rendered as Slack shows it, with its files, bot profile and thread context."""
    files = [file_json(state, state.files[f]) for f in msg.files if f in state.files]
    parent_user = None
    root_json = None
    if msg.thread_ts and msg.thread_ts != msg.ts:
        root = channel.by_ts.get(msg.thread_ts)
        if root is not None:
            parent_user = root.user
            if msg.subtype == "thread_broadcast":
                root_json = message_json(state, channel, root)
    rendered = render_message(
        msg,
        team_id=channel.team_id,
        files=files,
        bot_profile=_bot_profile(state, msg, channel.team_id),
        parent_user_id=parent_user,
        root=root_json,
    )
    if msg.ts in channel.pins:
        rendered["pinned_to"] = [channel.id]
    return rendered
