"""The Events API: turning world changes (state signals) into ``event_callback`` envelopes.

An app gets an event when it is installed in the workspace (status active), subscribes to the
matching bot event, and its bot user can see the conversation (is a member). ``app_uninstalled``
and ``tokens_revoked`` go to the app concerned whatever its status, when it subscribes to them.
Message events follow Slack's subscriptions: ``message.channels`` (public), ``message.groups``
(private), ``message.im`` and ``message.mpim``; ``app_mention`` goes to apps whose bot user is
mentioned (outside DMs, as on Slack).
An app whose bot does not subscribe (or cannot see the channel) still hears an event it lists
among its user events when an installing person with a user token is in the conversation; the
envelope's ``authorizations`` then names that person (``is_bot`` false).

:func:`build_envelopes` is the pure-ish core (it draws event ids from the state);
:class:`EventRouter` listens on the state's bus and hands envelopes to the deliverer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slackbridge.emulator.event_envelope import Routed, Target, envelope, subscribers
from slackbridge.emulator.events_more import metadata_events, user_change
from slackbridge.emulator.metadata import for_app
from slackbridge.emulator.render import channel_letter, channel_type
from slackbridge.emulator.state import App, Channel, EmulatorState, Signal

__all__ = ["MESSAGE_SUBSCRIPTIONS", "EventRouter", "Routed", "build_envelopes", "envelope"]

MESSAGE_SUBSCRIPTIONS = {
    "public": "message.channels",
    "private": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}
# Event types delivered as they are named (subscription name == event type), needing membership.
_CHANNEL_EVENTS = {
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "member_left_channel",
    "channel_archive",
    "channel_unarchive",
}


# Events whose signal carries the finished event as ``data["event"]``: they go to the apps
# subscribed to them, only those whose bot is in the channel when ``data["members_only"]``, and
# only the app ``data["app_id"]`` when given.
_PREBUILT = {
    "pin_added",
    "pin_removed",
    "channel_rename",
    "group_rename",
    "assistant_thread_started",
    "assistant_thread_context_changed",
}


def _message_events(
    state: EmulatorState, signal: Signal, channel: Channel
) -> list[tuple[str, dict[str, Any], list[Target]]]:
    data = signal.data
    message: dict[str, Any] = dict(data.get("message") or {})
    ts = str(message.get("ts", ""))
    event = {**message, "channel": channel.id, "event_ts": ts}
    event["channel_type"] = data.get("channel_type") or channel_type(channel)
    subscription = MESSAGE_SUBSCRIPTIONS[channel.kind]
    out = [(subscription, event, subscribers(state, signal.team_id, subscription, channel))]
    mentioned = set(data.get("mentions") or [])
    # Slack never sends app_mention for a DM: the app hears those through message.im.
    if mentioned and channel.kind != "im":
        mention = {k: v for k, v in message.items() if k not in ("subtype",)}
        mention.update(type="app_mention", channel=channel.id, event_ts=ts)
        targets = [
            (app, inst, who)
            for app, inst, who in subscribers(state, signal.team_id, "app_mention", channel)
            if inst.bot_user_id in mentioned and message.get("user") != inst.bot_user_id
        ]
        out.append(("app_mention", mention, targets))
    return out


def _edit_event(signal: Signal, channel: Channel) -> dict[str, Any]:
    data = signal.data
    event_ts = str(data.get("event_ts") or "")
    event: dict[str, Any] = {"type": "message", "subtype": signal.kind}
    if signal.kind == "message_changed":
        event["message"] = data.get("message")
    else:
        event["deleted_ts"] = data.get("deleted_ts")
    event.update(
        previous_message=data.get("previous_message"),
        channel=channel.id,
        hidden=True,
        ts=event_ts,
        event_ts=event_ts,
        channel_type=data.get("channel_type") or channel_type(channel),
    )
    return event


def _channel_event(signal: Signal, channel: Channel) -> dict[str, Any]:
    data = signal.data
    event: dict[str, Any] = {"type": signal.kind}
    if signal.kind.startswith("reaction_"):
        event.update(
            user=data.get("user"),
            item=data.get("item"),
            reaction=data.get("reaction"),
            item_user=data.get("item_user"),
        )
    elif signal.kind in ("member_joined_channel", "member_left_channel"):
        event.update(
            user=data.get("user"),
            channel=channel.id,
            # These two events name the channel type by id prefix letter, not by word.
            channel_type=channel_letter(channel),
            team=signal.team_id,
        )
        if signal.kind == "member_joined_channel" and data.get("inviter"):
            event["inviter"] = data["inviter"]
    else:
        event.update(channel=channel.id, user=data.get("user"))
    event["event_ts"] = data.get("event_ts") or ""
    return event


def build_envelopes(state: EmulatorState, signal: Signal) -> list[Routed]:
    """Every envelope that ``signal`` causes, one per receiving app installation."""
    plans: list[tuple[str, dict[str, Any], list[Target]]] = []
    channel = state.channel(signal.team_id, signal.channel_id) if signal.channel_id else None
    kind = signal.kind
    if kind in ("app_uninstalled", "tokens_revoked"):
        app_id = signal.data.get("app_id")
        inst = state.installation(str(app_id), signal.team_id)
        app = state.apps.get(str(app_id))
        if inst is None or app is None:
            return []
        if kind not in app.bot_events and kind not in app.user_events:
            return []  # like every event, these reach only apps subscribed to them
        event: dict[str, Any] = {"type": kind}
        if kind == "tokens_revoked":
            event["tokens"] = signal.data.get("tokens") or {"oauth": [], "bot": []}
        event["event_ts"] = f"{state.now():.6f}"
        return [Routed(app, inst, envelope(state, app, inst, event))]
    if kind == "user_change":
        return user_change(state, signal)
    if channel is None:
        return []
    if kind == "message":
        plans = _message_events(state, signal, channel)
    elif kind in ("message_changed", "message_deleted"):
        name = MESSAGE_SUBSCRIPTIONS[channel.kind]
        plans = [
            (name, _edit_event(signal, channel), subscribers(state, signal.team_id, name, channel))
        ]
    elif kind in _CHANNEL_EVENTS:
        targets = subscribers(state, signal.team_id, kind, channel)
        if kind == "member_left_channel":
            # A bot removed from a channel still hears about its own departure.
            targets += [
                (app, inst, who)
                for app, inst, who in subscribers(state, signal.team_id, kind, None)
                if inst.bot_user_id == signal.data.get("user")
                and who is None
                and all(t[1] is not inst for t in targets)
            ]
        plans = [(kind, _channel_event(signal, channel), targets)]
    elif kind == "file_shared":
        data = signal.data
        event = {
            "type": "file_shared",
            "channel_id": channel.id,
            "file_id": data.get("file_id"),
            "user_id": data.get("user_id"),
            "file": {"id": data.get("file_id")},
            "event_ts": data.get("event_ts") or "",
        }
        plans = [(kind, event, subscribers(state, signal.team_id, kind, channel))]
    elif kind == "channel_created" and channel.kind == "public":
        event = {
            "type": "channel_created",
            "channel": signal.data.get("channel")
            or {
                "id": channel.id,
                "name": channel.name,
                "created": channel.created,
                "creator": channel.creator,
                "is_channel": True,
            },
            "event_ts": signal.data.get("event_ts") or f"{state.now():.6f}",
        }
        plans = [(kind, event, subscribers(state, signal.team_id, kind, None))]
    elif kind in _PREBUILT and isinstance(signal.data.get("event"), dict):
        members_only = bool(signal.data.get("members_only", True))
        only_app = signal.data.get("app_id")
        targets = [
            (app, inst, who)
            for app, inst, who in subscribers(
                state, signal.team_id, kind, channel if members_only else None
            )
            if only_app is None or app.id == only_app
        ]
        plans = [(kind, dict(signal.data["event"]), targets)]
    elif kind == "app_home_opened":
        app_id = signal.data.get("app_id")
        event = {
            "type": "app_home_opened",
            "user": signal.data.get("user"),
            "channel": channel.id,
            "tab": signal.data.get("tab", "home"),
            "event_ts": signal.data.get("event_ts") or f"{state.now():.6f}",
        }
        if signal.data.get("view") is not None:
            event["view"] = signal.data["view"]
        targets = [
            (app, inst, who)
            for app, inst, who in subscribers(state, signal.team_id, kind, None)
            if app.id == app_id
        ]
        plans = [(kind, event, targets)]
    if kind in ("message", "message_changed", "message_deleted"):
        plans += metadata_events(state, signal, channel)
    routed = []
    for _name, event, targets in plans:
        for app, inst, who in targets:
            # Message metadata reaches the app that posted it and apps subscribed to its type.
            shown = for_app(event, app.id, app.metadata_subscriptions)
            routed.append(Routed(app, inst, envelope(state, app, inst, shown, channel.id, who)))
    return routed


class EventRouter:
    """Listens on the state's signal bus and hands each envelope to ``deliver``.

    ``deliver(app, team_id, envelope)`` must not block (the deliverer queues and retries);
    ``on_reset`` runs when the world is reset to the seed."""

    def __init__(
        self,
        state: EmulatorState,
        deliver: Callable[[App, str, dict[str, Any]], object],
        on_reset: Callable[[], None],
    ) -> None:
        self._state = state
        self._deliver = deliver
        self._on_reset = on_reset

    def attach(self) -> None:
        if self not in self._state.listeners:
            self._state.listeners.append(self)

    def detach(self) -> None:
        if self in self._state.listeners:
            self._state.listeners.remove(self)

    def __call__(self, signal: Signal) -> None:
        if signal.kind == "reset":
            self._on_reset()
            return
        for routed in build_envelopes(self._state, signal):
            self._deliver(routed.app, routed.installation.team_id, routed.envelope)
