"""Normalized Slack events → ``command.matched``, or a help answer the gateway gives itself.

Three kinds of event can run a command: ``command.invoked`` (a slash command declared in some
command's ``slash``; its text), ``app.mentioned`` (the text after the bot's mention) and
``message.posted`` in a DM with the bot (the whole text; a leading mention of the bot is
dropped). Never: a message by a bot (slackbridge's own never get this far; other bots' are
passed on as they are), a DM seen only through a person's user token, and an edit, unless
``rerun_on_edit`` (then an edited DM, or an edited message that mentions the bot, is matched
again).

A routed event is *replaced*: by ``command.matched`` when a command fits, or by a
:class:`HelpReply` (nothing for the product) when none does. Events no declared command is
about pass unchanged, so with no commands declared nothing changes. Dates are read in the
person's time zone (``timezones``, when known) on the day the event happened, so the same
message means the same whenever it is processed. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slackbridge.commands.choose import Matched, Unmatched, choose
from slackbridge.commands.command import Command, Source
from slackbridge.commands.dates import local_today, zone
from slackbridge.commands.help import help_text
from slackbridge.domain.events import DomainEvent

__all__ = ["HelpReply", "Routed", "routable", "route"]


@dataclass(frozen=True, slots=True)
class HelpReply:
    """An ephemeral help answer to send: through ``response_url`` for a slash command, else
    chat.postEphemeral to ``user_id`` in ``channel_id`` (in the thread, if any)."""

    team_id: str
    app_id: str | None
    channel_id: str | None
    user_id: str | None
    thread_ts: str | None
    response_url: str | None
    text: str
    key: str  # the source event's dedupe key: one answer per Slack payload, however often seen


@dataclass(slots=True)
class Routed:
    """What the events turned into: the events to deliver, in order, and the help to send."""

    events: list[DomainEvent] = field(default_factory=list)
    replies: list[HelpReply] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Incoming:
    source: Source
    text: str
    bot_user_id: str | None
    slash: str | None = None
    edited: bool = False


def _envelope_bot(raw: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether the app heard the event as its bot (not through a person's user token), and
    the bot's user id when the envelope says."""
    authorizations = raw.get("authorizations")
    if not isinstance(authorizations, list) or not authorizations:
        return True, None
    first = authorizations[0] if isinstance(authorizations[0], dict) else {}
    if first.get("is_bot") is False:
        return False, None
    user_id = first.get("user_id")
    return True, user_id if isinstance(user_id, str) else None


def _by_bot(message: Mapping[str, Any]) -> bool:
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message"


def _mention_of(text: str, bot_user_id: str | None) -> re.Match[str] | None:
    who = re.escape(bot_user_id) if bot_user_id else r"[UW][A-Z0-9]+"
    return re.search(rf"<@{who}(?:\|[^>]*)?>", text)


def _without_mention(text: str, bot_user_id: str | None, *, required: bool) -> str | None:
    """The text after the bot's mention (or before it, when nothing follows it); None when
    ``required`` and the bot isn't mentioned."""
    found = _mention_of(text, bot_user_id)
    if found is None:
        return None if required else text.strip()
    after = text[found.end() :].lstrip(" \t:,").strip()
    return after or text[: found.start()].strip()


