"""The workspaces the apps are installed in: list, get, remove.

Removal revokes the workspace's tokens at Slack and tells the product: that is the workspace
edge's job, passed in as the ``remove`` port (``remove(team_id, app_name, actor)``, which raises
LookupError when nothing matches). What this module adds is the part every front end shares:
which installations there are, which app is meant, what was removed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from slackbridge.operations.apps import list_apps, resolve_app
from slackbridge.operations.errors import AppNotFound, WorkspaceNotFound
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.api_keys import ApiKeyScope
from slackbridge.store.repositories.apps import SlackApp
from slackbridge.store.repositories.installations import (
    Installation,
    InstallationsRepository,
    InstallationStatus,
)

__all__ = [
    "Removal",
    "RemoveWorkspace",
    "Workspace",
    "get_workspace",
    "list_workspaces",
    "removable_apps",
    "remove_workspace",
    "visible_teams",
]

_R = TypeVar("_R")

#: The port that removes a workspace at Slack and in the store: ``(team_id, app name or None,
#: actor)`` → one result per installation removed; LookupError when there is none to remove.
RemoveWorkspace = Callable[[str, str | None, str], Awaitable[Sequence[_R]]]


@dataclass(frozen=True)
class Workspace:
    """An installation and the app it belongs to (None: the app is gone from the store)."""

    installation: Installation
    app: SlackApp | None

    @property
    def app_name(self) -> str:
        return self.app.name if self.app else "?"


@dataclass(frozen=True)
class Removal(Generic[_R]):
    """What removing a workspace did: the port's results and the installations now removed."""

    results: tuple[_R, ...]
    removed: tuple[Workspace, ...]


def _repo(db: Database, keyring: Keyring) -> InstallationsRepository:
    return InstallationsRepository(db, keyring)


def visible_teams(scope: ApiKeyScope, installs: Sequence[Installation]) -> set[str]:
    """The team ids among ``installs`` that ``scope`` covers (refs judged over every
    installation of a team)."""
    refs: dict[str, list[str | None]] = {}
    for inst in installs:
        refs.setdefault(inst.team_id or "", []).append(inst.product_ref)
    return {team for team, carried in refs.items() if scope.covers(team, carried)}


async def list_workspaces(
    db: Database,
    keyring: Keyring,
    *,
    app: str | None = None,
    status: InstallationStatus | None = None,
    scope: ApiKeyScope | None = None,
) -> list[Workspace]:
    """Every installation (of app ``app`` by name; with ``status``; that ``scope`` may touch),
    in the store's order. Raises :class:`AppNotFound` for an unknown ``app``."""
    apps = {a.id: a for a in await list_apps(db, keyring)}
    if app is not None and app not in {a.name for a in apps.values()}:
        raise AppNotFound(f"no Slack app named {app!r}")
    repo = _repo(db, keyring)
    installs = await repo.list(status=status)
    if scope is not None and not scope.everywhere:
        allowed = visible_teams(scope, await repo.list() if status else installs)
        installs = [i for i in installs if (i.team_id or "") in allowed]
    found = [Workspace(i, apps.get(i.app_ref)) for i in installs]
    return [w for w in found if app is None or (w.app is not None and w.app.name == app)]


async def get_workspace(
    db: Database, keyring: Keyring, team_id: str, *, app_id: str | None = None
) -> Workspace:
    """The installation serving ``team_id`` (any status): of app ``app_id`` (Slack's ``A…``
    id) when given, else of the first app installed there, preferring an active one. Raises
    :class:`WorkspaceNotFound`."""
    apps = {a.id: a for a in await list_apps(db, keyring)}
    found = sorted(
        (
            Workspace(inst, apps[inst.app_ref])
            for inst in await _repo(db, keyring).list(team_id=team_id)
            if inst.app_ref in apps and (app_id is None or apps[inst.app_ref].app_id == app_id)
        ),
        key=lambda w: w.installation.app_ref,
    )
    if not found:
        raise WorkspaceNotFound(f"slackbridge has no installation for {team_id}")
    return next((w for w in found if w.installation.is_active), found[0])


async def removable_apps(
    db: Database, keyring: Keyring, team_id: str, *, app: str | None = None
) -> list[str]:
    """The names of the apps whose installation in ``team_id`` a removal would remove (of app
    ``app`` only, by name, when given): what to confirm with the operator first."""
    names = {a.id: a.name for a in await list_apps(db, keyring)}
    return [
        names.get(i.app_ref, "?")
        for i in await _repo(db, keyring).list(team_id=team_id)
        if i.status != "removed" and (app is None or names.get(i.app_ref) == app)
    ]


async def remove_workspace(
    db: Database,
    keyring: Keyring,
    team_id: str,
    *,
    remove: RemoveWorkspace[_R],
    app: str | None = None,
    actor: str,
) -> Removal[_R]:
    """Remove ``team_id`` (every app's installation, or only ``app``'s, by name or Slack app
    id) through the ``remove`` port; ``actor`` is written to the audit log. Raises
    :class:`AppNotFound` for an unknown ``app`` and :class:`WorkspaceNotFound` when nothing is
    left to remove."""
    if app is not None:
        await resolve_app(db, keyring, app)
    try:
        results = await remove(team_id, app, actor)
    except LookupError as exc:
        raise WorkspaceNotFound(str(exc)) from None
    apps = {a.id: a for a in await list_apps(db, keyring)}
    removed = await _repo(db, keyring).list(team_id=team_id, status="removed")
    return Removal(tuple(results), tuple(Workspace(i, apps.get(i.app_ref)) for i in removed))
