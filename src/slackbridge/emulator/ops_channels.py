"""World operations on conversations: create, join, invite, kick, open DMs, archive."""

from __future__ import annotations

import re
from collections.abc import Sequence

from slackbridge.emulator.ops_common import announce, new_ts
from slackbridge.emulator.ops_messages import post_message
from slackbridge.emulator.render import channel_letter, render_channel
from slackbridge.emulator.state import Channel, EmulatorState, User, Workspace
from slackbridge.emulator.webapi.registry import SlackError

__all__ = [
    "archive_channel",
    "channel_name_error",
    "create_channel",
    "join_channel",
    "kick_from_channel",
    "open_dm",
    "open_mpim",
]

_NAME_OK = re.compile(r"^[a-z0-9_\-\u00c0-\uffff]+$")


def channel_name_error(name: str) -> str | None:
    """Slack's error code for an invalid channel name, or None when it is valid."""
    if not name:
        return "invalid_name_required"
    if len(name) > 80:
        return "invalid_name_maxlength"
    if all(not c.isalnum() for c in name):
        return "invalid_name_punctuation"
    if not _NAME_OK.match(name):
        return "invalid_name_specials"
    return None


def _workspace(state: EmulatorState, team_id: str) -> Workspace:
    ws = state.workspaces.get(team_id)
    if ws is None:
        raise SlackError("team_not_found")
    return ws


def create_channel(
    state: EmulatorState,
    team_id: str,
    name: str,
    creator: str,
    *,
    private: bool = False,
    channel_id: str | None = None,
) -> Channel:
    """A new public or private channel with its creator as the only member.

    Emits ``channel_created`` (public channels only, as Slack does). Raises ``name_taken`` and the
    ``invalid_name_*`` codes.
    """
    ws = _workspace(state, team_id)
    error = channel_name_error(name)
    if error:
        raise SlackError(error)
    if any(ch.name == name and ch.kind in {"public", "private"} for ch in ws.channels.values()):
        raise SlackError("name_taken")
    channel = Channel(
        id=channel_id or state.ids.next("G" if private else "C"),
        team_id=team_id,
        name=name,
        kind="private" if private else "public",
        creator=creator,
        created=int(state.now()),
        members=[creator],
    )
    ws.channels[channel.id] = channel
    if not private:
        info = render_channel(channel, viewer_id=None)
        announce(
            state,
            "channel_created",
            channel,
            {
                "channel": {
                    "id": channel.id,
                    "name": channel.name,
                    "created": channel.created,
                    "creator": creator,
                    "is_channel": info["is_channel"],
                    "is_private": False,
                    "context_team_id": team_id,
                },
                "event_ts": new_ts(state),
            },
        )
    return channel


def join_channel(
    state: EmulatorState,
    channel: Channel,
    user: User,
    *,
    inviter: str | None = None,
) -> bool:
    """Add ``user`` to ``channel``; False if already a member.

    In channels (not DMs) Slack posts a ``channel_join`` message and sends
    ``member_joined_channel``; both are emitted here.
    """
    if user.id in channel.members:
        return False
    channel.members.append(user.id)
    if channel.kind in {"public", "private"}:
        announce(
            state,
            "member_joined_channel",
            channel,
            {
                "user": user.id,
                "channel_type": channel_letter(channel),
                "team": channel.team_id,
                "inviter": inviter,
                "is_bot": user.is_bot,
                "event_ts": new_ts(state),
            },
        )
        post_message(
            state,
            channel,
            user,
            text=f"<@{user.id}> has joined the channel",
            subtype="channel_join",
        )
    return True


def kick_from_channel(state: EmulatorState, channel: Channel, user_id: str) -> bool:
    """Remove ``user_id`` from ``channel``; False if not a member. Emits
    ``member_left_channel``."""
    if user_id not in channel.members:
        return False
    channel.members.remove(user_id)
    announce(
        state,
        "member_left_channel",
        channel,
        {
            "user": user_id,
            "channel_type": channel_letter(channel),
            "team": channel.team_id,
            "event_ts": new_ts(state),
        },
    )
    return True


def open_dm(
    state: EmulatorState, team_id: str, user_a: str, user_b: str, *, channel_id: str | None = None
) -> tuple[Channel, bool]:
    """The DM between two users (one member for a DM with oneself), and whether it is new."""
    ws = _workspace(state, team_id)
    members = sorted({user_a, user_b})
    for ch in ws.channels.values():
        if ch.kind == "im" and sorted(set(ch.members)) == members:
            return ch, False
    channel = Channel(
        id=channel_id or state.ids.next("D"),
        team_id=team_id,
        name=channel_id or "",
        kind="im",
        creator=user_a,
        created=int(state.now()),
        members=[user_a] if user_a == user_b else [user_a, user_b],
    )
    channel.name = channel.id
    ws.channels[channel.id] = channel
    return channel, True


def open_mpim(
    state: EmulatorState,
    team_id: str,
    user_ids: Sequence[str],
    *,
    creator: str | None = None,
    channel_id: str | None = None,
) -> tuple[Channel, bool]:
    """The group DM of exactly these users (3 to 9), and whether it is new."""
    ws = _workspace(state, team_id)
    members = list(dict.fromkeys(user_ids))
    wanted = sorted(members)
    for ch in ws.channels.values():
        if ch.kind == "mpim" and sorted(ch.members) == wanted:
            return ch, False
    names = [ws.users[u].name if u in ws.users else u.lower() for u in members]
    channel = Channel(
        id=channel_id or state.ids.next("G"),
        team_id=team_id,
        name="mpdm-" + "--".join(names) + "-1",
        kind="mpim",
        creator=creator or members[0],
        created=int(state.now()),
        members=members,
    )
    ws.channels[channel.id] = channel
    return channel, True


def archive_channel(state: EmulatorState, channel: Channel, user_id: str) -> None:
    """Archive ``channel``; emits ``channel_archive``. Raises ``already_archived``.

    As on Slack, the channel first gets a ``channel_archive`` message ("archived the channel")
    by the person or bot archiving it, which apps in the channel hear as a message event."""
    if channel.is_archived:
        raise SlackError("already_archived")
    ws = state.workspaces.get(channel.team_id)
    archiver = ws.users.get(user_id) if ws is not None else None
    if archiver is not None:
        post_message(
            state,
            channel,
            archiver,
            text=f"<@{user_id}> archived the channel",
            subtype="channel_archive",
        )
    channel.is_archived = True
    announce(
        state,
        "channel_archive",
        channel,
        {
            "user": user_id,
            "channel_type": channel_letter(channel),
            "event_ts": new_ts(state),
        },
    )
