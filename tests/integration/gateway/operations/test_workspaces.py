"""Operator actions on workspaces: list (by app, status and key scope), get, remove through
the Slack-side port."""

from __future__ import annotations

import pytest

from slackbridge.operations.errors import AppNotFound, WorkspaceNotFound
from slackbridge.operations.workspaces import (
    get_workspace,
    list_workspaces,
    removable_apps,
    remove_workspace,
)
from slackbridge.store.repositories.api_keys import ApiKeyScope
from slackbridge.store.store import Store

from .conftest import add_app, install


async def _two_apps_three_workspaces(store: Store) -> None:
    alpha = await add_app(store, "alpha", "A0ALPHA")
    beta = await add_app(store, "beta", "A0BETA")
    await install(store, alpha, "T0ONE", ref="acct-1")
    await install(store, beta, "T0ONE")
    two = await install(store, alpha, "T0TWO", ref="acct-2")
    await store.installations.set_status(two.id, "disconnected", last_error="invalid_auth")


async def test_workspaces_are_listed_with_their_app(store: Store) -> None:
    await _two_apps_three_workspaces(store)
    found = await list_workspaces(store.db, store.keyring)
    assert [(w.installation.team_id, w.app_name) for w in found] == [
        ("T0ONE", "alpha"),
        ("T0ONE", "beta"),
        ("T0TWO", "alpha"),
    ]
    only_beta = await list_workspaces(store.db, store.keyring, app="beta")
    assert [(w.installation.team_id, w.app_name) for w in only_beta] == [("T0ONE", "beta")]
    broken = await list_workspaces(store.db, store.keyring, status="disconnected")
    assert [w.installation.last_error for w in broken] == ["invalid_auth"]
    with pytest.raises(AppNotFound, match="no Slack app named 'gamma'"):
        await list_workspaces(store.db, store.keyring, app="gamma")


async def test_a_scoped_key_sees_only_its_workspaces(store: Store) -> None:
    await _two_apps_three_workspaces(store)
    by_team = ApiKeyScope(team_ids=("T0TWO",))
    teams = [
        w.installation.team_id
        for w in await list_workspaces(store.db, store.keyring, scope=by_team)
    ]
    assert teams == ["T0TWO"]
    # A ref on any installation of a team shows the team, whatever the status asked for.
    by_ref = ApiKeyScope(product_refs=("acct-1",))
    active = await list_workspaces(store.db, store.keyring, status="active", scope=by_ref)
    assert [(w.installation.team_id, w.app_name) for w in active] == [
        ("T0ONE", "alpha"),
        ("T0ONE", "beta"),
    ]
    assert (
        await list_workspaces(store.db, store.keyring, scope=ApiKeyScope(product_refs=("nobody",)))
        == []
    )


async def test_getting_a_workspace_prefers_an_active_installation(store: Store) -> None:
    alpha = await add_app(store, "alpha", "A0ALPHA")
    beta = await add_app(store, "beta", "A0BETA")
    first = await install(store, alpha, "T0ONE")
    await install(store, beta, "T0ONE")
    await store.installations.set_status(first.id, "disconnected", last_error="token_revoked")
    assert (await get_workspace(store.db, store.keyring, "T0ONE")).app_name == "beta"
    of_alpha = await get_workspace(store.db, store.keyring, "T0ONE", app_id="A0ALPHA")
    assert of_alpha.installation.status == "disconnected"
    with pytest.raises(WorkspaceNotFound) as exc:
        await get_workspace(store.db, store.keyring, "T0NONE")
    assert str(exc.value) == "slackbridge has no installation for T0NONE"
    assert exc.value.code == "workspace_not_found"


async def test_removal_goes_through_the_port_and_reports_what_was_removed(store: Store) -> None:
    await _two_apps_three_workspaces(store)
    assert await removable_apps(store.db, store.keyring, "T0ONE") == ["alpha", "beta"]
    assert await removable_apps(store.db, store.keyring, "T0ONE", app="beta") == ["beta"]
    calls: list[tuple[str, str | None, str]] = []

    async def remove(team_id: str, app_name: str | None, actor: str) -> list[str]:
        calls.append((team_id, app_name, actor))
        removed = []
        for inst in await store.installations.list(team_id=team_id):
            app = await store.apps.get(inst.app_ref)
            if app is not None and app_name in (None, app.name):
                await store.installations.retire(inst.id, "removed", reason=f"by {actor}")
                removed.append(app.name)
        return removed

    removal = await remove_workspace(
        store.db, store.keyring, "T0ONE", remove=remove, app="beta", actor="console:ann"
    )
    assert calls == [("T0ONE", "beta", "console:ann")]
    assert removal.results == ("beta",)
    assert [
        (w.installation.team_id, w.app_name, w.installation.status) for w in removal.removed
    ] == [("T0ONE", "beta", "removed")]
    assert await removable_apps(store.db, store.keyring, "T0ONE") == ["alpha"]


async def test_removal_refuses_an_unknown_app_before_calling_the_port(store: Store) -> None:
    await _two_apps_three_workspaces(store)

    async def remove(team_id: str, app_name: str | None, actor: str) -> list[str]:
        raise AssertionError("the port must not be called")

    with pytest.raises(AppNotFound):
        await remove_workspace(
            store.db, store.keyring, "T0ONE", remove=remove, app="gamma", actor="cli"
        )


async def test_nothing_to_remove_is_a_workspace_not_found(store: Store) -> None:
    async def remove(team_id: str, app_name: str | None, actor: str) -> list[str]:
        raise LookupError(f"workspace {team_id} has no installation to remove")

    with pytest.raises(WorkspaceNotFound) as exc:
        await remove_workspace(store.db, store.keyring, "T0NONE", remove=remove, actor="cli")
    assert str(exc.value) == "workspace T0NONE has no installation to remove"
