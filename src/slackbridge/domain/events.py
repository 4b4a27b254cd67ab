"""Domain events: what the product receives, independent of how Slack phrased it.

A :class:`DomainEvent` becomes one webhook body ``{"type", "timestamp", "data"}``. ``data`` always
has ``workspace`` (``team_id``, ``enterprise_id``, ``app_id``) and, where Slack gave them,
``channel`` (``id``, ``kind``: public/private/im/mpim), ``user`` (``id``; ``name``, ``real_name``,
``email`` are filled in by dispatch from the user cache), and ``raw`` (Slack's payload as received).
docs/webhooks.md shows an example body for every type in :data:`WEBHOOK_TYPES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "OPT_IN_TYPES",
    "WEBHOOK_TYPES",
    "ChannelKind",
    "ControlAction",
    "DomainEvent",
    "Normalized",
    "Received",
    "SlackListener",
    "channel_kind",
]

ChannelKind = Literal["public", "private", "im", "mpim"]

#: Every webhook type slackbridge sends, with a one-line meaning (also the docs' index).
WEBHOOK_TYPES: dict[str, str] = {
    "workspace.installed": "an app was installed (or reinstalled) into a workspace",
    "workspace.uninstalled": "the app was uninstalled or its tokens were revoked",
    "workspace.disconnected": "Slack rejected the workspace's token (invalid_auth and the like)",
    "workspace.ref_changed": "a reinstall tied the workspace to another product ref (if allowed)",
    "message.posted": "a person or another app posted a message (also thread replies)",
    "message.edited": "a message was edited (link unfurls are not edits)",
    "message.deleted": "a message was deleted",
    "message.delivered": "a message the product sent through the API reached Slack",
    "message.failed": "a message the product sent could not be delivered",
    "reaction.added": "an emoji reaction was added to a message",
    "reaction.removed": "an emoji reaction was removed from a message",
    "app.mentioned": "someone mentioned the app's bot user",
    "command.invoked": "someone ran one of the app's slash commands",
    "command.matched": "a message, mention or slash command fitted a declared command",
    "interaction.block_action": "someone clicked a button or used another block element",
    "interaction.view_submission": "someone submitted a modal",
    "interaction.view_closed": "someone closed a modal that asked to be told",
    "interaction.shortcut": "someone ran a global or message shortcut",
    "interaction.block_suggestion": "an external select asked for options",
    "conversation.opened": "Slack opened a conversation in a watched channel (adopt it by key)",
    "conversation.message.created": "a person or another app wrote in a bridged conversation",
    "conversation.message.edited": "a message of a bridged conversation was edited in Slack",
    "conversation.message.deleted": "a message of a bridged conversation was deleted in Slack",
    "conversation.reaction.added": "a reaction was added to a message of a conversation",
    "conversation.reaction.removed": "a reaction was removed from a message of a conversation",
    "conversation.closed": "a conversation was closed (by the product, or its channel archived)",
    "conversation.reopened": "a closed conversation was reopened (by the product, or in Slack)",
    "slack.event": "any other Slack payload, raw (opt-in per endpoint)",
}

#: Types an endpoint receives only when it lists them explicitly.
OPT_IN_TYPES: frozenset[str] = frozenset({"slack.event"})


def channel_kind(channel_id: str | None, channel_type: str | None = None) -> ChannelKind | None:
    """The kind of a conversation from Slack's ``channel_type`` or, failing that, its id."""
    by_type: dict[str, ChannelKind] = {
        "channel": "public",
        "group": "private",
        "private": "private",
        "im": "im",
        "mpim": "mpim",
    }
    if channel_type in by_type:
        return by_type[channel_type]
    by_prefix: dict[str, ChannelKind] = {"C": "public", "G": "private", "D": "im"}
    return by_prefix.get(channel_id[:1]) if channel_id else None


@dataclass(slots=True)
class DomainEvent:
    """One thing that happened, ready to become a webhook.

    ``ordering_key`` groups events that must reach an endpoint in order (one Slack channel of one
    workspace); ``dedupe_key`` makes the resulting webhook-id stable across redeliveries.

    A value: never changed once made (use ``dataclasses.replace``). Not declared frozen because
    one is made per Slack request and frozen construction costs about twice as much.
    """

    type: str
    team_id: str | None
    app_id: str | None
    data: dict[str, Any]
    ordering_key: str
    dedupe_key: str
    occurred_at: float

    def __post_init__(self) -> None:
        if self.type not in WEBHOOK_TYPES:
            raise ValueError(f"unknown webhook type {self.type!r}")

    @property
    def user_id(self) -> str | None:
        user = self.data.get("user")
        return user.get("id") if isinstance(user, dict) else None


@dataclass(frozen=True)
class ControlAction:
    """Something the gateway itself must do about a payload (not only tell the product).

    ``uninstall``: the app was removed from ``team_id`` (app_uninstalled, or the bot token was
    revoked): delete its tokens, mark it uninstalled. ``revoke_user_tokens``: forget the user tokens
    of ``user_ids``.
    """

    kind: Literal["uninstall", "revoke_user_tokens"]
    team_id: str
    app_id: str | None
    enterprise_id: str | None = None
    user_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class Normalized:
    """What one Slack payload turns into (a value, like :class:`DomainEvent`)."""

    events: list[DomainEvent] = field(default_factory=list)
    actions: list[ControlAction] = field(default_factory=list)
    ignored_reason: str | None = None  # why nothing came out (loop guard, unfurl, ...)


@dataclass(slots=True)
class Received:
    """One Slack payload as the pipeline received it, for a part that reads Slack's own words
    (the bridge): ``authored`` tells messages posted by slackbridge's own bots (the loop guard's
    view of the workspace)."""

    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str
    received_at: float
    authored: Callable[[Mapping[str, Any]], bool]


#: A part that hears every payload of an inbox batch and answers, per payload and in order, the
#: further domain events it makes (stored with the batch's other deliveries, in one transaction).
SlackListener = Callable[[Sequence[Received]], Awaitable[list[list[DomainEvent]]]]
