"""Events beyond a channel's messages and members: ``user_change`` (workspace-wide) and the
``message_metadata_posted`` / ``_updated`` / ``_deleted`` events for messages with metadata
(see ``metadata.py`` for who may see metadata)."""

from __future__ import annotations

from typing import Any

from slackbridge.emulator.event_envelope import Routed, Target, envelope, subscribers
from slackbridge.emulator.metadata import subscribes
from slackbridge.emulator.render import render_user
from slackbridge.emulator.state import Channel, EmulatorState, Signal

__all__ = ["metadata_events", "user_change"]


def user_change(state: EmulatorState, signal: Signal) -> list[Routed]:
    """``user_change`` to every subscribed app of the workspace, the user rendered as
    ``users.info`` shows it to that app (``profile.email`` only with ``users:read.email``)."""
    ws = state.workspace(signal.team_id)
    user = ws.users.get(str(signal.data.get("user_id"))) if ws is not None else None
    if user is None:
        return []
    now = state.now()
    routed = []
    for app, inst, who in subscribers(state, signal.team_id, "user_change", None):
        scopes = inst.bot_scopes if who is None else app.user_scopes
        event = {
            "type": "user_change",
            "user": render_user(user, include_email="users:read.email" in scopes, updated=int(now)),
            "cache_ts": int(now),
            "event_ts": f"{now:.6f}",
        }
        routed.append(Routed(app, inst, envelope(state, app, inst, event, None, who)))
    return routed


def metadata_events(
    state: EmulatorState, signal: Signal, channel: Channel
) -> list[tuple[str, dict[str, Any], list[Target]]]:
    """``message_metadata_posted``/``_updated``/``_deleted`` for a message with metadata, to
    apps subscribed to the event and (in their manifest's ``metadata_subscriptions``) to the
    metadata's event type from the posting app."""
    data = signal.data
    message = data.get("message") if signal.kind != "message_deleted" else None
    previous = data.get("previous_message") if signal.kind != "message" else None
    current_meta = (message or {}).get("metadata")
    previous_meta = (previous or {}).get("metadata")
    source = message or previous or {}
    if signal.kind == "message" and current_meta:
        name = "message_metadata_posted"
    elif signal.kind == "message_changed" and current_meta and current_meta != previous_meta:
        name = "message_metadata_updated"
    elif signal.kind == "message_deleted" and previous_meta:
        name = "message_metadata_deleted"
    else:
        return []
    meta = current_meta or previous_meta
    poster = source.get("app_id")
    event: dict[str, Any] = {
        "type": name,
        "app_id": poster,
        "bot_id": source.get("bot_id"),
        "user_id": source.get("user"),
        "team_id": signal.team_id,
        "channel_id": channel.id,
        "message_ts": source.get("ts")
        if name != "message_metadata_deleted"
        else data.get("deleted_ts"),
    }
    event_ts = str(data.get("event_ts") or source.get("ts") or "")
    if name == "message_metadata_posted":
        event["metadata"] = current_meta
    elif name == "message_metadata_updated":
        event["previous_metadata"] = previous_meta
        event["metadata"] = current_meta
    else:
        event["previous_metadata"] = previous_meta
        event["deleted_ts"] = event_ts
    event["event_ts"] = event_ts
    event_type = str((meta or {}).get("event_type"))
    targets = [
        (app, inst, who)
        for app, inst, who in subscribers(state, signal.team_id, name, channel)
        if subscribes(app.metadata_subscriptions, poster, event_type)
    ]
    return [(name, event, targets)]
