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

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from slackbridge.emulator.metadata import for_app, subscribes
from slackbridge.emulator.render import channel_letter, channel_type, render_user
from slackbridge.emulator.state import App, Channel, EmulatorState, Installation, Signal

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


@dataclass
class Routed:
    """One envelope for one app installation."""

    app: App
    installation: Installation
    envelope: dict[str, Any]


def _event_context(team_id: str, app_id: str, event_type: str, channel_id: str | None) -> str:
    # Slack's event_context is an opaque token; this one encodes the same facts it carries.
    raw = {"et": event_type, "tid": team_id, "aid": app_id, "cid": channel_id}
    encoded = base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")
    return f"4-{encoded}"


def envelope(
    state: EmulatorState,
    app: App,
    inst: Installation,
    event: dict[str, Any],
    channel_id: str | None = None,
    authorizer: str | None = None,
) -> dict[str, Any]:
    """Wrap ``event`` in the ``event_callback`` envelope Slack sends to ``app``.

    ``authorizations`` names the app's bot user, or ``authorizer`` (a person whose user token
    subscribed to the event) when given."""
    team_id = inst.team_id
    ws = state.workspace(team_id)
    enterprise_id = ws.enterprise_id if ws else None
    return {
        "token": app.verification_token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": app.id,
        "event": event,
        "type": "event_callback",
        "event_id": state.ids.event_id(),
        "event_time": int(state.now()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": authorizer or inst.bot_user_id,
                "is_bot": authorizer is None,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": _event_context(team_id, app.id, event.get("type", ""), channel_id),
    }


# One receiver: the app, its installation, and the person authorizing (None: the bot).
_Target = tuple[App, Installation, str | None]


def _subscribers(
    state: EmulatorState, team_id: str, event_name: str, channel: Channel | None
) -> list[_Target]:
    """Apps to tell about ``event_name``: through their bot user when it subscribes (and sees the
    channel), else through an installing person's user token subscribed to it as a user event."""
    out: list[_Target] = []
    for inst in state.active_installations(team_id):
        app = state.apps.get(inst.app_id)
        if app is None:
            continue
        if event_name in app.bot_events and (
            channel is None or inst.bot_user_id in channel.members
        ):
            out.append((app, inst, None))
            continue
        if event_name in app.user_events and event_name != "app_mention":
            person = next(
                (u for u in inst.user_tokens if channel is None or u in channel.members), None
            )
            if person is not None:
                out.append((app, inst, person))
    return out


def _message_events(
    state: EmulatorState, signal: Signal, channel: Channel
) -> list[tuple[str, dict[str, Any], list[_Target]]]:
    data = signal.data
    message: dict[str, Any] = dict(data.get("message") or {})
    ts = str(message.get("ts", ""))
    event = {**message, "channel": channel.id, "event_ts": ts}
    event["channel_type"] = data.get("channel_type") or channel_type(channel)
    subscription = MESSAGE_SUBSCRIPTIONS[channel.kind]
    out = [(subscription, event, _subscribers(state, signal.team_id, subscription, channel))]
    mentioned = set(data.get("mentions") or [])
    # Slack never sends app_mention for a DM: the app hears those through message.im.
    if mentioned and channel.kind != "im":
        mention = {k: v for k, v in message.items() if k not in ("subtype",)}
        mention.update(type="app_mention", channel=channel.id, event_ts=ts)
        targets = [
            (app, inst, who)
            for app, inst, who in _subscribers(state, signal.team_id, "app_mention", channel)
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
    plans: list[tuple[str, dict[str, Any], list[_Target]]] = []
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
        return _user_change(state, signal)
    if channel is None:
        return []
    if kind == "message":
        plans = _message_events(state, signal, channel)
    elif kind in ("message_changed", "message_deleted"):
        name = MESSAGE_SUBSCRIPTIONS[channel.kind]
        plans = [
            (name, _edit_event(signal, channel), _subscribers(state, signal.team_id, name, channel))
        ]
    elif kind in _CHANNEL_EVENTS:
        targets = _subscribers(state, signal.team_id, kind, channel)
        if kind == "member_left_channel":
            # A bot removed from a channel still hears about its own departure.
            targets += [
                (app, inst, who)
                for app, inst, who in _subscribers(state, signal.team_id, kind, None)
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
        plans = [(kind, event, _subscribers(state, signal.team_id, kind, channel))]
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
        plans = [(kind, event, _subscribers(state, signal.team_id, kind, None))]
    elif kind in _PREBUILT and isinstance(signal.data.get("event"), dict):
        members_only = bool(signal.data.get("members_only", True))
        only_app = signal.data.get("app_id")
        targets = [
            (app, inst, who)
            for app, inst, who in _subscribers(
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
            for app, inst, who in _subscribers(state, signal.team_id, kind, None)
            if app.id == app_id
        ]
        plans = [(kind, event, targets)]
    if kind in ("message", "message_changed", "message_deleted"):
        plans += _metadata_events(state, signal, channel)
    routed = []
    for _name, event, targets in plans:
        for app, inst, who in targets:
            # Message metadata reaches the app that posted it and apps subscribed to its type.
            shown = for_app(event, app.id, app.metadata_subscriptions)
            routed.append(Routed(app, inst, envelope(state, app, inst, shown, channel.id, who)))
    return routed


def _user_change(state: EmulatorState, signal: Signal) -> list[Routed]:
    """``user_change`` to every subscribed app of the workspace, the user rendered as
    ``users.info`` shows it to that app (``profile.email`` only with ``users:read.email``)."""
    ws = state.workspace(signal.team_id)
    user = ws.users.get(str(signal.data.get("user_id"))) if ws is not None else None
    if user is None:
        return []
    now = state.now()
    routed = []
    for app, inst, who in _subscribers(state, signal.team_id, "user_change", None):
        scopes = inst.bot_scopes if who is None else app.user_scopes
        event = {
            "type": "user_change",
            "user": render_user(user, include_email="users:read.email" in scopes, updated=int(now)),
            "cache_ts": int(now),
            "event_ts": f"{now:.6f}",
        }
        routed.append(Routed(app, inst, envelope(state, app, inst, event, None, who)))
    return routed


def _metadata_events(
    state: EmulatorState, signal: Signal, channel: Channel
) -> list[tuple[str, dict[str, Any], list[_Target]]]:
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
        for app, inst, who in _subscribers(state, signal.team_id, name, channel)
        if subscribes(app.metadata_subscriptions, poster, event_type)
    ]
    return [(name, event, targets)]


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
