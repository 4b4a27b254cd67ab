"""Slack payloads → domain events. Pure functions: no I/O, no clock, no database.

Inputs are already-parsed payloads of one of four kinds: ``events`` (an Events API envelope),
``commands`` (a slash command's form fields), ``interactivity`` (the JSON inside ``payload=``) and
``outgoing`` (a legacy outgoing webhook's form fields). Socket Mode envelopes carry the same
payloads and map onto the same kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slackbridge.domain.events import (
    ControlAction,
    DomainEvent,
    Normalized,
    channel_kind,
)
from slackbridge.domain.payloads import PayloadKind

__all__ = ["OwnIdentity", "normalize"]


_MESSAGE_POSTED_SUBTYPES = {None, "", "bot_message", "thread_broadcast", "file_share", "me_message"}
_INTERACTION_TYPES = {
    "block_actions": "interaction.block_action",
    "view_submission": "interaction.view_submission",
    "view_closed": "interaction.view_closed",
    "shortcut": "interaction.shortcut",
    "message_action": "interaction.shortcut",
    "block_suggestion": "interaction.block_suggestion",
}


@dataclass(frozen=True)
class OwnIdentity:
    """Who "we" are in a workspace, for the loop guard: slackbridge's bots and apps."""

    bot_ids: frozenset[str] = frozenset()
    app_ids: frozenset[str] = frozenset()
    bot_user_ids: frozenset[str] = frozenset()

    def authored(self, message: Mapping[str, Any]) -> bool:
        """True when ``message`` was posted by one of slackbridge's own bots."""
        if message.get("bot_id") and message["bot_id"] in self.bot_ids:
            return True
        if message.get("app_id") and message["app_id"] in self.app_ids:
            return True
        profile = message.get("bot_profile")
        if isinstance(profile, dict) and profile.get("app_id") in self.app_ids:
            return True
        return bool(message.get("user") and message["user"] in self.bot_user_ids)


def normalize(
    kind: PayloadKind,
    payload: Mapping[str, Any],
    *,
    dedupe_key: str,
    received_at: float,
    own: OwnIdentity = OwnIdentity(),
) -> Normalized:
    """Turn one Slack payload into domain events and control actions."""
    if kind == "events":
        return _from_event_callback(payload, dedupe_key, received_at, own)
    if kind == "commands":
        return Normalized([_from_command(payload, dedupe_key, received_at)])
    if kind == "interactivity":
        return Normalized([_from_interaction(payload, dedupe_key, received_at)])
    return _from_outgoing(payload, dedupe_key, received_at, own)


# --- shared pieces -----------------------------------------------------------------------------


def _workspace(
    team_id: str | None, enterprise_id: str | None, app_id: str | None
) -> dict[str, Any]:
    return {"team_id": team_id, "enterprise_id": enterprise_id or None, "app_id": app_id}


def _channel(
    channel_id: str | None, channel_type: str | None = None, name: str | None = None
) -> dict[str, Any] | None:
    if not channel_id:
        return None
    channel: dict[str, Any] = {"id": channel_id, "kind": channel_kind(channel_id, channel_type)}
    if name:
        channel["name"] = name
    return channel


def _user(user_id: str | None, name: str | None = None) -> dict[str, Any] | None:
    if not user_id:
        return None
    user: dict[str, Any] = {"id": user_id}
    if name:
        user["name"] = name
    return user


def _ordering_key(team_id: str | None, channel_id: str | None) -> str:
    return f"{team_id or '-'}:{channel_id or '-'}"


@dataclass(slots=True)
class _Source:
    """Where a payload came from: the fields every domain event of it shares (a value; not
    frozen for the same reason as :class:`~slackbridge.domain.events.DomainEvent`)."""

    team_id: str | None
    enterprise_id: str | None
    app_id: str | None
    raw: Mapping[str, Any]
    dedupe_key: str
    occurred_at: float


def _make(
    type_: str, src: _Source, channel: dict[str, Any] | None, data: dict[str, Any]
) -> DomainEvent:
    body = {"workspace": _workspace(src.team_id, src.enterprise_id, src.app_id), "channel": channel}
    body.update(data)
    body["raw"] = dict(src.raw)
    return DomainEvent(
        type=type_,
        team_id=src.team_id,
        app_id=src.app_id,
        data=body,
        ordering_key=_ordering_key(src.team_id, channel["id"] if channel else None),
        dedupe_key=src.dedupe_key,
        occurred_at=src.occurred_at,
    )


