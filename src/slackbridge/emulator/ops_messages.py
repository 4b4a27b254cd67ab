"""World operations on messages: post, edit, delete, react. Each announces itself as a Signal.

These functions change the state and check only what the world itself forbids (a missing
message, a duplicate reaction). Permission and argument checks belong to the callers (the Web API
methods and the control API), which know who is asking.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

from slackbridge.emulator.ops_common import announce, mentions, message_json, new_ts
from slackbridge.emulator.render import channel_type
from slackbridge.emulator.state import Channel, EmulatorState, Message, User
from slackbridge.emulator.webapi.registry import SlackError

__all__ = [
    "add_reaction",
    "delete_message",
    "edit_message",
    "find_message",
    "post_ephemeral",
    "post_message",
    "remove_reaction",
    "thread_of",
    "thread_root",
    "unfurl_message",
]

_TOMBSTONE_TEXT = "This message was deleted."
_MAX_EPHEMERALS = 1_000  # chat.postEphemeral and ephemeral app answers kept, newest last


def find_message(channel: Channel, ts: str) -> Message:
    """The live message ``ts`` in ``channel``, or ``message_not_found``."""
    msg = channel.by_ts.get(ts)
    if msg is None or msg.deleted:
        raise SlackError("message_not_found")
    return msg


def thread_root(channel: Channel, thread_ts: str) -> Message:
    """The thread a message ``thread_ts`` is in (the root itself, or a reply's root); raises
    ``thread_not_found``."""
    root = channel.by_ts.get(thread_ts)
    if root is None:
        raise SlackError("thread_not_found")
    # A reply's ts names its thread: Slack threads the new reply under the same root.
    if root.thread_ts and root.thread_ts != root.ts:
        parent = channel.by_ts.get(root.thread_ts)
        if parent is None:
            raise SlackError("thread_not_found")
        root = parent
    return root


def thread_of(channel: Channel, root: Message) -> list[Message]:
    """The root followed by its live replies, oldest first."""
    replies = [channel.by_ts[ts] for ts in root.replies if ts in channel.by_ts]
    return [root, *replies]


def post_message(
    state: EmulatorState,
    channel: Channel,
    author: User,
    *,
    text: str = "",
    blocks: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
    reply_broadcast: bool = False,
    username: str | None = None,
    icons: dict[str, str] | None = None,
    file_ids: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    subtype: str | None = None,
) -> Message:
    """Add a message by ``author`` (a person, or an app's bot user) and emit ``message``.

    An app's bot posts carry ``bot_id``/``app_id``; with a persona (``username``/``icons``) they
    become ``bot_message``; ``file_ids`` make a ``file_share``; ``reply_broadcast`` with
    ``thread_ts`` makes a ``thread_broadcast``. Raises ``thread_not_found``.
    """
    root = thread_root(channel, thread_ts) if thread_ts else None
    if subtype is None:
        if file_ids:
            subtype = "file_share"
        elif root is not None and reply_broadcast:
            subtype = "thread_broadcast"
        elif author.is_bot and (username or icons):
            subtype = "bot_message"
    msg = Message(
        ts=new_ts(state),
        channel_id=channel.id,
        text=text,
        **_author_fields(author),
        username=username,
        icons=icons,
        thread_ts=root.ts if root is not None else None,
        reply_broadcast=bool(root is not None and reply_broadcast),
        subtype=subtype,
        blocks=blocks,
        attachments=attachments,
        files=list(file_ids),
        metadata=metadata,
    )
    channel.messages.append(msg)
    channel.by_ts[msg.ts] = msg
    if root is not None:
        root.thread_ts = root.ts
        root.replies.append(msg.ts)
        root.latest_reply = msg.ts
        if author.id not in root.reply_users:
            root.reply_users.append(author.id)
    rendered = message_json(state, channel, msg)
    if not author.is_bot and subtype in (None, "thread_broadcast"):
        # Messages typed in Slack's clients carry a client-generated id.
        rendered["client_msg_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{channel.id}/{msg.ts}"))
    announce(
        state,
        "message",
        channel,
        {
            "message": rendered,
            "channel_type": channel_type(channel),
            "user": author.id,
            "bot_id": msg.bot_id,
            "app_id": msg.app_id,
            "thread_ts": msg.thread_ts,
            "subtype": subtype,
            "mentions": mentions(text),
        },
    )
    return msg


def _author_fields(author: User) -> dict[str, Any]:
    """``user``, and for an app's bot user also ``bot_id`` and ``app_id``, of a new message."""
    bot = author.is_bot
    return {
        "user": author.id,
        "bot_id": author.bot_id if bot else None,
        "app_id": author.app_id if bot else None,
    }


def post_ephemeral(
    state: EmulatorState,
    channel: Channel,
    recipient_id: str,
    author: User,
    *,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """Record a message only ``recipient_id`` sees (never in history, no event); returns the
    record ``{team_id, channel_id, user_id and visible_to (both the recipient), ts, text,
    message}`` kept in ``state.ephemerals``."""
    msg = Message(
        ts=new_ts(state),
        channel_id=channel.id,
        text=text,
        **_author_fields(author),
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
    )
    rendered = message_json(state, channel, msg)
    record: dict[str, Any] = {
        "team_id": channel.team_id,
        "channel_id": channel.id,
        "user_id": recipient_id,
        "visible_to": recipient_id,
        "ts": msg.ts,
        "text": text,
        "message": {**rendered, "is_ephemeral": True},
    }
    state.ephemerals.append(record)
    del state.ephemerals[:-_MAX_EPHEMERALS]
    return record


_UNSET: Any = object()


def edit_message(
    state: EmulatorState,
    channel: Channel,
    ts: str,
    editor: User,
    *,
    text: str | None = None,
    blocks: list[dict[str, Any]] | None = _UNSET,
    attachments: list[dict[str, Any]] | None = _UNSET,
    metadata: dict[str, Any] | None = _UNSET,
) -> Message:
    """Change a message's content, mark it edited and emit ``message_changed``."""
    msg = find_message(channel, ts)
    previous = message_json(state, channel, msg)
    if text is not None:
        msg.text = text
    if blocks is not _UNSET:
        msg.blocks = blocks
    if attachments is not _UNSET:
        msg.attachments = attachments
    if metadata is not _UNSET:
        msg.metadata = metadata
    event_ts = new_ts(state)
    # Slack records an app's edits under its bot id and a person's under their user id.
    msg.edited = {"user": editor.bot_id if editor.is_bot and editor.bot_id else editor.id}
    msg.edited["ts"] = event_ts
    announce(
        state,
        "message_changed",
        channel,
        {
            "message": message_json(state, channel, msg),
            "previous_message": previous,
            "channel_type": channel_type(channel),
            "event_ts": event_ts,
            "user": editor.id,
            "mentions": mentions(msg.text),
        },
    )
    return msg


def unfurl_message(
    state: EmulatorState, channel: Channel, ts: str, attachments: list[dict[str, Any]]
) -> Message:
    """Slack unfurls links in a message: ``attachments`` join it and apps hear a
    ``message_changed`` with no ``edited`` (not an edit: the author changed nothing)."""
    msg = find_message(channel, ts)
    previous = message_json(state, channel, msg)
    msg.attachments = [*(msg.attachments or []), *attachments]
    announce(
        state,
        "message_changed",
        channel,
        {
            "message": message_json(state, channel, msg),
            "previous_message": previous,
            "channel_type": channel_type(channel),
            "event_ts": new_ts(state),
            "user": msg.user,
            "mentions": [],
        },
    )
    return msg


def delete_message(state: EmulatorState, channel: Channel, ts: str) -> Message:
    """Delete a message and emit ``message_deleted``.

    A thread root that still has replies stays behind as Slack's ``tombstone`` ("This message
    was deleted.", by ``USLACKBOT``, ``hidden``), and apps hear a ``message_changed`` whose
    ``message`` is that tombstone, as on Slack, not a ``message_deleted``. A reply leaves its
    thread's ``reply_count``/``reply_users``/``latest_reply`` recomputed.
    """
    msg = find_message(channel, ts)
    previous = message_json(state, channel, msg)
    if msg.replies:
        _tombstone(msg)
        event_ts = new_ts(state)
        announce(
            state,
            "message_changed",
            channel,
            {
                "message": message_json(state, channel, msg),
                "previous_message": previous,
                "channel_type": channel_type(channel),
                "event_ts": event_ts,
                "user": "USLACKBOT",
                "mentions": [],
            },
        )
        return msg
    _remove(channel, msg)
    root = None
    if msg.thread_ts and msg.thread_ts != msg.ts:
        root = channel.by_ts.get(msg.thread_ts)
    tombstone = message_json(state, channel, root) if root is not None and root.deleted else None
    if root is not None:
        _unlink_reply(channel, root, msg.ts)
    _announce_deleted(state, channel, ts, previous, msg.thread_ts if msg.thread_ts != ts else None)
    if root is not None and tombstone is not None and root.ts not in channel.by_ts:
        # The tombstone's last reply went: the tombstone goes too, and apps hear of it (Slack
        # shows the tombstone with its thread emptied).
        tombstone.update(
            thread_ts=root.ts,
            reply_count=0,
            reply_users_count=0,
            latest_reply="0000000000.000000",
            reply_users=[],
        )
        _announce_deleted(state, channel, root.ts, tombstone, None)
    return msg


def _announce_deleted(
    state: EmulatorState,
    channel: Channel,
    ts: str,
    previous: dict[str, Any],
    thread_ts: str | None,
) -> None:
    announce(
        state,
        "message_deleted",
        channel,
        {
            "deleted_ts": ts,
            "previous_message": previous,
            "channel_type": channel_type(channel),
            "event_ts": new_ts(state),
            "thread_ts": thread_ts,
        },
    )


def _tombstone(msg: Message) -> None:
    msg.deleted = True
    msg.subtype = "tombstone"
    msg.text = _TOMBSTONE_TEXT
    msg.user = "USLACKBOT"
    msg.bot_id = msg.app_id = msg.username = msg.icons = None
    msg.blocks = msg.attachments = None
    msg.metadata = None
    msg.files = []
    msg.reactions = {}
    msg.edited = None


def _remove(channel: Channel, msg: Message) -> None:
    channel.by_ts.pop(msg.ts, None)
    with contextlib.suppress(ValueError):
        channel.messages.remove(msg)


def _unlink_reply(channel: Channel, root: Message, reply_ts: str) -> None:
    root.replies = [r for r in root.replies if r != reply_ts]
    remaining = [channel.by_ts[r] for r in root.replies if r in channel.by_ts]
    root.latest_reply = remaining[-1].ts if remaining else None
    root.reply_users = list(dict.fromkeys(m.user for m in remaining if m.user))
    if not root.replies:
        if root.deleted:  # a tombstone with no replies left disappears
            _remove(channel, root)
        else:
            root.thread_ts = None


def _reaction_signal(
    state: EmulatorState, kind: str, channel: Channel, msg: Message, user_id: str, name: str
) -> None:
    announce(
        state,
        kind,
        channel,
        {
            "user": user_id,
            "reaction": name,
            "item": {"type": "message", "channel": channel.id, "ts": msg.ts},
            "item_user": msg.user,
            "event_ts": new_ts(state),
            "channel_type": channel_type(channel),
        },
    )


def add_reaction(
    state: EmulatorState, channel: Channel, ts: str, user_id: str, name: str
) -> Message:
    """``user_id`` reacts with ``name``; emits ``reaction_added``. Raises ``already_reacted``."""
    msg = find_message(channel, ts)
    users = msg.reactions.setdefault(name, [])
    if user_id in users:
        raise SlackError("already_reacted")
    users.append(user_id)
    _reaction_signal(state, "reaction_added", channel, msg, user_id, name)
    return msg


def remove_reaction(
    state: EmulatorState, channel: Channel, ts: str, user_id: str, name: str
) -> Message:
    """Undo a reaction; emits ``reaction_removed``. Raises ``no_reaction``."""
    msg = find_message(channel, ts)
    users = msg.reactions.get(name)
    if not users or user_id not in users:
        raise SlackError("no_reaction")
    users.remove(user_id)
    if not users:
        del msg.reactions[name]
    _reaction_signal(state, "reaction_removed", channel, msg, user_id, name)
    return msg
