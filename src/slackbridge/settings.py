"""Configuration: ``SLACKBRIDGE_*`` environment variables and an optional ``slackbridge.toml``.

Precedence (highest first): init arguments, environment, ``slackbridge.toml`` in the working
directory (or the file named by ``SLACKBRIDGE_CONFIG``), then the embedded defaults. The defaults
keep the store on one machine (a SQLite file under ``./.slackbridge/``) and talk to real Slack
(``https://slack.com``); the emulator is reached by setting ``slack_api_url`` and ``slack_url``
(``slackbridge demo`` does that itself).

A key in the file that no setting has is refused (:class:`SettingsFileError`, with the closest
known key); unknown ``SLACKBRIDGE_*`` variables are ignored, as another version may have set them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = [
    "CommandConfig",
    "Settings",
    "SettingsFileError",
    "SlackAppConfig",
    "WebhookEndpointConfig",
    "config_file",
    "get_settings",
]


class SlackAppConfig(BaseModel):
    """One Slack app the gateway serves (several may be configured)."""

    name: str = "default"
    app_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    signing_secret: SecretStr | None = None
    verification_token: SecretStr | None = None
    app_token: SecretStr | None = None  # xapp-… for Socket Mode
    bot_scopes: list[str] = Field(
        default_factory=lambda: [
            "app_mentions:read",
            "channels:history",
            "channels:join",
            "channels:manage",
            "channels:read",
            "chat:write",
            "chat:write.customize",
            "commands",
            "files:read",
            "files:write",
            "groups:history",
            "groups:read",
            "groups:write",
            "im:history",
            "im:read",
            "metadata.message:read",
            "mpim:history",
            "reactions:read",
            "reactions:write",
            "team:read",
            "users:read",
            "users:read.email",
        ]
    )
    user_scopes: list[str] = Field(default_factory=list)
    socket_mode: bool = False
    token_rotation: bool = False
    outgoing_webhooks: bool = False  # take legacy outgoing webhooks on /slack/outgoing
    display_name: str | None = None  # the app's name in Slack (default: slackbridge or `name`)
    slash_commands: list[str] = Field(default_factory=lambda: ["/bridge"])  # in the manifest
    #: More redirect URLs for the app's manifest, after the gateway's OAuth callback: a
    #: product's own "Sign in with Slack" callback, for instance.
    redirect_urls: list[str] = Field(default_factory=list)


class WebhookEndpointConfig(BaseModel):
    """A product endpoint that receives signed webhooks."""

    url: str
    secret: SecretStr | None = None
    event_types: list[str] = Field(default_factory=list)  # empty: every type except slack.event
    synchronous: bool = False


class CommandConfig(BaseModel):
    """A command the product declares (docs/commands.md): ``[[commands]]`` in slackbridge.toml.
    Checked (pattern, examples, unique names) when the gateway starts."""

    name: str
    pattern: str
    description: str = ""
    examples: list[str] = Field(default_factory=list)
    slash: str | None = None  # the slash command whose text it answers ("/tasks")
    via: list[str] | None = None  # "slash", "mention", "dm"; default: slash, or mention + dm


def config_file() -> Path:
    """The settings file: ``SLACKBRIDGE_CONFIG``, else ``slackbridge.toml`` in the working
    directory (a file that does not exist is no settings, not an error)."""
    return Path(os.environ.get("SLACKBRIDGE_CONFIG") or "slackbridge.toml")


class SettingsFileError(Exception):
    """The settings file names keys that no setting has (a typo would otherwise be dropped
    silently). Unknown ``SLACKBRIDGE_*`` environment variables stay tolerated: the environment
    may hold another version's."""

    def __init__(self, file: Path, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: " + "; ".join(problems))


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field's value is made of (``X``, ``list[X]``, ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return None  # a mapping's keys are data, not settings
    for arg in get_args(annotation):
        model = _nested_model(arg)
        if model is not None:
            return model
    return None


def unknown_keys(model: type[BaseModel], data: Mapping[str, Any], where: str = "") -> list[str]:
    """Each key of ``data`` (a TOML document or table) that ``model`` has no field for, with the
    closest known key; tables of nested settings (``[[apps]]``, ``[[webhooks]]``, …) too."""
    problems: list[str] = []
    fields = model.model_fields
    # Top-level keys are matched case-insensitively (as pydantic-settings does); nested exactly.
    folded = {name.lower(): name for name in fields}
    for key, value in data.items():
        name = key if key in fields else None if where else folded.get(key.lower())
        if name is None:
            close = get_close_matches(key.lower(), list(fields), n=1)
            hint = f" (did you mean '{where}{close[0]}'?)" if close else ""
            problems.append(f"unknown key '{where}{key}'{hint}")
            continue
        inner = _nested_model(fields[name].annotation)
        if inner is None:
            continue
        if isinstance(value, Mapping):
            problems += unknown_keys(inner, value, f"{where}{name}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    problems += unknown_keys(inner, item, f"{where}{name}[{index}].")
    return problems


class _CheckedTomlSource(TomlConfigSettingsSource):
    """The TOML file, refused (:class:`SettingsFileError`) when it names an unknown key."""

    def __init__(self, settings_cls: type[BaseSettings], toml_file: Path) -> None:
        super().__init__(settings_cls, toml_file=toml_file)
        problems = unknown_keys(settings_cls, self.toml_data)
        if problems:
            raise SettingsFileError(toml_file, problems)


def _default_data_dir() -> Path:
    return Path(os.environ.get("SLACKBRIDGE_DATA_DIR", ".slackbridge"))


class Settings(BaseSettings):
    """All settings; see docs/configuration.md for each one."""

    model_config = SettingsConfigDict(
        env_prefix="SLACKBRIDGE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    database_schema: str | None = None  # PostgreSQL only: put first on the search_path
    secret_keys: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    slack_api_url: str = "https://slack.com/api/"
    slack_url: str = "https://slack.com"
    slack_configuration_token: SecretStr | None = None
    apps: list[SlackAppConfig] = Field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhooks: list[WebhookEndpointConfig] = Field(default_factory=list)
    # Webhooks to link-local / cloud metadata addresses are refused unless this is set.
    webhook_allow_link_local: bool = False
    api_keys: SecretStr | None = None
    pass_through_admin_methods: bool = False  # let POST /api/v1/slack/… call admin.* methods
    commands: list[CommandConfig] = Field(default_factory=list)
    commands_rerun_on_edit: bool = False  # an edited message runs its command again
    # "Add to Slack" (docs/installation.md): install links that name a ref must be signed, and
    # a workspace keeps its ref on reinstall, unless these say otherwise.
    allow_unsigned_ref: bool = False
    allow_ref_change: bool = False
    log_level: str = "INFO"
    log_json: bool = False
    # Ingress and product webhooks (docs/operations.md explains each one).
    ingress_max_body_bytes: int = 1_048_576
    ingress_commit_timeout: float = 2.5  # longer than this: answer 503 so that Slack retries
    ingress_group_commit_ms: float = 0.1
    inbox_lease_seconds: float = 30.0  # a crashed process's inbox rows are taken again after this
    retention_days: float = 7.0  # done inbox rows and delivered webhooks are deleted after this
    webhook_max_attempts: int = 12
    webhook_timeout: float = 10.0
    webhook_concurrency: int = 16
    webhook_retry_scale: float = 1.0  # multiplies the retry backoff (tests shrink it)
    sync_webhook_deadline: float = 2.5
    user_cache_ttl: float = 3600.0
    # The bridge's catch-up (docs/bridge.md): conversations.history/replies requests per minute
    # and workspace (1 with 15 messages: the tier of apps outside the Marketplace), messages per
    # request, seconds between sweeps, and how far before its mark a conversation is looked at
    # again (events Slack gave up retrying).
    bridge_history_per_minute: float = Field(1.0, gt=0)
    bridge_history_page_size: int = Field(15, ge=1, le=1000)
    bridge_catchup_interval: float = Field(300.0, gt=0)
    bridge_catchup_lookback: float = Field(900.0, ge=0)
    # The outbox sender (product API → Slack); docs/api.md explains each one.
    outbox_lease_seconds: float = 30.0  # a crashed sender's rows are taken again after this
    outbox_concurrency: int = 64  # rows (lanes) worked on at once
    outbox_retry_scale: float = 1.0  # multiplies the retry backoff (tests shrink it)
    socket_ping_interval: float = 10.0
    # The conversation bridge (docs/bridge.md).
    bridge_reply_after_close: Literal["reopen", "tell"] = "reopen"  # a Slack reply to a closed one
    bridge_closed_message: str = "This conversation is closed."  # what "tell" posts in the thread
    bridge_closed_reaction: str = "white_check_mark"  # still mode: the card's status when closed
    # Several gateways on one PostgreSQL (docs/operations.md, "Several instances").
    cluster_lease_seconds: float = Field(default=10.0, gt=0)  # a dead holder is replaced after
    socket_connections_per_app: int = Field(default=2, ge=1, le=10)  # across all gateways
    retention_every_seconds: float = Field(default=3600.0, gt=0)  # one purge per period

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file is named when settings are read, not when this module was imported.
        toml = _CheckedTomlSource(settings_cls, config_file())
        return (init_settings, env_settings, toml)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'slackbridge.db').as_posix()}"


def get_settings(**overrides: Any) -> Settings:
    """Load settings from the environment and slackbridge.toml, with explicit overrides on top."""
    return Settings(**overrides)
