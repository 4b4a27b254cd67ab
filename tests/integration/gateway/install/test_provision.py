"""The manifest and provisioning the app from it (apps.manifest.create / update)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from slackbridge.cli import app as cli
from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.slack.workspaces.apps import apps_repo
from slackbridge.slack.workspaces.manifest import BOT_EVENTS
from slackbridge.slack.workspaces.provision import ProvisionError, provision_app
from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.apps import AppsRepository
from tests.support.servers import bind_loopback, serve_asgi
from tests.support.stack import EmulatorServer, GatewayServer


def _challenge_echo() -> Starlette:
    """Stands in for a deployed gateway: answers Slack's url_verification."""

    async def events(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"challenge": body["challenge"]})

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def test_manifest_command_output_is_accepted_by_apps_manifest_create(
    emulator: EmulatorServer,
) -> None:
    sock = bind_loopback()
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with serve_asgi(_challenge_echo(), sock=sock):
        result = CliRunner().invoke(
            cli, ["manifest", "--json"], env={"SLACKBRIDGE_PUBLIC_URL": public_url}
        )
        assert result.exit_code == 0, result.output
        manifest = json.loads(result.output)
        client = AsyncWebClient(token=emulator.configuration_token, base_url=emulator.api_url)
        answer = await client.apps_manifest_create(manifest=manifest)
    assert answer["ok"]
    created = emulator.state.apps[answer["app_id"]]
    assert created.event_request_url == public_url + "/slack/events"
    assert created.interactivity_url == public_url + "/slack/interactivity"
    assert [c.command for c in created.slash_commands] == ["/bridge"]
    assert created.slash_commands[0].url == public_url + "/slack/commands"
    assert created.redirect_urls == [public_url + "/slack/oauth/callback"]
    assert set(created.bot_events) == set(BOT_EVENTS)
    assert created.bot_scopes == SlackAppConfig().bot_scopes


def test_manifest_command_pretty_output_and_bad_settings() -> None:
    runner = CliRunner()
    pretty = runner.invoke(cli, ["manifest"], env={"SLACKBRIDGE_PUBLIC_URL": "https://b.example"})
    assert pretty.exit_code == 0
    assert "https://b.example/slack/events" in pretty.output
    assert "apps provision" in pretty.output
    unknown = runner.invoke(
        cli,
        ["manifest", "--app", "nope"],
        env={"SLACKBRIDGE_APPS": '[{"name": "alpha"}]'},
    )
    assert unknown.exit_code == 1
    assert "no app named 'nope'" in unknown.output
    bad = runner.invoke(
        cli,
        ["manifest"],
        env={"SLACKBRIDGE_APPS": '[{"name": "alpha", "slash_commands": ["bridge me"]}]'},
    )
    assert bad.exit_code == 1
    assert "slash command" in bad.output
    assert "Traceback" not in bad.output


async def test_provision_creates_the_app_and_stores_its_credentials(
    gateway: GatewayServer,
) -> None:
    result = await gateway.provision_result()
    assert result.created
    assert result.events_url_verified, result.warning
    emulated = gateway.emulator.state.apps[result.app.app_id]
    stored = await apps_repo(gateway.gateway).get_by_name("default")
    assert stored is not None
    assert (stored.client_id, stored.client_secret) == (emulated.client_id, emulated.client_secret)
    assert stored.signing_secret == emulated.signing_secret
    assert stored.verification_token == emulated.verification_token
    # The second step set the events URL, which the gateway verified.
    assert emulated.event_request_url == gateway.url + "/slack/events"
    assert len(gateway.emulator.calls_to("apps.manifest.create")) == 1
    assert len(gateway.emulator.calls_to("apps.manifest.update")) == 1


async def test_provision_again_updates_the_same_app(gateway: GatewayServer) -> None:
    first = await gateway.provision_result()
    second = await gateway.provision_result(bot_scopes=["chat:write", "commands"])
    assert not second.created
    assert second.app.app_id == first.app.app_id
    assert second.app.client_secret == first.app.client_secret
    assert len(gateway.emulator.state.apps) == 1
    assert gateway.emulator.state.apps[first.app.app_id].bot_scopes == ["chat:write", "commands"]
    assert second.app.bot_scopes == ("chat:write", "commands")


async def test_an_app_deleted_at_slack_is_created_again(gateway: GatewayServer) -> None:
    first = await gateway.provision_result()
    client = AsyncWebClient(
        token=gateway.emulator.configuration_token, base_url=gateway.emulator.api_url
    )
    await client.apps_manifest_delete(app_id=first.app.app_id)
    again = await gateway.provision_result()
    assert again.created
    assert again.app.app_id != first.app.app_id
    assert (await apps_repo(gateway.gateway).get_by_name("default")).app_id == again.app.app_id


async def test_a_bad_configuration_token_is_a_clear_error(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, slack_api_url=emulator.api_url, public_url="https://b.example"
    )
    db = open_database(settings.effective_database_url)
    try:
        await upgrade_database(db)
        keyring = Keyring.parse(generate_key())
        with pytest.raises(ProvisionError) as failure:
            await provision_app(db, keyring, settings, SlackAppConfig(), "xoxe.xoxp-1-wrong")
        assert failure.value.error == "invalid_auth"
        assert "configuration token" in str(failure.value)
        assert await AppsRepository(db, keyring).list() == []
    finally:
        await db.close()


async def test_without_a_running_gateway_the_credentials_are_kept_with_a_warning(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    sock = bind_loopback()  # a port nobody answers on
    settings = Settings(
        data_dir=tmp_path,
        slack_api_url=emulator.api_url,
        public_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
    )
    sock.close()
    db = open_database(settings.effective_database_url)
    try:
        await upgrade_database(db)
        keyring = Keyring.parse(generate_key())
        result = await provision_app(
            db, keyring, settings, SlackAppConfig(), emulator.configuration_token
        )
        assert result.created and not result.events_url_verified
        assert result.warning is not None and "slackbridge serve" in result.warning
        stored = await AppsRepository(db, keyring).get_by_name("default")
        assert stored is not None
        assert stored.signing_secret == emulator.state.apps[result.app.app_id].signing_secret
    finally:
        await db.close()


async def test_a_socket_mode_app_is_told_it_needs_an_app_level_token(
    gateway: GatewayServer,
) -> None:
    result = await gateway.provision_result("socket", socket_mode=True)
    assert result.created and result.events_url_verified
    assert gateway.emulator.state.apps[result.app.app_id].socket_mode
    assert result.warning is not None and "app-level token" in result.warning
    assert len(gateway.emulator.calls_to("apps.manifest.update")) == 0  # no URL to verify


async def test_provisioning_waits_out_slacks_rate_limit(gateway: GatewayServer) -> None:
    # Slack's Tier 1: here one update at once, then one a second (Retry-After: 1).
    gateway.emulator.state.rate_limiter.configure(
        {"apps.manifest.update": {"per_minute": 60, "burst": 1}}
    )
    first = await gateway.provision_result("one")
    second = await gateway.provision_result("two")
    assert first.events_url_verified and second.events_url_verified
    updates = gateway.emulator.calls_to("apps.manifest.update")
    assert len(updates) == 3  # one answered 429 and was made again after Retry-After
