"""``/user-links`` and ``/watched-channels``: the bridge's identity links and the channels that
open conversations from Slack (docs/bridge.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator

from slackbridge.api.auth import ReadCaller, WriteCaller
from slackbridge.api.conversations import bridge_store
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import ChannelId, TeamId
from slackbridge.api.schemas_bridge import (
    UserLink,
    UserLinkPut,
    WatchedChannel,
    WatchedChannelList,
    WatchedChannelPut,
    not_a_dot_segment,
)
from slackbridge.api.scope import require_workspace
from slackbridge.operations.workspaces import visible_teams
from slackbridge.runtime import gateway_of
from slackbridge.slack.workspaces.lifecycle import installations_repo
from slackbridge.store.errors import ConflictError
from slackbridge.store.repositories.bridge_users import UserLink as StoredLink
from slackbridge.store.repositories.watched_channels import WatchedChannel as StoredWatched

__all__ = ["links_router", "watched_router"]

links_router = APIRouter(prefix="/user-links", tags=["conversations"])
watched_router = APIRouter(prefix="/watched-channels", tags=["conversations"])

ProductUserPath = Annotated[
    str,
    AfterValidator(not_a_dot_segment),
    Path(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x2e\x30-\x7e](?:[\x20-\x2e\x30-\x7e]*[\x21-\x2e\x30-\x7e])?$",
        description="the product's own id of the user",
    ),
]
ChannelPath = Annotated[
    ChannelId,
    Path(pattern=r"^[CG][A-Z0-9]{2,31}$", description="the channel (C…, G…)"),
]
WorkspaceQuery = Annotated[TeamId, Query(description="the Slack workspace id (T…)")]


def _link_view(link: StoredLink) -> UserLink:
    assert link.product_user is not None
    return UserLink(
        product_user=link.product_user,
        workspace=link.team_id,
        slack_user=link.slack_user,
        email=link.email,
    )


def _watched_view(watched: StoredWatched) -> WatchedChannel:
    return WatchedChannel(
        workspace=watched.team_id,
        channel=watched.channel_id,
        open_on=watched.open_on,
        reaction=watched.reaction,
        mode=watched.mode,
    )


@links_router.put(
    "/{product_user}",
    summary="Link a product user to a Slack user",
    # not_found: a value the API can't route (a decoded newline) is answered 404, as on every path.
    responses=error_responses("workspace_forbidden", "user_link_conflict", "not_found"),
)
async def put_user_link(
    product_user: ProductUserPath, body: UserLinkPut, request: Request, caller: WriteCaller
) -> UserLink:
    """The product user is this Slack user (by id, or by email: found with
    ``users.lookupByEmail`` when first needed). Webhooks then carry ``product_user`` for them,
    and ``author: {"email": …}`` posts as them."""
    gateway = gateway_of(request)
    await require_workspace(gateway, caller, body.workspace)
    try:
        link = await bridge_store(gateway).user_links.put_link(
            body.workspace, product_user, email=body.email, slack_user=body.slack_user
        )
    except ConflictError as exc:
        raise ApiError("user_link_conflict", str(exc)) from None
    return _link_view(link)


@links_router.get(
    "/{product_user}",
    summary="Get a user link",
    responses=error_responses("workspace_forbidden", "user_not_found"),
)
async def get_user_link(
    product_user: ProductUserPath, request: Request, caller: ReadCaller, workspace: WorkspaceQuery
) -> UserLink:
    gateway = gateway_of(request)
    await require_workspace(gateway, caller, workspace)
    link = await bridge_store(gateway).user_links.by_product_user(workspace, product_user)
    if link is None:
        raise ApiError("user_not_found", f"{product_user!r} is not linked in {workspace}")
    return _link_view(link)


@watched_router.put(
    "/{channel}",
    summary="Watch a channel",
    responses=error_responses("workspace_forbidden", "not_found"),
)
async def put_watched_channel(
    channel: ChannelPath, body: WatchedChannelPut, request: Request, caller: WriteCaller
) -> WatchedChannel:
    """New top-level messages in the channel (``open_on: message``) or messages given the
    chosen ``reaction`` open conversations: the product hears ``conversation.opened``."""
    gateway = gateway_of(request)
    await require_workspace(gateway, caller, body.workspace)
    watched = await bridge_store(gateway).watched_channels.put(
        body.workspace, channel, open_on=body.open_on, reaction=body.reaction, mode=body.mode
    )
    return _watched_view(watched)


@watched_router.delete(
    "/{channel}",
    status_code=204,
    summary="Stop watching a channel",
    responses=error_responses("workspace_forbidden", "not_found"),
)
async def delete_watched_channel(
    channel: ChannelPath, request: Request, caller: WriteCaller, workspace: WorkspaceQuery
) -> Response:
    gateway = gateway_of(request)
    await require_workspace(gateway, caller, workspace)
    if not await bridge_store(gateway).watched_channels.remove(workspace, channel):
        raise ApiError("not_found", f"{channel} is not watched in {workspace}")
    return Response(status_code=204)


@watched_router.get("", summary="List watched channels", responses=error_responses())
async def list_watched_channels(
    request: Request,
    caller: ReadCaller,
    workspace: Annotated[TeamId | None, Query(description="only this workspace")] = None,
) -> WatchedChannelList:
    gateway = gateway_of(request)
    if workspace is not None:
        await require_workspace(gateway, caller, workspace)
    rows = await bridge_store(gateway).watched_channels.list(team_id=workspace)
    if workspace is None and not caller.access.everywhere:
        allowed = visible_teams(caller.access, await installations_repo(gateway).list())
        rows = [r for r in rows if r.team_id in allowed]
    return WatchedChannelList(watched_channels=[_watched_view(r) for r in rows])
