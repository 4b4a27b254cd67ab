from __future__ import annotations

import json
from typing import Any

import pytest

from slackbridge.emulator.manifest import (
    apply_manifest,
    create_app,
    export_manifest,
    parse_manifest,
)
from slackbridge.emulator.state import EmulatorState


def _manifest(**settings: Any) -> dict[str, Any]:
    return {
        "display_information": {"name": "Helpdesk"},
        "features": {
            "bot_user": {"display_name": "helpdesk"},
            "slash_commands": [
                {
                    "command": "/ticket",
                    "url": "https://example.test/slack/commands",
                    "description": "Open a ticket",
                    "usage_hint": "[summary]",
                }
            ],
        },
        "oauth_config": {
            "redirect_urls": ["https://example.test/slack/oauth/callback"],
            "scopes": {
                "bot": ["channels:history", "chat:write", "commands"],
                "user": ["search:read"],
            },
        },
        "settings": {
            "event_subscriptions": {
                "request_url": "https://example.test/slack/events",
                "bot_events": ["message.channels"],
            },
            "interactivity": {
                "is_enabled": True,
                "request_url": "https://example.test/slack/interactivity",
                "message_menu_options_url": "https://example.test/slack/options",
            },
            "token_rotation_enabled": True,
            **settings,
        },
    }


def test_parses_every_part_the_emulator_uses() -> None:
    parsed, errors = parse_manifest(_manifest())
    assert errors == []
    assert parsed is not None
    assert parsed.name == "Helpdesk"
    assert parsed.bot_display_name == "helpdesk"
    assert [(c.command, c.url, c.usage_hint) for c in parsed.slash_commands] == [
        ("/ticket", "https://example.test/slack/commands", "[summary]")
    ]
    assert parsed.redirect_urls == ["https://example.test/slack/oauth/callback"]
    assert parsed.bot_scopes == ["channels:history", "chat:write", "commands"]
    assert parsed.user_scopes == ["search:read"]
    assert parsed.event_request_url == "https://example.test/slack/events"
    assert parsed.bot_events == ["message.channels"]
    assert parsed.interactivity_url == "https://example.test/slack/interactivity"
    assert parsed.options_load_url == "https://example.test/slack/options"
    assert parsed.token_rotation is True
    assert parsed.socket_mode is False


def test_accepts_a_json_string() -> None:
    parsed, errors = parse_manifest(json.dumps(_manifest()))
    assert errors == [] and parsed is not None and parsed.name == "Helpdesk"


@pytest.mark.parametrize(
    ("mutate", "pointer", "message_part"),
    [
        (lambda m: m.pop("display_information"), "/", "display_information"),
        (lambda m: m["display_information"].pop("name"), "/display_information", "'name'"),
        (
            lambda m: m["settings"]["event_subscriptions"].pop("request_url"),
            "/settings/event_subscriptions",
            "Request URL or Socket Mode",
        ),
        (
            lambda m: m["settings"]["interactivity"].pop("request_url"),
            "/settings/interactivity",
            "Interactivity requires a Request URL",
        ),
        (
            lambda m: m["oauth_config"]["scopes"].update(bot=["chat:write"]),
            "/settings/event_subscriptions/bot_events/0",
            "channels:history",
        ),
        (
            lambda m: m["features"]["slash_commands"][0].update(command="ticket"),
            "/features/slash_commands/0/command",
            "slash",
        ),
        (
            lambda m: m["oauth_config"].update(redirect_urls=["not a url"]),
            "/oauth_config/redirect_urls/0",
            "uri",
        ),
        (
            lambda m: m["oauth_config"].update(redirect_urls=["http://[::1/cb"]),
            "/oauth_config/redirect_urls/0",
            "uri",
        ),
        (
            lambda m: m["settings"]["event_subscriptions"].update(request_url="http://a.test:x/"),
            "/settings/event_subscriptions/request_url",
            "uri",
        ),
        (
            lambda m: m["settings"]["interactivity"].update(request_url="https://a.test:70000/"),
            "/settings/interactivity/request_url",
            "uri",
        ),
        (lambda m: m.update(extra=1), "/extra", "additional properties"),
        (
            lambda m: m["features"].pop("bot_user"),
            "/features/bot_user",
            "bot user is required",
        ),
    ],
)
def test_reports_errors_with_pointers(mutate: Any, pointer: str, message_part: str) -> None:
    manifest = _manifest()
    mutate(manifest)
    parsed, errors = parse_manifest(manifest)
    assert parsed is None
    assert any(e.pointer == pointer and message_part in e.message for e in errors), errors


def test_socket_mode_needs_no_urls() -> None:
    manifest = _manifest(socket_mode_enabled=True)
    del manifest["settings"]["event_subscriptions"]["request_url"]
    del manifest["settings"]["interactivity"]["request_url"]
    del manifest["features"]["slash_commands"][0]["url"]
    parsed, errors = parse_manifest(manifest)
    assert errors == [] and parsed is not None and parsed.socket_mode


def test_rejects_non_objects() -> None:
    assert parse_manifest("{nope")[1][0].pointer == "/"
    assert parse_manifest([1, 2])[1][0].message == "must be object"


def test_create_and_update_an_app() -> None:
    state = EmulatorState()
    parsed, _ = parse_manifest(_manifest())
    assert parsed is not None
    app = create_app(state, parsed, "T1")
    assert state.apps[app.id] is app
    assert app.id.startswith("A")
    assert app.client_id != app.client_secret and "." in app.client_id
    assert len(app.verification_token) == 24
    assert app.slash_commands[0].command == "/ticket"

    same, _ = parse_manifest(_manifest())
    assert same is not None
    assert apply_manifest(app, same) is False
    changed = _manifest()
    changed["oauth_config"]["scopes"]["bot"].append("reactions:read")
    reparsed, _ = parse_manifest(changed)
    assert reparsed is not None
    assert apply_manifest(app, reparsed) is True
    assert "reactions:read" in app.bot_scopes
    assert export_manifest(app)["_metadata"] == {"major_version": 1, "minor_version": 1}