def _incoming(event: DomainEvent, rerun_on_edit: bool) -> _Incoming | None:
    data = event.data
    raw = data.get("raw") if isinstance(data.get("raw"), dict) else {}
    assert isinstance(raw, dict)
    text = data.get("text") if isinstance(data.get("text"), str) else ""
    assert isinstance(text, str)
    if event.type == "command.invoked":
        command = data.get("command")
        slash = command.lower() if isinstance(command, str) else None
        return _Incoming("slash", text.strip(), None, slash)
    slack_event = raw.get("event") if isinstance(raw.get("event"), dict) else None
    if slack_event is None:
        return None  # a legacy outgoing webhook: not a conversation with the bot
    as_bot, bot_user_id = _envelope_bot(raw)
    kind = (data.get("channel") or {}).get("kind")
    if event.type == "app.mentioned":
        if _by_bot(slack_event) or not as_bot:
            return None
        plain = _without_mention(text, bot_user_id, required=False)
        return None if plain is None else _Incoming("mention", plain, bot_user_id)
    if event.type == "message.posted":
        if kind != "im" or not as_bot or _by_bot(slack_event) or data.get("subtype"):
            return None
        plain = _without_mention(text, bot_user_id, required=False)
        return None if plain is None else _Incoming("dm", plain, bot_user_id)
    if event.type == "message.edited" and rerun_on_edit and as_bot:
        message = slack_event.get("message") if isinstance(slack_event.get("message"), dict) else {}
        assert isinstance(message, dict)
        if _by_bot(message):
            return None
        plain = _without_mention(text, bot_user_id, required=kind != "im")
        if plain is None:
            return None
        return _Incoming("dm" if kind == "im" else "mention", plain, bot_user_id, edited=True)
    return None


def _matched(event: DomainEvent, incoming: _Incoming, found: Matched) -> DomainEvent:
    data = event.data
    body: dict[str, Any] = {
        "workspace": data.get("workspace"),
        "channel": data.get("channel"),
        "user": data.get("user"),
        "command": found.command.name,
        "arguments": found.arguments,
        "text": incoming.text,
        "source": incoming.source,
        "slash_command": incoming.slash,
        "ts": data.get("ts"),
        "thread_ts": data.get("thread_ts"),
        "response_url": data.get("response_url"),
        "trigger_id": data.get("trigger_id"),
        "edited": incoming.edited,
        "raw": data.get("raw"),
    }
    return DomainEvent(
        type="command.matched",
        team_id=event.team_id,
        app_id=event.app_id,
        data=body,
        ordering_key=event.ordering_key,
        dedupe_key=event.dedupe_key,
        occurred_at=event.occurred_at,
    )


def _prefix(incoming: _Incoming) -> str:
    if incoming.source == "slash":
        return f"{incoming.slash} "
    if incoming.source == "mention" and incoming.bot_user_id:
        return f"<@{incoming.bot_user_id}> "
    return ""


def _reply(event: DomainEvent, incoming: _Incoming, unmatched: Unmatched) -> HelpReply:
    data = event.data
    channel = data.get("channel") or {}
    user = data.get("user") or {}
    response_url = data.get("response_url") if incoming.source == "slash" else None
    return HelpReply(
        team_id=event.team_id or "",
        app_id=event.app_id,
        channel_id=channel.get("id"),
        user_id=user.get("id"),
        thread_ts=data.get("thread_ts"),
        response_url=response_url if isinstance(response_url, str) else None,
        text=help_text(unmatched, _prefix(incoming)),
        key=event.dedupe_key,
    )


def route(
    events: Sequence[DomainEvent],
    commands: Sequence[Command],
    *,
    rerun_on_edit: bool = False,
    timezones: Mapping[str, str] | None = None,
) -> Routed:
    """Route ``events`` through the declared ``commands`` (see the module docstring)."""
    routed = Routed()
    for event in events:
        incoming = _incoming(event, rerun_on_edit) if commands else None
        user_id = event.user_id or ""
        today = local_today(event.occurred_at, zone((timezones or {}).get(user_id)))
        found = (
            None
            if incoming is None
            else choose(commands, incoming.text, incoming.source, incoming.slash, today)
        )
        if found is None or incoming is None:
            routed.events.append(event)
        elif isinstance(found, Matched):
            routed.events.append(_matched(event, incoming, found))
        elif event.team_id:
            routed.replies.append(_reply(event, incoming, found))
    return routed


def routable(
    events: Sequence[DomainEvent], commands: Sequence[Command], *, rerun_on_edit: bool = False
) -> list[DomainEvent]:
    """The events :func:`route` would try to match (to look up their people's time zones)."""
    found: list[DomainEvent] = []
    for event in events:
        incoming = _incoming(event, rerun_on_edit) if commands else None
        if incoming is not None and any(
            c.answers(incoming.source, incoming.slash) for c in commands
        ):
            found.append(event)
    return found
