"""The Slack app manifest for this deployment (``slackbridge manifest``, ``apps provision``).

Everything is derived from the settings: the request URLs from ``SLACKBRIDGE_PUBLIC_URL``, the
scopes, slash commands, Socket Mode and token rotation from the app's configuration. Bot events
are every event the ingress turns into webhooks, minus those whose scope the app does not ask for
(Slack refuses a manifest that subscribes to an event without its scope).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from slackbridge.settings import Settings, SlackAppConfig

__all__ = [
    "BOT_EVENTS",
    "COMMANDS_PATH",
    "EVENTS_PATH",
    "INTERACTIVITY_PATH",
    "REDIRECT_PATH",
    "ManifestConfigError",
    "build_manifest",
    "display_name",
    "manifest_json",
    "redirect_uri",
]

EVENTS_PATH = "/slack/events"
INTERACTIVITY_PATH = "/slack/interactivity"
COMMANDS_PATH = "/slack/commands"
REDIRECT_PATH = "/slack/oauth/callback"

#: Bot events the gateway subscribes to, each with the scopes of which one is needed (an empty
#: tuple: no scope needed). The order is the order in the manifest.
BOT_EVENTS: dict[str, tuple[str, ...]] = {
    "app_mention": ("app_mentions:read",),
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "message.mpim": ("mpim:history",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "member_joined_channel": ("channels:read", "groups:read"),
    # The conversation bridge: a noisy channel archived in Slack closes its conversation, and
    # a changed profile refreshes the names and avatars posts are made under.
    "channel_archive": ("channels:read",),
    "channel_unarchive": ("channels:read",),
    "group_archive": ("groups:read",),
    "group_unarchive": ("groups:read",),
    "user_change": ("users:read",),
    "app_home_opened": (),
    "app_uninstalled": (),
    "tokens_revoked": (),
}

_COMMAND_RE = re.compile(r"^/[^\s/]{1,31}$")
_MAX_NAME = 35


class ManifestConfigError(ValueError):
    """The app's configuration can't make a valid manifest; the message says what to change."""


def display_name(app: SlackAppConfig) -> str:
    """The app's name in Slack: ``display_name``, else ``slackbridge`` for the default app, else
    ``slackbridge <name>``, cut to Slack's 35 characters."""
    if app.display_name:
        name = app.display_name.strip()
    elif app.name == "default":
        name = "slackbridge"
    else:
        name = f"slackbridge {app.name}"
    return name[:_MAX_NAME]


def redirect_uri(settings: Settings) -> str:
    """Where Slack sends the browser back after consent."""
    return _url(settings, REDIRECT_PATH)


def _url(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


def _commands(settings: Settings, app: SlackAppConfig, name: str) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = []
    seen: set[str] = set()
    for command in app.slash_commands:
        if not _COMMAND_RE.match(command):
            raise ManifestConfigError(
                f"slash command {command!r} of app {app.name!r} is not valid: it must start with "
                "'/' and have 1 to 31 characters without spaces (for example /bridge)"
            )
        if command.lower() in seen:
            raise ManifestConfigError(f"slash command {command} is listed twice for {app.name!r}")
        seen.add(command.lower())
        entry: dict[str, Any] = {
            "command": command,
            "description": f"Talk to {name}",
            "usage_hint": "[text]",
            "should_escape": False,
        }
        if not app.socket_mode:
            entry["url"] = _url(settings, COMMANDS_PATH)
        commands.append(entry)
    return commands


def build_manifest(settings: Settings, app: SlackAppConfig) -> dict[str, Any]:
    """The manifest (JSON object) for ``app`` as deployed with ``settings``."""
    if not settings.public_url.startswith(("http://", "https://")) and not app.socket_mode:
        raise ManifestConfigError(
            f"SLACKBRIDGE_PUBLIC_URL={settings.public_url!r} is not an http(s) URL; set it to the "
            "address Slack can reach this gateway at (for example https://bridge.example.com)"
        )
    name = display_name(app)
    bot_scopes = list(dict.fromkeys(app.bot_scopes))
    user_scopes = list(dict.fromkeys(app.user_scopes))
    events = [
        event
        for event, needs in BOT_EVENTS.items()
        if not needs or any(scope in bot_scopes for scope in needs)
    ]
    features: dict[str, Any] = {
        "app_home": {"home_tab_enabled": False, "messages_tab_enabled": True},
        "bot_user": {"display_name": name, "always_online": True},
    }
    commands = _commands(settings, app, name) if "commands" in bot_scopes else []
    if commands:
        features["slash_commands"] = commands
    event_subscriptions: dict[str, Any] = {"bot_events": events}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not app.socket_mode:
        event_subscriptions = {"request_url": _url(settings, EVENTS_PATH), **event_subscriptions}
        interactivity["request_url"] = _url(settings, INTERACTIVITY_PATH)
        # External selects ask for their options here (block_suggestion), same route.
        interactivity["message_menu_options_url"] = _url(settings, INTERACTIVITY_PATH)
    scopes: dict[str, list[str]] = {"bot": bot_scopes}
    if user_scopes:
        scopes["user"] = user_scopes
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Connects this workspace to our product through slackbridge.",
        },
        "features": features,
        "oauth_config": {"redirect_urls": [redirect_uri(settings)], "scopes": scopes},
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": app.socket_mode,
            "token_rotation_enabled": app.token_rotation,
        },
    }


def manifest_json(manifest: dict[str, Any]) -> str:
    """The manifest as indented JSON, ready to paste into Slack's "create from manifest"."""
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode()
