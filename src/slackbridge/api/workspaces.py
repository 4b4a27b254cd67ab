"""``/workspaces``: the app's installations, their removal, and "Add to Slack" links.

A key sees only the workspaces in its scope; removing one needs ``admin``; a key restricted to
workspaces or refs makes install links only for one of its refs (so the new workspace is in
its scope once installed).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from slackbridge.api.auth import AdminCaller, ReadCaller, WriteCaller
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import (
    AppId,
    InstallUrl,
    InstallUrlRequest,
    TeamId,
    Workspace,
    WorkspaceList,
    WorkspaceStatus,
)
from slackbridge.api.scope import require_workspace
from slackbridge.operations import install_links, workspaces
from slackbridge.operations.install_links import DEFAULT_TTL_SECONDS
from slackbridge.runtime import gateway_of
from slackbridge.slack.workspaces import lifecycle
from slackbridge.slack.workspaces.lifecycle import RemoveResult
from slackbridge.slack.workspaces.scopes import missing_scopes, reinstall_hint, reinstall_url
from slackbridge.store.repositories.apps import SlackApp
from slackbridge.store.repositories.installations import Installation

__all__ = ["router", "workspace_of"]

router = APIRouter(prefix="/workspaces", tags=["workspaces"])

TeamPath = Annotated[TeamId, Path(description="the Slack workspace id (T…)")]


def workspace_of(
    app: SlackApp | None, inst: Installation, public_url: str | None = None
) -> Workspace:
    """The public view of an installation (no secrets), with the scopes it lacks."""
    missing = missing_scopes(app.bot_scopes, inst.bot_scopes) if app else []
    url = None
    if missing and public_url is not None and app is not None:
        url = reinstall_url(public_url, inst.team_id, app.name, inst.product_ref)
    return Workspace(
        team_id=inst.team_id,
        team_name=inst.team_name,
        enterprise_id=inst.enterprise_id,
        enterprise_name=inst.enterprise_name,
        app_id=app.app_id if app else None,
        status=inst.status,
        bot_user_id=inst.bot_user_id,
        installer_user_id=inst.installer_user_id,
        product_ref=inst.product_ref,
        scopes=list(inst.bot_scopes),
        missing_scopes=missing,
        reinstall_url=url,
        reinstall_hint=reinstall_hint(missing, url, inst.product_ref),
        last_error=inst.last_error,
        installed_at=inst.installed_at,
        updated_at=inst.updated_at,
    )


@router.get("", summary="List workspaces", responses=error_responses())
async def list_workspaces(
    request: Request,
    caller: ReadCaller,
    status: Annotated[WorkspaceStatus | None, Query(description="only this status")] = None,
) -> WorkspaceList:
    """Every workspace the app is (or was) installed in that the API key may touch."""
    gateway = gateway_of(request)
    found = await workspaces.list_workspaces(
        gateway.db, gateway.keyring, status=status, scope=caller.access
    )
    public_url = gateway.settings.public_url
    return WorkspaceList(
        workspaces=[workspace_of(w.app, w.installation, public_url) for w in found]
    )


@router.get(
    "/{team_id}",
    summary="Get a workspace",
    responses=error_responses("workspace_forbidden", "workspace_not_found"),
)
async def get_workspace(
    team_id: TeamPath,
    request: Request,
    caller: ReadCaller,
    app_id: Annotated[AppId | None, Query(description="when several apps are installed")] = None,
) -> Workspace:
    """One workspace's installation, whatever its status."""
    gateway = gateway_of(request)
    await require_workspace(gateway, caller, team_id)
    found = await workspaces.get_workspace(gateway.db, gateway.keyring, team_id, app_id=app_id)
    return workspace_of(found.app, found.installation, gateway.settings.public_url)


@router.delete(
    "/{team_id}",
    summary="Remove a workspace",
    responses=error_responses("workspace_forbidden", "workspace_not_found", "app_not_found"),
)
async def remove(
    team_id: TeamPath,
    request: Request,
    caller: AdminCaller,
    app: Annotated[
        str | None, Query(min_length=1, max_length=100, description="only this app's install")
    ] = None,
) -> WorkspaceList:
    """Revoke the workspace's tokens at Slack, delete them and mark it ``removed`` (the
    product then receives ``workspace.uninstalled``). Needs an ``admin`` key."""
    gateway = gateway_of(request)
    await require_workspace(gateway, caller, team_id)

    async def remove_at_slack(team: str, app_name: str | None, actor: str) -> list[RemoveResult]:
        return await lifecycle.remove_workspace(gateway, team, app_name=app_name, actor=actor)

    removal = await workspaces.remove_workspace(
        gateway.db,
        gateway.keyring,
        team_id,
        remove=remove_at_slack,
        app=app,
        actor=f"api:{caller.name}",
    )
    return WorkspaceList(workspaces=[workspace_of(w.app, w.installation) for w in removal.removed])


@router.post(
    "/install-url",
    summary="Make an 'Add to Slack' link",
    responses=error_responses("workspace_forbidden", "app_not_found"),
)
async def install_url(body: InstallUrlRequest, request: Request, caller: WriteCaller) -> InstallUrl:
    """A link to slackbridge's ``/slack/install`` that carries your ``product_ref``: when the
    person finishes installing, ``workspace.installed`` names it (``data.workspace.ref``). A link
    with a ``product_ref`` is signed and expires (``ttl_seconds``, a day by default), so that no
    one can write a link that installs a workspace under someone else's account; make one per
    person who asks, when they ask."""
    gateway = gateway_of(request)
    access = caller.access
    if not access.everywhere and body.product_ref not in access.product_refs:
        raise ApiError(
            "workspace_forbidden",
            "this API key may only make install links carrying one of its refs: "
            + (", ".join(access.product_refs) or "it has none"),
        )
    link = await install_links.make_install_link(
        gateway.db,
        gateway.keyring,
        gateway.settings,
        ref=body.product_ref,
        app=body.app,
        team=body.team,
        ttl_seconds=body.ttl_seconds or DEFAULT_TTL_SECONDS,
    )
    return InstallUrl(url=link.url, expires_at=link.expires_at)
