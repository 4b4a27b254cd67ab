"""Every change to the emulator's world, as functions on :class:`EmulatorState`.

The operations live in ``ops_messages``, ``ops_channels``, ``ops_files`` and ``ops_views``
(installing apps is in ``installs.py``); this module gathers them. Each change is announced on
the state's bus (``state.emit``) as a :class:`~slackbridge.emulator.state.Signal` whose
``data`` holds:

``message`` (a new message, bot posts, file shares, ``channel_join`` …)
    ``message``: the message rendered as Slack shows it (``render_message``; ``client_msg_id``
    for people's messages), ``channel_type`` (``channel``/``group``/``im``/``mpim``), ``user``
    (author id, a bot user for apps), ``bot_id``, ``app_id``, ``thread_ts`` (root ts for
    replies), ``subtype``, ``mentions`` (user ids in ``<@U…>``).
``message_changed``
    ``message`` (new rendering, with ``edited``), ``previous_message``, ``channel_type``,
    ``event_ts``, ``user`` (the editor), ``mentions``.
``message_deleted``
    ``deleted_ts``, ``previous_message``, ``channel_type``, ``event_ts``, ``thread_ts`` (for a
    reply).
``reaction_added`` / ``reaction_removed``
    ``user``, ``reaction``, ``item`` (``{"type": "message", "channel", "ts"}``), ``item_user``,
    ``event_ts``, ``channel_type``.
``member_joined_channel`` / ``member_left_channel``
    ``user``, ``channel_type`` (``C`` or ``G``), ``team``, ``inviter`` and ``is_bot`` (joined
    only), ``event_ts``.
``channel_created``
    ``channel`` (``id``, ``name``, ``created``, ``creator``, ``is_channel``, ``is_private``,
    ``context_team_id``), ``event_ts``.
``channel_archive``
    ``user``, ``channel_type``, ``event_ts``.

``render_message`` (pure, in ``render.py``) is the single renderer of Slack's message JSON;
:func:`message_json` applies it with the state's context (files, bot profile, thread).
"""

from __future__ import annotations

from slackbridge.emulator.ops_channels import (
    archive_channel,
    channel_name_error,
    create_channel,
    join_channel,
    kick_from_channel,
    open_dm,
    open_mpim,
)
from slackbridge.emulator.ops_common import base_url, file_json, mentions, message_json, new_ts
from slackbridge.emulator.ops_files import create_file, share_files
from slackbridge.emulator.ops_messages import (
    add_reaction,
    delete_message,
    edit_message,
    find_message,
    post_ephemeral,
    post_message,
    remove_reaction,
    thread_of,
    thread_root,
    unfurl_message,
)
from slackbridge.emulator.ops_views import (
    close_view,
    new_trigger,
    open_view,
    publish_home,
    push_view,
    render_view,
    take_trigger,
    update_view,
)
from slackbridge.emulator.render import render_message

__all__ = [
    "add_reaction",
    "archive_channel",
    "base_url",
    "channel_name_error",
    "close_view",
    "create_channel",
    "create_file",
    "delete_message",
    "edit_message",
    "file_json",
    "find_message",
    "join_channel",
    "kick_from_channel",
    "mentions",
    "message_json",
    "new_trigger",
    "new_ts",
    "open_dm",
    "open_mpim",
    "open_view",
    "post_ephemeral",
    "post_message",
    "publish_home",
    "push_view",
    "remove_reaction",
    "render_message",
    "render_view",
    "share_files",
    "take_trigger",
    "thread_of",
    "thread_root",
    "unfurl_message",
    "update_view",
]
