"""A workspace installed before the app asked for the bridge's scopes is told what it lacks."""

from __future__ import annotations

from sqlalchemy import update

from slackbridge.store.models import InstallationRow, table_of
from tests.integration.gateway.api.conftest import ACME, ApiStack


async def test_workspace_lacking_bridge_scopes_shows_them_and_where_to_reinstall(
    stack: ApiStack,
) -> None:
    current = (await stack.api.get(f"/workspaces/{ACME}")).json()
    assert current["missing_scopes"] == [] and current["reinstall_url"] is None
    older = [s for s in current["scopes"] if s not in ("channels:manage", "groups:write")]
    table = table_of(InstallationRow)
    async with stack.gateway.gateway.db.transaction() as session:
        await session.execute(update(table).where(table.c.team_id == ACME).values(bot_scopes=older))
    answer = (await stack.api.get(f"/workspaces/{ACME}")).json()
    assert answer["missing_scopes"] == ["channels:manage", "groups:write"]
    assert answer["reinstall_url"] == f"{stack.gateway.url}/slack/install?team={ACME}"
    assert "channels:manage" in answer["reinstall_hint"]
    listed = (await stack.api.get("/workspaces")).json()["workspaces"]
    assert listed[0]["missing_scopes"] == ["channels:manage", "groups:write"]