def _files(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    keep = (
        "id",
        "name",
        "title",
        "mimetype",
        "filetype",
        "size",
        "url_private",
        "url_private_download",
        "permalink",
    )
    return [{k: f.get(k) for k in keep if k in f} for f in message.get("files") or []]


# --- Events API --------------------------------------------------------------------------------


def _from_event_callback(
    envelope: Mapping[str, Any], dedupe_key: str, received_at: float, own: OwnIdentity
) -> Normalized:
    event = envelope.get("event")
    if envelope.get("type") != "event_callback" or not isinstance(event, dict):
        return Normalized(ignored_reason=f"not an event callback: {envelope.get('type')!r}")
    team_id = envelope.get("team_id") or event.get("team")
    enterprise_id = envelope.get("enterprise_id")
    app_id = envelope.get("api_app_id")
    occurred = float(envelope.get("event_time") or received_at)
    common = _Source(team_id, enterprise_id, app_id, envelope, dedupe_key, occurred)
    etype = event.get("type")

    if etype == "app_uninstalled":
        action = ControlAction("uninstall", team_id or "", app_id, enterprise_id)
        return Normalized(actions=[action])
    if etype == "tokens_revoked":
        return Normalized(actions=_revocations(event, team_id or "", app_id, enterprise_id, own))
    if etype == "message":
        return _from_message(event, common, own)
    if etype == "app_mention":
        if own.authored(event):
            return Normalized(ignored_reason="mention posted by our own bot")
        channel = _channel(event.get("channel"), event.get("channel_type"))
        data = {
            "user": _user(event.get("user")),
            "text": event.get("text", ""),
            "ts": event.get("ts"),
            "thread_ts": event.get("thread_ts"),
            "files": _files(event),
        }
        return Normalized([_make("app.mentioned", common, channel, data)])
    if etype in ("reaction_added", "reaction_removed"):
        item = event.get("item") or {}
        channel = _channel(item.get("channel"))
        data = {
            "user": _user(event.get("user")),
            "reaction": event.get("reaction"),
            "ts": item.get("ts"),
            "item_user": event.get("item_user"),
        }
        type_ = "reaction.added" if etype == "reaction_added" else "reaction.removed"
        return Normalized([_make(type_, common, channel, data)])
    return Normalized([_raw_event(event, common)])


def _raw_event(event: Mapping[str, Any], common: _Source) -> DomainEvent:
    channel_id = event.get("channel") if isinstance(event.get("channel"), str) else None
    data = {
        "event_type": event.get("type"),
        "subtype": event.get("subtype"),
        "user": _user(event.get("user") if isinstance(event.get("user"), str) else None),
    }
    return _make("slack.event", common, _channel(channel_id, event.get("channel_type")), data)


def _from_message(event: Mapping[str, Any], common: _Source, own: OwnIdentity) -> Normalized:
    subtype = event.get("subtype")
    channel = _channel(event.get("channel"), event.get("channel_type"))
    if subtype == "message_changed":
        message = event.get("message") or {}
        previous = event.get("previous_message") or {}
        if own.authored(message):
            return Normalized(ignored_reason="edit of our own bot's message")
        if not message.get("edited"):
            return Normalized(ignored_reason="message_changed without edited: a link unfurl")
        data = {
            "user": _user(message.get("user")),
            "text": message.get("text", ""),
            "previous_text": previous.get("text"),
            "ts": message.get("ts"),
            "thread_ts": message.get("thread_ts"),
            "edited_at": message["edited"].get("ts"),
            "files": _files(message),
        }
        return Normalized([_make("message.edited", common, channel, data)])
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        if own.authored(previous):
            return Normalized(ignored_reason="deletion of our own bot's message")
        data = {
            "user": _user(previous.get("user")),
            "ts": event.get("deleted_ts"),
            "thread_ts": previous.get("thread_ts"),
            "previous_text": previous.get("text"),
        }
        return Normalized([_make("message.deleted", common, channel, data)])
    if subtype in _MESSAGE_POSTED_SUBTYPES:
        if own.authored(event):
            return Normalized(ignored_reason="posted by our own bot (loop guard)")
        data = {
            "user": _user(event.get("user")),
            "text": event.get("text", ""),
            "ts": event.get("ts"),
            "thread_ts": event.get("thread_ts"),
            "subtype": subtype or None,
            "bot_id": event.get("bot_id"),
            "files": _files(event),
            "blocks": event.get("blocks"),
        }
        return Normalized([_make("message.posted", common, channel, data)])
    return Normalized([_raw_event(event, common)])


def _revocations(
    event: Mapping[str, Any],
    team_id: str,
    app_id: str | None,
    enterprise_id: str | None,
    own: OwnIdentity,
) -> list[ControlAction]:
    tokens = event.get("tokens") or {}
    actions: list[ControlAction] = []
    bot_users = [u for u in tokens.get("bot") or [] if u]
    if bot_users:
        # Revoking the bot token takes the app out of the workspace just like an uninstall.
        actions.append(ControlAction("uninstall", team_id, app_id, enterprise_id))
    user_ids = tuple(u for u in tokens.get("oauth") or [] if u)
    if user_ids:
        actions.append(
            ControlAction("revoke_user_tokens", team_id, app_id, enterprise_id, user_ids)
        )
    return actions


# --- slash commands, interactivity, outgoing webhooks ------------------------------------------


def _from_command(form: Mapping[str, Any], dedupe_key: str, received_at: float) -> DomainEvent:
    team_id = form.get("team_id")
    data = {
        "user": _user(form.get("user_id"), form.get("user_name")),
        "command": form.get("command"),
        "text": form.get("text", ""),
        "response_url": form.get("response_url"),
        "trigger_id": form.get("trigger_id"),
    }
    src = _Source(
        team_id, form.get("enterprise_id"), form.get("api_app_id"), form, dedupe_key, received_at
    )
    channel = _channel(form.get("channel_id"), None, form.get("channel_name"))
    return _make("command.invoked", src, channel, data)


def _from_interaction(
    payload: Mapping[str, Any], dedupe_key: str, received_at: float
) -> DomainEvent:
    ptype = str(payload.get("type"))
    team = payload.get("team") or {}
    user = payload.get("user") or {}
    channel_info = payload.get("channel") or {}
    container = payload.get("container") or {}
    message = payload.get("message") or {}
    view = payload.get("view") or {}
    team_id = team.get("id") or user.get("team_id") or view.get("team_id")
    enterprise = payload.get("enterprise") or {}
    data: dict[str, Any] = {
        "interaction_type": ptype,
        "user": _user(user.get("id"), user.get("username") or user.get("name")),
        "trigger_id": payload.get("trigger_id"),
        "response_url": payload.get("response_url"),
        "callback_id": payload.get("callback_id") or view.get("callback_id"),
    }
    if ptype == "block_actions":
        data["actions"] = payload.get("actions") or []
        data["message_ts"] = message.get("ts") or container.get("message_ts")
        data["thread_ts"] = message.get("thread_ts")
    elif ptype in ("view_submission", "view_closed"):
        data["view"] = {
            "id": view.get("id"),
            "callback_id": view.get("callback_id"),
            "private_metadata": view.get("private_metadata"),
            "values": (view.get("state") or {}).get("values", {}),
        }
    elif ptype == "message_action":
        data["message_ts"] = message.get("ts")
        data["text"] = message.get("text")
    elif ptype == "block_suggestion":
        data["action_id"] = payload.get("action_id")
        data["block_id"] = payload.get("block_id")
        data["value"] = payload.get("value")
    type_ = _INTERACTION_TYPES.get(ptype, "slack.event")
    src = _Source(
        team_id, enterprise.get("id"), payload.get("api_app_id"), payload, dedupe_key, received_at
    )
    channel = _channel(
        channel_info.get("id") or container.get("channel_id"), None, channel_info.get("name")
    )
    return _make(type_, src, channel, data)


def _from_outgoing(
    form: Mapping[str, Any], dedupe_key: str, received_at: float, own: OwnIdentity
) -> Normalized:
    if form.get("bot_id") and form["bot_id"] in own.bot_ids:
        return Normalized(ignored_reason="posted by our own bot (loop guard)")
    if form.get("user_id") == "USLACKBOT":
        return Normalized(ignored_reason="posted by Slackbot")
    data = {
        "user": _user(form.get("user_id"), form.get("user_name")),
        "text": form.get("text", ""),
        "ts": form.get("timestamp"),
        "thread_ts": form.get("thread_ts") or None,
        "trigger_word": form.get("trigger_word"),
        "subtype": None,
        "source": "outgoing_webhook",
        "files": [],
    }
    src = _Source(form.get("team_id"), None, None, form, dedupe_key, received_at)
    channel = _channel(form.get("channel_id"), None, form.get("channel_name"))
    return Normalized([_make("message.posted", src, channel, data)])
