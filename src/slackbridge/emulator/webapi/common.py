"""What Web API methods share: who is calling, which conversation they mean, what they may see."""

from __future__ import annotations

from slackbridge.emulator.ops_channels import open_dm
from slackbridge.emulator.state import Channel, Installation, User, Workspace
from slackbridge.emulator.webapi.registry import CallContext, SlackError

__all__ = [
    "KIND_SCOPES",
    "caller",
    "caller_installation",
    "can_see",
    "channel_for_read",
    "require_kind_scope",
    "resolve_channel",
    "workspace",
]

# The scope family each conversation kind needs, by access: e.g. history of a private
# channel needs groups:history.
KIND_SCOPES = {
    "public": "channels",
    "private": "groups",
    "im": "im",
    "mpim": "mpim",
}


def workspace(ctx: CallContext) -> Workspace:
    token = ctx.token
    ws = ctx.state.workspaces.get(token.team_id) if token and token.team_id else None
    if ws is None:
        raise SlackError("invalid_auth")
    return ws


def caller(ctx: CallContext) -> User:
    """The user behind the token: a person (user token) or the app's bot user (bot token)."""
    ws = workspace(ctx)
    assert ctx.token is not None
    user = ws.users.get(ctx.token.user_id or "")
    if user is None:
        raise SlackError("invalid_auth")
    return user


def caller_installation(ctx: CallContext) -> Installation | None:
    token = ctx.token
    if token is None or token.installation_key is None:
        return None
    return ctx.state.installations.get(token.installation_key)


def can_see(channel: Channel, user: User) -> bool:
    """Public channels are visible to everyone in the workspace; others only to members."""
    return channel.kind == "public" or user.id in channel.members


def resolve_channel(ctx: CallContext, ref: object, *, open_user_dm: bool = False) -> Channel:
    """A conversation by id, by ``#name``/``name``, or (``open_user_dm``) a user id meaning the
    caller's DM with that user. ``channel_not_found`` when unknown or invisible to the caller."""
    if not isinstance(ref, str) or not ref:
        raise SlackError("channel_not_found")
    ws = workspace(ctx)
    me = caller(ctx)
    channel = ws.channels.get(ref)
    if channel is None and open_user_dm and ref[0] in "UW" and ref in ws.users:
        if ws.users[ref].deleted:
            raise SlackError("channel_not_found")
        channel, _ = open_dm(ctx.state, ws.id, me.id, ref)
    if channel is None:
        channel = ws.channel_named(ref)
    if channel is None or not can_see(channel, me):
        raise SlackError("channel_not_found")
    return channel


def require_kind_scope(ctx: CallContext, channel: Channel, access: str) -> None:
    """``missing_scope`` unless the token holds e.g. ``groups:history`` for a private channel."""
    assert ctx.token is not None
    needed = f"{KIND_SCOPES[channel.kind]}:{access}"
    if needed not in ctx.token.scopes:
        raise SlackError("missing_scope", needed=needed, provided=",".join(ctx.token.scopes))


def channel_for_read(ctx: CallContext, ref: object, access: str) -> Channel:
    """A visible conversation whose kind's ``access`` scope the token holds."""
    channel = resolve_channel(ctx, ref)
    require_kind_scope(ctx, channel, access)
    return channel
