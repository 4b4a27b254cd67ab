"""Pure parts of the install flow: the manifest, reading oauth.v2.access, outcome pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.slack.workspaces.install_result import (
    InstallAnswerError,
    installation_spec,
    outcome_page,
    scopes_of,
)
from slackbridge.slack.workspaces.manifest import (
    BOT_EVENTS,
    ManifestConfigError,
    build_manifest,
    display_name,
    redirect_uri,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _settings(**values: Any) -> Settings:
    return Settings(public_url="https://bridge.example.com/", **values)


def test_manifest_for_an_http_app() -> None:
    manifest = build_manifest(_settings(), SlackAppConfig())
    assert manifest["display_information"]["name"] == "slackbridge"
    assert manifest["features"]["bot_user"]["display_name"] == "slackbridge"
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/bridge"
    assert command["url"] == "https://bridge.example.com/slack/commands"
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://bridge.example.com/slack/oauth/callback"
    ]
    assert manifest["oauth_config"]["scopes"] == {"bot": SlackAppConfig().bot_scopes}
    signing_in = SlackAppConfig(redirect_urls=["https://product.example.com/console/callback"])
    assert build_manifest(_settings(), signing_in)["oauth_config"]["redirect_urls"] == [
        "https://bridge.example.com/slack/oauth/callback",
        "https://product.example.com/console/callback",
    ]
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == (
        "https://bridge.example.com/slack/events"
    )
    assert settings["event_subscriptions"]["bot_events"] == list(BOT_EVENTS)
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://bridge.example.com/slack/interactivity",
        "message_menu_options_url": "https://bridge.example.com/slack/interactivity",
    }
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_manifest_for_a_socket_mode_app_with_rotation_and_user_scopes() -> None:
    app = SlackAppConfig(
        name="sales",
        socket_mode=True,
        token_rotation=True,
        user_scopes=["search:read"],
        slash_commands=["/deal", "/quote"],
    )
    manifest = build_manifest(_settings(), app)
    assert manifest["display_information"]["name"] == "slackbridge sales"
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/deal", "/quote"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert manifest["oauth_config"]["scopes"]["user"] == ["search:read"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["token_rotation_enabled"] is True


def test_manifest_leaves_out_events_and_commands_without_their_scopes() -> None:
    app = SlackAppConfig(bot_scopes=["chat:write", "channels:history"])
    manifest = build_manifest(_settings(), app)
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert "message.channels" in events and "app_uninstalled" in events
    assert "message.im" not in events and "reaction_added" not in events
    assert "slash_commands" not in manifest["features"]  # no "commands" scope


@pytest.mark.parametrize("command", ["bridge", "/two words", "/a/b", "/" + "x" * 32])
def test_invalid_slash_commands_are_refused(command: str) -> None:
    with pytest.raises(ManifestConfigError, match="slash command"):
        build_manifest(_settings(), SlackAppConfig(slash_commands=[command]))


def test_duplicate_slash_commands_and_bad_public_url_are_refused() -> None:
    with pytest.raises(ManifestConfigError, match="twice"):
        build_manifest(_settings(), SlackAppConfig(slash_commands=["/a", "/A"]))
    with pytest.raises(ManifestConfigError, match="SLACKBRIDGE_PUBLIC_URL"):
        build_manifest(Settings(public_url="bridge.example.com"), SlackAppConfig())


def test_display_name_and_redirect_uri() -> None:
    assert display_name(SlackAppConfig(display_name="  Acme Helpdesk ")) == "Acme Helpdesk"
    assert len(display_name(SlackAppConfig(name="x" * 50))) == 35
    assert redirect_uri(_settings()) == "https://bridge.example.com/slack/oauth/callback"


def _answer(**overrides: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "ok": True,
        "access_token": "xoxb-1",
        "token_type": "bot",
        "scope": "chat:write,commands",
        "bot_user_id": "U0BOT",
        "app_id": "A0APP",
        "team": {"id": "T0ACME0001", "name": "Acme"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": "U0ALICE"},
    }
    answer.update(overrides)
    return answer


def test_reading_a_plain_install() -> None:
    spec = installation_spec(_answer(), app_ref=7, bot_id="B0BOT", product_ref="acct", now=NOW)
    assert (spec.app_ref, spec.team_id, spec.team_name) == (7, "T0ACME0001", "Acme")
    assert (spec.bot_token, spec.bot_user_id, spec.bot_id) == ("xoxb-1", "U0BOT", "B0BOT")
    assert spec.bot_scopes == ("chat:write", "commands")
    assert spec.bot_refresh_token is None and spec.bot_token_expires_at is None
    assert spec.installer_user_id == "U0ALICE" and spec.user_token is None
    assert spec.product_ref == "acct" and spec.enterprise_id is None
    assert spec.incoming_webhook_url is None


def test_reading_rotation_user_tokens_and_a_webhook() -> None:
    answer = _answer(
        access_token="xoxe.xoxb-1",
        refresh_token="xoxe-1-r",
        expires_in=43200,
        authed_user={
            "id": "U0ALICE",
            "scope": "search:read",
            "access_token": "xoxe.xoxp-1",
            "token_type": "user",
            "refresh_token": "xoxe-1-u",
            "expires_in": 600,
        },
        incoming_webhook={
            "url": "https://hooks.example/services/T/B/X",
            "channel": "#general",
            "channel_id": "C0GEN",
            "configuration_url": "https://acme.slack.com/services/B",
        },
    )
    spec = installation_spec(answer, app_ref=1, bot_id=None, product_ref=None, now=NOW)
    assert spec.bot_refresh_token == "xoxe-1-r"
    assert spec.bot_token_expires_at == NOW + timedelta(hours=12)
    assert spec.user_token is not None
    assert spec.user_token.token == "xoxe.xoxp-1"
    assert spec.user_token.refresh_token == "xoxe-1-u"
    assert spec.user_token.expires_at == NOW + timedelta(minutes=10)
    assert spec.user_token.scopes == ("search:read",)
    assert spec.incoming_webhook_url == "https://hooks.example/services/T/B/X"
    assert spec.incoming_webhook_channel_id == "C0GEN"


def test_reading_an_org_wide_install() -> None:
    answer = _answer(
        team=None, enterprise={"id": "E0GRID", "name": "Grid"}, is_enterprise_install=True
    )
    spec = installation_spec(answer, app_ref=1, bot_id=None, product_ref=None, now=NOW)
    assert spec.team_id is None
    assert (spec.enterprise_id, spec.enterprise_name) == ("E0GRID", "Grid")
    assert spec.is_enterprise_install


def test_reading_a_user_only_install() -> None:
    answer = _answer(
        access_token=None,
        token_type=None,
        scope=None,
        authed_user={"id": "U0ALICE", "access_token": "xoxp-1", "scope": "search:read"},
    )
    del answer["access_token"]
    spec = installation_spec(answer, app_ref=1, bot_id=None, product_ref=None, now=NOW)
    assert spec.bot_token is None and spec.bot_scopes == ()
    assert spec.user_token is not None and spec.user_token.token == "xoxp-1"


def test_unusable_answers_are_refused() -> None:
    with pytest.raises(InstallAnswerError, match="team"):
        installation_spec(_answer(team=None), app_ref=1, bot_id=None, product_ref=None, now=NOW)
    answer = _answer()
    del answer["access_token"]
    with pytest.raises(InstallAnswerError, match="token"):
        installation_spec(answer, app_ref=1, bot_id=None, product_ref=None, now=NOW)


def test_scopes_of() -> None:
    assert scopes_of("a,b, a,,c") == ("a", "b", "c")
    assert scopes_of(None) == ()


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("missing_state", 400),
        ("unknown", 400),
        ("expired", 410),
        ("used", 409),
        ("browser_mismatch", 403),
        ("access_denied", 403),
        ("slack_error", 502),
        ("slack_unreachable", 502),
        ("no_app", 503),
    ],
)
def test_outcome_pages(kind: str, status: int) -> None:
    page = outcome_page(kind)
    assert page.status == status and not page.ok
    assert page.heading and page.message


def test_an_unknown_failure_names_its_code() -> None:
    page = outcome_page("invalid_team_for_non_distributed_app")
    assert page.status == 502
    assert page.code == "invalid_team_for_non_distributed_app"
