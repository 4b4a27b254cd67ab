"""Slack app manifests: parsing, validation in Slack's error shape, and applying one to an app.

Only the JSON form is accepted (``apps.manifest.*`` take a JSON object, or a JSON string of one).
Validation errors come back as ``[{"message", "pointer"}]`` with JSON pointers into the manifest,
as Slack answers ``invalid_manifest``.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from slackbridge.emulator.metadata import subscriptions_of
from slackbridge.emulator.state import App, EmulatorState, SlashCommand

__all__ = [
    "EVENT_SCOPES",
    "ManifestError",
    "ParsedManifest",
    "apply_manifest",
    "create_app",
    "export_manifest",
    "is_http_url",
    "parse_manifest",
]

# The scope an event subscription needs (any one of the listed scopes).
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "message.channels": ("channels:history",),
    "message.groups": ("groups:history",),
    "message.im": ("im:history",),
    "message.mpim": ("mpim:history",),
    "app_mention": ("app_mentions:read",),
    "reaction_added": ("reactions:read",),
    "reaction_removed": ("reactions:read",),
    "member_joined_channel": ("channels:read", "groups:read"),
    "member_left_channel": ("channels:read", "groups:read"),
    "channel_created": ("channels:read",),
    "channel_rename": ("channels:read",),
    "channel_unarchive": ("channels:read",),
    "group_rename": ("groups:read",),
    "pin_added": ("pins:read",),
    "pin_removed": ("pins:read",),
    "assistant_thread_started": ("assistant:write",),
    "assistant_thread_context_changed": ("assistant:write",),
    "file_shared": ("files:read",),
    "team_join": ("users:read",),
    "user_change": ("users:read",),
    "message_metadata_posted": ("metadata.message:read",),
    "message_metadata_updated": ("metadata.message:read",),
    "message_metadata_deleted": ("metadata.message:read",),
}

_TOP_LEVEL = {"_metadata", "display_information", "features", "oauth_config", "settings"}
_SCOPE_RE = re.compile(r"^[a-z]+(?:[._:-][a-z]+)*$")
_COMMAND_RE = re.compile(r"^/[^\s/]{1,31}$")


@dataclass
class ManifestError:
    message: str
    pointer: str

    def as_dict(self) -> dict[str, str]:
        return {"message": self.message, "pointer": self.pointer}


@dataclass
class ParsedManifest:
    """The parts of a manifest the emulator acts on."""

    raw: dict[str, Any]
    name: str
    bot_display_name: str | None
    slash_commands: list[SlashCommand] = field(default_factory=list)
    redirect_urls: list[str] = field(default_factory=list)
    bot_scopes: list[str] = field(default_factory=list)
    user_scopes: list[str] = field(default_factory=list)
    event_request_url: str | None = None
    bot_events: list[str] = field(default_factory=list)
    user_events: list[str] = field(default_factory=list)
    interactivity_url: str | None = None
    options_load_url: str | None = None
    socket_mode: bool = False
    token_rotation: bool = False
    org_deploy: bool = False


class _Checker:
    """Collects errors while reading typed values out of the manifest."""

    def __init__(self) -> None:
        self.errors: list[ManifestError] = []

    def error(self, pointer: str, message: str) -> None:
        self.errors.append(ManifestError(message, pointer or "/"))

    def obj(self, parent: dict[str, Any], key: str, pointer: str) -> dict[str, Any]:
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(f"{pointer}/{key}", "must be object")
            return {}
        return value

    def string(
        self, parent: dict[str, Any], key: str, pointer: str, *, required: bool = False
    ) -> str | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.error(pointer, f"must have required property '{key}'")
            return None
        if not isinstance(value, str):
            self.error(f"{pointer}/{key}", "must be string")
            return None
        return value

    def boolean(self, parent: dict[str, Any], key: str, pointer: str) -> bool:
        value = parent.get(key, False)
        if not isinstance(value, bool):
            self.error(f"{pointer}/{key}", "must be boolean")
            return False
        return value

    def strings(self, parent: dict[str, Any], key: str, pointer: str) -> list[str]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(f"{pointer}/{key}", "must be array")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.error(f"{pointer}/{key}/{i}", "must be string")
        return out

    def url(self, value: str | None, pointer: str) -> str | None:
        if value is None:
            return None
        if not is_http_url(value):
            self.error(pointer, 'must match format "uri"')
            return None
        return value


def is_http_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL with a host and, if any, a valid port."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError:  # e.g. "http://[::1" or "http://host:abc/"
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _load(manifest: Any) -> tuple[dict[str, Any] | None, list[ManifestError]]:
    if isinstance(manifest, str):
        try:
            manifest = json.loads(manifest)
        except ValueError:
            return None, [ManifestError("Manifest is not valid JSON", "/")]
    if not isinstance(manifest, dict):
        return None, [ManifestError("must be object", "/")]
    return manifest, []


def parse_manifest(manifest: Any) -> tuple[ParsedManifest | None, list[ManifestError]]:
    """Parse and validate ``manifest`` (a dict or a JSON string); errors are Slack-shaped."""
    raw, load_errors = _load(manifest)
    if raw is None:
        return None, load_errors
    c = _Checker()
    for key in raw:
        if key not in _TOP_LEVEL:
            c.error(f"/{key}", "must NOT have additional properties")

    display = c.obj(raw, "display_information", "")
    if "display_information" not in raw:
        c.error("/", "must have required property 'display_information'")
    name = c.string(display, "name", "/display_information", required="display_information" in raw)
    if name is not None and not 1 <= len(name.strip()) <= 35:
        c.error("/display_information/name", "must NOT have more than 35 characters")

    features = c.obj(raw, "features", "")
    bot_user = c.obj(features, "bot_user", "/features")
    bot_display_name = None
    if "bot_user" in features:
        bot_display_name = c.string(bot_user, "display_name", "/features/bot_user", required=True)
        if bot_display_name is not None and not 1 <= len(bot_display_name) <= 80:
            c.error("/features/bot_user/display_name", "must NOT have more than 80 characters")

    settings = c.obj(raw, "settings", "")
    socket_mode = c.boolean(settings, "socket_mode_enabled", "/settings")
    token_rotation = c.boolean(settings, "token_rotation_enabled", "/settings")
    org_deploy = c.boolean(settings, "org_deploy_enabled", "/settings")

    commands = _slash_commands(c, features, socket_mode)

    oauth = c.obj(raw, "oauth_config", "")
    redirect_urls = [
        u
        for i, u in enumerate(c.strings(oauth, "redirect_urls", "/oauth_config"))
        if c.url(u, f"/oauth_config/redirect_urls/{i}")
    ]
    scopes = c.obj(oauth, "scopes", "/oauth_config")
    bot_scopes = _scopes(c, scopes, "bot")
    user_scopes = _scopes(c, scopes, "user")
    if bot_scopes and "bot_user" not in features:
        c.error("/features/bot_user", "A bot user is required when bot scopes are requested")

    events = c.obj(settings, "event_subscriptions", "/settings")
    ev_ptr = "/settings/event_subscriptions"
    event_url = c.url(c.string(events, "request_url", ev_ptr), f"{ev_ptr}/request_url")
    bot_events = c.strings(events, "bot_events", ev_ptr)
    user_events = c.strings(events, "user_events", ev_ptr)
    if "event_subscriptions" in settings and not event_url and not socket_mode:
        c.error(ev_ptr, "Event Subscription requires either Request URL or Socket Mode Enabled")
    _check_event_scopes(c, bot_events, bot_scopes, f"{ev_ptr}/bot_events", "bot")
    _check_event_scopes(c, user_events, user_scopes, f"{ev_ptr}/user_events", "user")

    inter = c.obj(settings, "interactivity", "/settings")
    in_ptr = "/settings/interactivity"
    enabled = c.boolean(inter, "is_enabled", in_ptr)
    inter_url = c.url(c.string(inter, "request_url", in_ptr), f"{in_ptr}/request_url")
    options_url = c.url(
        c.string(inter, "message_menu_options_url", in_ptr), f"{in_ptr}/message_menu_options_url"
    )
    if enabled and not inter_url and not socket_mode:
        c.error(in_ptr, "Interactivity requires a Request URL")
    _check_features_need(c, features, bot_scopes, interactive=enabled)
    if options_url and not enabled:
        c.error(in_ptr, "Interactivity must be enabled to use a select menu options URL")

    if c.errors or name is None:
        return None, c.errors
    return (
        ParsedManifest(
            raw=raw,
            name=name,
            bot_display_name=bot_display_name,
            slash_commands=commands,
            redirect_urls=redirect_urls,
            bot_scopes=bot_scopes,
            user_scopes=user_scopes,
            event_request_url=event_url,
            bot_events=bot_events,
            user_events=user_events,
            interactivity_url=inter_url if enabled else None,
            options_load_url=options_url if enabled else None,
            socket_mode=socket_mode,
            token_rotation=token_rotation,
            org_deploy=org_deploy,
        ),
        [],
    )


def _slash_commands(c: _Checker, features: dict[str, Any], socket_mode: bool) -> list[SlashCommand]:
    value = features.get("slash_commands")
    if value is None:
        return []
    if not isinstance(value, list):
        c.error("/features/slash_commands", "must be array")
        return []
    out: list[SlashCommand] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        ptr = f"/features/slash_commands/{i}"
        if not isinstance(item, dict):
            c.error(ptr, "must be object")
            continue
        command = c.string(item, "command", ptr, required=True)
        description = c.string(item, "description", ptr, required=True)
        url = c.url(c.string(item, "url", ptr), f"{ptr}/url")
        usage = c.string(item, "usage_hint", ptr) or ""
        if command is None or description is None:
            continue
        if not _COMMAND_RE.match(command):
            c.error(f"{ptr}/command", "Slash commands must start with a slash and have no spaces")
            continue
        if command.lower() in seen:
            c.error(f"{ptr}/command", f"Duplicate slash command {command}")
            continue
        seen.add(command.lower())
        if url is None and not socket_mode:
            c.error(ptr, "Slash commands require a URL when Socket Mode is not enabled")
            continue
        out.append(SlashCommand(command, url or "", description, usage))
    return out


_SHORTCUT_TYPES = ("global", "message")


def _check_features_need(
    c: _Checker, features: dict[str, Any], bot_scopes: list[str], *, interactive: bool
) -> None:
    """What Slack requires of features beyond their own shape: slash commands need the
    ``commands`` bot scope; shortcuts (like every interactive component) need interactivity."""
    if features.get("slash_commands") and "commands" not in bot_scopes:
        c.error(
            "/oauth_config/scopes/bot",
            "The commands bot scope is required when slash commands are declared",
        )
    shortcuts = features.get("shortcuts")
    if shortcuts is None:
        return
    if not isinstance(shortcuts, list):
        c.error("/features/shortcuts", "must be array")
        return
    for i, item in enumerate(shortcuts):
        ptr = f"/features/shortcuts/{i}"
        if not isinstance(item, dict):
            c.error(ptr, "must be object")
            continue
        for key in ("name", "callback_id", "description"):
            c.string(item, key, ptr, required=True)
        kind = c.string(item, "type", ptr, required=True)
        if kind is not None and kind not in _SHORTCUT_TYPES:
            c.error(f"{ptr}/type", "must be equal to one of the allowed values")
    if shortcuts and not interactive:
        c.error(
            "/settings/interactivity",
            "Interactivity must be enabled (settings.interactivity.is_enabled) to use shortcuts",
        )


def _scopes(c: _Checker, scopes: dict[str, Any], kind: str) -> list[str]:
    ptr = f"/oauth_config/scopes/{kind}"
    out: list[str] = []
    for i, scope in enumerate(c.strings(scopes, kind, "/oauth_config/scopes")):
        if _SCOPE_RE.match(scope):
            out.append(scope)
        else:
            c.error(f"{ptr}/{i}", f"Invalid scope: {scope}")
    return out


def _check_event_scopes(
    c: _Checker, events: list[str], scopes: list[str], pointer: str, kind: str
) -> None:
    for i, event in enumerate(events):
        needed = EVENT_SCOPES.get(event)
        if needed and not any(s in scopes for s in needed):
            c.error(
                f"{pointer}/{i}",
                f"The {kind} event {event} requires the {' or '.join(needed)} {kind} scope",
            )


def apply_manifest(app: App, parsed: ParsedManifest) -> bool:
    """Copy ``parsed`` onto ``app``; returns whether the requested scopes changed."""
    scopes_changed = (set(app.bot_scopes), set(app.user_scopes)) != (
        set(parsed.bot_scopes),
        set(parsed.user_scopes),
    )
    app.name = parsed.name
    app.manifest = parsed.raw
    app.bot_display_name = parsed.bot_display_name
    app.slash_commands = parsed.slash_commands
    app.redirect_urls = parsed.redirect_urls
    app.bot_scopes = parsed.bot_scopes
    app.user_scopes = parsed.user_scopes
    app.event_request_url = parsed.event_request_url
    app.bot_events = parsed.bot_events
    app.user_events = parsed.user_events
    app.interactivity_url = parsed.interactivity_url
    app.options_load_url = parsed.options_load_url
    app.socket_mode = parsed.socket_mode
    app.token_rotation = parsed.token_rotation
    app.metadata_subscriptions = subscriptions_of(parsed.raw)
    return scopes_changed


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def create_app(state: EmulatorState, parsed: ParsedManifest, owner_team_id: str | None) -> App:
    """Provision a new app from a parsed manifest, with fresh credentials, and store it."""
    app = App(
        id=state.ids.next("A", 10),
        name=parsed.name,
        client_id=f"{_digits(13)}.{_digits(13)}",
        client_secret=state.ids.secret(16),
        signing_secret=state.ids.secret(16),
        verification_token=secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")[:24],
        manifest=parsed.raw,
        owner_team_id=owner_team_id,
    )
    apply_manifest(app, parsed)
    state.apps[app.id] = app
    return app


def export_manifest(app: App) -> dict[str, Any]:
    """The app's manifest as ``apps.manifest.export`` returns it."""
    manifest = dict(app.manifest)
    manifest.setdefault("_metadata", {"major_version": 1, "minor_version": 1})
    return manifest
