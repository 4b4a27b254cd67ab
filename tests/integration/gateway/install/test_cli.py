"""``slackbridge apps …`` and ``slackbridge workspaces …`` against a running gateway's store."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from click.testing import Result
from sqlalchemy import update
from typer.testing import CliRunner

from slackbridge.cli import app as cli
from slackbridge.slack.workspaces.lifecycle import audit_repo, installations_repo
from slackbridge.store.models import InstallationRow, table_of
from tests.support.stack import GatewayServer, browser, install_via_browser

ACME, ALICE = "T0ACME0001", "U0ACME0001"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"


async def _cli(gw: GatewayServer, *args: str, token: bool = True, stdin: str = "") -> Result:
    """Run the CLI in a thread (it runs its own event loop) with the gateway's settings."""
    env = {
        "COLUMNS": "200",  # wide enough that Rich tables keep each value on one line
        "SLACKBRIDGE_DATA_DIR": str(gw.settings.data_dir),
        "SLACKBRIDGE_PUBLIC_URL": gw.url,
        "SLACKBRIDGE_SLACK_API_URL": gw.emulator.api_url,
        "SLACKBRIDGE_SLACK_URL": gw.emulator.url,
        "SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN": gw.emulator.configuration_token if token else "",
    }
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli, list(args), env=env, input=stdin)


async def _install(gw: GatewayServer, team: str, user: str) -> None:
    async with browser() as b:
        page = await install_via_browser(b, gw, team, user, ref=f"acct-{team}")
    assert page.status_code == 200, page.text


async def test_apps_provision_creates_then_updates(gateway: GatewayServer) -> None:
    first = await _cli(gateway, "apps", "provision")
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "verified" in first.output
    (emulated,) = gateway.emulator.state.apps.values()
    assert emulated.id in first.output
    second = await _cli(gateway, "apps", "provision", "--app", "default")
    assert second.exit_code == 0, second.output
    assert "updated" in second.output
    assert len(gateway.emulator.state.apps) == 1

    listed = await _cli(gateway, "apps", "list")
    assert listed.exit_code == 0, listed.output
    assert emulated.id in listed.output and "client, signing" in listed.output
    for secret in (emulated.client_secret, emulated.signing_secret, emulated.verification_token):
        assert secret not in first.output + second.output + listed.output


async def test_apps_provision_needs_a_configuration_token(gateway: GatewayServer) -> None:
    missing = await _cli(gateway, "apps", "provision", token=False)
    assert missing.exit_code == 1
    assert "no configuration token" in missing.output
    assert "--configuration-token" in missing.output
    wrong = await _cli(
        gateway, "apps", "provision", "--configuration-token", "xoxe.xoxp-1-nope", token=False
    )
    assert wrong.exit_code == 1
    assert "invalid_auth" in wrong.output
    assert "Traceback" not in wrong.output
    assert gateway.emulator.state.apps == {}


async def test_apps_list_when_empty(gateway: GatewayServer) -> None:
    empty = await _cli(gateway, "apps", "list")
    assert empty.exit_code == 0
    assert "apps provision" in empty.output


async def test_workspaces_list(gateway: GatewayServer, gateway_app: Any) -> None:
    empty = await _cli(gateway, "workspaces", "list")
    assert empty.exit_code == 0 and "No workspace yet" in empty.output
    await _install(gateway, ACME, ALICE)
    await _install(gateway, GLOBEX, ERIN)
    as_json = await _cli(gateway, "workspaces", "list", "--json")
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)
    assert [(r["team_id"], r["app"], r["status"], r["ref"]) for r in rows] == [
        (ACME, "default", "active", f"acct-{ACME}"),
        (GLOBEX, "default", "active", f"acct-{GLOBEX}"),
    ]
    assert "chat:write" in rows[0]["scopes"]
    assert rows[0]["installed_at"] and rows[0]["last_error"] is None
    assert rows[0]["missing_scopes"] == [] and rows[0]["reinstall_hint"] is None
    table = await _cli(gateway, "workspaces", "list")
    assert table.exit_code == 0
    assert "T0ACME0001 (Acme)" in table.output and "active" in table.output
    # Installed before the app asked for more: the lacking scopes and how to fix it.
    inst = table_of(InstallationRow)
    async with gateway.gateway.db.transaction() as session:
        await session.execute(
            update(inst).where(inst.c.team_id == ACME).values(bot_scopes=["chat:write"])
        )
    rows = json.loads((await _cli(gateway, "workspaces", "list", "--json")).output)
    assert "channels:manage" in rows[0]["missing_scopes"]
    assert rows[0]["reinstall_url"] is None  # its install carries a ref: a signed link is needed
    assert "install-link" in rows[0]["reinstall_hint"]
    table = await _cli(gateway, "workspaces", "list")
    assert "reinstalls it" in table.output
    unknown = await _cli(gateway, "workspaces", "list", "--app", "nope")
    assert unknown.exit_code == 1 and "no Slack app named 'nope'" in unknown.output


async def test_workspaces_remove(gateway: GatewayServer, gateway_app: Any) -> None:
    await _install(gateway, ACME, ALICE)
    token = gateway.emulator.state.installations[(gateway_app.app_id, ACME)].bot_token

    declined = await _cli(gateway, "workspaces", "remove", ACME, stdin="n\n")
    assert declined.exit_code == 1
    assert "Nothing removed" in declined.output
    (inst,) = await installations_repo(gateway.gateway).list()
    assert inst.status == "active"

    removed = await _cli(gateway, "workspaces", "remove", ACME, "--yes")
    assert removed.exit_code == 0, removed.output
    assert "Removed" in removed.output and "revoked" in removed.output
    (inst,) = await installations_repo(gateway.gateway).list()
    assert inst.status == "removed" and inst.bot_token is None
    assert gateway.emulator.state.tokens[token].revoked
    (entry, *_rest) = await audit_repo(gateway.gateway).list(team_id=ACME)
    assert (entry.action, entry.actor) == ("workspace.removed", "cli")

    again = await _cli(gateway, "workspaces", "remove", ACME, "--yes")
    assert again.exit_code == 1
    assert "no installation" in again.output
    listed = json.loads((await _cli(gateway, "workspaces", "list", "--json")).output)
    assert listed[0]["status"] == "removed"


async def test_install_link_prints_a_signed_link(gateway: GatewayServer, gateway_app: Any) -> None:
    made = await _cli(gateway, "workspaces", "install-link", "acct-cli", "--team", ACME)
    assert made.exit_code == 0, made.output
    url = made.output.splitlines()[0]
    assert url.startswith(gateway.url + "/slack/install?ref=acct-cli&team=" + ACME + "&expires=")
    assert "Valid until" in made.output
    async with browser() as b:
        assert (await b.get(url)).status_code == 302  # the gateway takes it
    for args, message in [
        (("install-link", "a", "--team", "nope"), "not a Slack workspace id"),
        (("install-link", "a", "--ttl", "5"), "--ttl must be between"),
        (("install-link", "a", "--app", "nope"), "no Slack app named"),
    ]:
        refused = await _cli(gateway, "workspaces", *args)
        assert refused.exit_code == 1, refused.output
        assert message in refused.output
        assert "Traceback" not in refused.output
