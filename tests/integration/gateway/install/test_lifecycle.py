"""A workspace after install: token death, uninstall, revoked user tokens, removal, identity."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from slackbridge.slack.workspaces.lifecycle import (
    audit_repo,
    installations_repo,
    own_identity,
    remove_workspace,
    revoke_user_tokens,
    uninstall,
)
from slackbridge.slack.workspaces.tokens import (
    WorkspaceUnavailable,
    bot_token,
    call_as_bot,
    report_token_error,
    user_token,
)
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.stack import GatewayServer, browser, install_via_browser

ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"
# Only this parts: no ingress, so Slack's own events (tokens_revoked, app_uninstalled)
# can't change a workspace's status while a test looks at it.
INSTALL_PARTS = (
    "slackbridge.slack.workspaces.apps",
    "slackbridge.slack.workspaces.oauth",
    "slackbridge.slack.workspaces.tokens",
)


@pytest.fixture
async def gw(gateway_factory: GatewayFactory) -> GatewayServer:
    return await gateway_factory(parts=INSTALL_PARTS)


async def _install(gw: GatewayServer, team: str, user: str, app: str | None = None) -> None:
    async with browser() as b:
        page = await install_via_browser(b, gw, team, user, app=app)
    assert page.status_code == 200, page.text


async def _actions(gw: GatewayServer, team: str) -> list[str]:
    return [e.action for e in await audit_repo(gw.gateway).list(team_id=team)]


async def test_a_revoked_token_marks_the_workspace_disconnected(gw: GatewayServer) -> None:
    app = await gw.provision()
    await _install(gw, ACME, ALICE)
    creds = await bot_token(gw.gateway, ACME)
    assert (await call_as_bot(gw.gateway, ACME, "auth.test"))["team_id"] == ACME
    # An admin revokes the token in Slack.
    await gw.gateway.slack_client(creds.token).auth_revoke()

    with pytest.raises(WorkspaceUnavailable) as failure:
        await call_as_bot(gw.gateway, ACME, "auth.test")
    assert failure.value.status == "disconnected"
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.status == "disconnected"
    assert inst.last_error in ("token_revoked", "invalid_auth")
    # Calls stop: no token is handed out any more, and Slack is not asked again.
    calls = len(gw.emulator.calls)
    with pytest.raises(WorkspaceUnavailable, match="reinstall"):
        await bot_token(gw.gateway, ACME)
    assert len(gw.emulator.calls) == calls
    (entry, *_rest) = await audit_repo(gw.gateway).list(team_id=ACME)
    assert entry.action == "workspace.disconnected"
    assert entry.detail["app"] == app.name

    # Reporting the same death again changes nothing.
    assert await report_token_error(gw.gateway, ACME, app.app_id, "invalid_auth") is True
    assert (await _actions(gw, ACME)).count("workspace.disconnected") == 1

    # A reinstall brings it back.
    await _install(gw, ACME, ALICE)
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.status == "active" and inst.last_error is None
    assert (await call_as_bot(gw.gateway, ACME, "auth.test"))["ok"]


async def test_only_token_death_errors_count(gw: GatewayServer) -> None:
    app = await gw.provision()
    await _install(gw, ACME, ALICE)
    for error in ("channel_not_found", "ratelimited", "missing_scope", ""):
        assert await report_token_error(gw.gateway, ACME, app.app_id, error) is False
    with pytest.raises(SlackApiError):
        await call_as_bot(gw.gateway, ACME, "conversations.info", channel="C_NOPE")
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.status == "active"
    for error in ("invalid_auth", "account_inactive", "token_revoked", "token_expired"):
        assert await report_token_error(gw.gateway, GLOBEX, app.app_id, error) is True


async def test_token_death_of_one_app_leaves_the_other_alone(gw: GatewayServer) -> None:
    alpha = await gw.provision("alpha")
    beta = await gw.provision("beta")
    await _install(gw, ACME, ALICE, "alpha")
    await _install(gw, ACME, ALICE, "beta")
    # Ambiguous (two apps, no app id): nothing is marked.
    assert await report_token_error(gw.gateway, ACME, None, "invalid_auth") is True
    assert {i.status for i in await installations_repo(gw.gateway).list()} == {"active"}
    assert await report_token_error(gw.gateway, ACME, beta.app_id, "invalid_auth") is True
    with pytest.raises(WorkspaceUnavailable):
        await bot_token(gw.gateway, ACME, app_id=beta.app_id)
    assert (await bot_token(gw.gateway, ACME, app_id=alpha.app_id)).app_id == alpha.app_id
    # Without an app id, the live installation serves.
    assert (await bot_token(gw.gateway, ACME)).app_id == alpha.app_id


async def test_uninstall_deletes_tokens_once(gw: GatewayServer) -> None:
    app = await gw.provision("people", user_scopes=["search:read"])
    await _install(gw, ACME, ALICE)
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.bot_token and await user_token(gw.gateway, ACME, ALICE)

    assert await uninstall(gw.gateway, ACME, app.app_id, None, "app_uninstalled") is True
    (after,) = await installations_repo(gw.gateway).list()
    assert after.status == "uninstalled"
    assert after.bot_token is None and after.bot_refresh_token is None
    assert await installations_repo(gw.gateway).list_user_tokens(inst.id) == []
    with pytest.raises(WorkspaceUnavailable) as failure:
        await bot_token(gw.gateway, ACME)
    assert failure.value.status == "uninstalled"
    assert await uninstall(gw.gateway, ACME, app.app_id, None, "app_uninstalled") is False
    assert (await _actions(gw, ACME)).count("workspace.uninstalled") == 1
    assert await uninstall(gw.gateway, "T_UNKNOWN", None, None, "app_uninstalled") is False


async def test_revoked_user_tokens_are_forgotten(gw: GatewayServer) -> None:
    await gw.provision("people", user_scopes=["search:read"])
    await _install(gw, ACME, ALICE)
    await _install(gw, ACME, BOB)
    assert await revoke_user_tokens(gw.gateway, ACME, None, [ALICE]) == 1
    assert await user_token(gw.gateway, ACME, ALICE) is None
    assert await user_token(gw.gateway, ACME, BOB) is not None
    assert await revoke_user_tokens(gw.gateway, ACME, None, [ALICE]) == 0
    assert await revoke_user_tokens(gw.gateway, ACME, None, []) == 0
    # The bot keeps working.
    assert (await bot_token(gw.gateway, ACME)).token


async def test_remove_revokes_at_slack_and_keeps_an_audit_row(gw: GatewayServer) -> None:
    await gw.provision("people", user_scopes=["search:read"])
    await _install(gw, ACME, ALICE)
    await _install(gw, GLOBEX, ERIN)
    creds = await bot_token(gw.gateway, ACME)
    person = await user_token(gw.gateway, ACME, ALICE)
    assert person is not None

    (result,) = await remove_workspace(gw.gateway, ACME, actor="test")
    assert result.revoked and result.user_tokens_revoked == 1
    assert gw.emulator.state.tokens[creds.token].revoked
    assert gw.emulator.state.tokens[person.token].revoked
    assert len(gw.emulator.calls_to("auth.revoke")) == 2
    acme = (await installations_repo(gw.gateway).list(team_id=ACME))[0]
    assert acme.status == "removed" and acme.bot_token is None
    (entry, *_rest) = await audit_repo(gw.gateway).list(team_id=ACME)
    assert entry.action == "workspace.removed"
    assert entry.actor == "test"
    assert entry.detail["revoked_at_slack"] is True
    # Globex is untouched; removing Acme again finds nothing.
    assert (await bot_token(gw.gateway, GLOBEX)).team_id == GLOBEX
    with pytest.raises(LookupError):
        await remove_workspace(gw.gateway, ACME)


async def test_remove_still_removes_when_slack_refuses_the_revoke(gw: GatewayServer) -> None:
    await gw.provision()
    await _install(gw, ACME, ALICE)
    creds = await bot_token(gw.gateway, ACME)
    await gw.gateway.slack_client(creds.token).auth_revoke()  # already dead at Slack
    (result,) = await remove_workspace(gw.gateway, ACME)
    assert not result.revoked
    assert result.revoke_error in ("token_revoked", "invalid_auth")
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.status == "removed" and inst.bot_token is None


async def test_own_identity_names_our_bots_and_apps(gw: GatewayServer) -> None:
    alpha = await gw.provision("alpha")
    beta = await gw.provision("beta")
    await _install(gw, ACME, ALICE, "alpha")
    await _install(gw, ACME, ALICE, "beta")
    await _install(gw, GLOBEX, ERIN, "alpha")
    state = gw.emulator.state
    identity = await own_identity(gw.gateway, ACME)
    acme = [state.installations[(a.app_id, ACME)] for a in (alpha, beta)]
    assert identity.bot_ids == {i.bot_id for i in acme}
    assert identity.bot_user_ids == {i.bot_user_id for i in acme}
    assert identity.app_ids == {alpha.app_id, beta.app_id}
    assert identity.authored({"bot_id": acme[0].bot_id})
    assert not identity.authored({"user": ALICE})
    globex = await own_identity(gw.gateway, GLOBEX)
    assert globex.bot_ids == {state.installations[(alpha.app_id, GLOBEX)].bot_id}
