"""The Slack apps the gateway serves: configured in settings, provisioned, kept in the store.

At start-up every app in ``settings.apps`` is written to the store (its secrets encrypted). A
setting that is left out keeps what the store already has, so an app created by
``slackbridge apps provision`` (which stores the credentials Slack returned) needs no settings at
all, and a configured app can add e.g. an app-level token to a provisioned one. Everything else
in the gateway looks apps up here, by row id, by Slack's app id or by name.
"""

from __future__ import annotations

from slackbridge.runtime import Gateway
from slackbridge.settings import SlackAppConfig
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppSpec, AppsRepository, SlackApp

__all__ = [
    "AppConfigError",
    "AppNotFound",
    "SlackApp",
    "app_by_api_app_id",
    "app_by_name",
    "app_by_ref",
    "apps_detail",
    "apps_repo",
    "forget_apps",
    "list_apps",
    "on_startup",
    "resolve_app",
    "save_app",
    "signing_secrets",
    "spec_from_config",
    "spec_of",
    "sync_configured_apps",
]


class AppNotFound(LookupError):
    """No app matches; the message names the apps there are."""


class AppConfigError(ValueError):
    """The configured apps can't be used as they are; the message says what to change."""


def forget_apps(gateway: Gateway) -> None:
    """Make the gateway's next lookup read the apps from the store (after storing one)."""
    gateway.apps.forget()


async def save_app(db: Database, keyring: Keyring, spec: AppSpec) -> SlackApp:
    """Store ``spec`` (secrets encrypted). A running gateway sees it within
    :data:`~slackbridge.store.repositories.apps_cache.CHECK_SECONDS`, or at once after
    :func:`forget_apps`."""
    return await AppsRepository(db, keyring).upsert(spec)


def apps_repo(gateway: Gateway) -> AppsRepository:
    """The apps repository of the gateway's store."""
    return AppsRepository(gateway.db, gateway.keyring)


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter is not None else None


def spec_from_config(config: SlackAppConfig, stored: SlackApp | None) -> AppSpec:
    """What to store for a configured app: each setting given wins, the rest stays as stored."""

    def pick(configured: str | None, kept: str | None) -> str | None:
        return configured if configured else kept

    return AppSpec(
        name=config.name,
        app_id=pick(config.app_id, stored.app_id if stored else None),
        client_id=pick(config.client_id, stored.client_id if stored else None),
        client_secret=pick(_secret(config.client_secret), stored.client_secret if stored else None),
        signing_secret=pick(
            _secret(config.signing_secret), stored.signing_secret if stored else None
        ),
        verification_token=pick(
            _secret(config.verification_token), stored.verification_token if stored else None
        ),
        app_token=pick(_secret(config.app_token), stored.app_token if stored else None),
        bot_scopes=tuple(config.bot_scopes),
        user_scopes=tuple(config.user_scopes),
        socket_mode=config.socket_mode,
        token_rotation=config.token_rotation,
    )


def spec_of(app: SlackApp) -> AppSpec:
    """What is stored for ``app``, to store again with a change (``dataclasses.replace``)."""
    return AppSpec(
        name=app.name,
        app_id=app.app_id,
        client_id=app.client_id,
        client_secret=app.client_secret,
        signing_secret=app.signing_secret,
        verification_token=app.verification_token,
        app_token=app.app_token,
        bot_scopes=app.bot_scopes,
        user_scopes=app.user_scopes,
        socket_mode=app.socket_mode,
        token_rotation=app.token_rotation,
    )


async def sync_configured_apps(gateway: Gateway) -> list[SlackApp]:
    """Write every app of ``settings.apps`` into the store; returns them as stored."""
    repo = apps_repo(gateway)
    saved: list[SlackApp] = []
    names: set[str] = set()
    for config in gateway.settings.apps:
        if config.name in names:
            raise AppConfigError(
                f"two apps are configured with the name {config.name!r}; give each app in "
                "SLACKBRIDGE_APPS a different name"
            )
        names.add(config.name)
        stored = await repo.get_by_name(config.name)
        spec = spec_from_config(config, stored)
        saved.append(await save_app(gateway.db, gateway.keyring, spec))
    forget_apps(gateway)
    return saved


async def on_startup(gateway: Gateway) -> None:
    """Gateway part hook: sync the configured apps and report whether any app is usable."""
    await sync_configured_apps(gateway)
    apps = await list_apps(gateway, fresh=True)
    if not apps:
        gateway.health.report(
            "slack_apps",
            True,
            "no Slack app configured yet: run `slackbridge apps provision` or set SLACKBRIDGE_APPS",
        )
    else:
        gateway.health.report("slack_apps", True, apps_detail(apps))


def apps_detail(apps: list[SlackApp]) -> str:
    """``/readyz``'s word on the apps: their names, and which have no client id yet (never
    provisioned: still ok, since the gateway runs, but nobody can install them)."""
    names = ", ".join(a.name for a in apps)
    waiting = [a.name for a in apps if not a.client_id]
    if not waiting:
        return names
    return f"{names}; awaiting `slackbridge apps provision`: {', '.join(waiting)}"


async def list_apps(gateway: Gateway, *, fresh: bool = False) -> list[SlackApp]:
    """Every stored app, in creation order (cached; ``fresh`` re-reads them)."""
    return await gateway.apps.apps(fresh=fresh)


async def signing_secrets(gateway: Gateway) -> list[tuple[int, str | None, str]]:
    """``(app row id, Slack app id, signing secret)`` of every app that has a signing secret."""
    return [
        (app.id, app.app_id, app.signing_secret)
        for app in await list_apps(gateway)
        if app.signing_secret
    ]


async def app_by_api_app_id(gateway: Gateway, app_id: str) -> SlackApp | None:
    """The app with Slack's id ``app_id`` (``A…``, an event's ``api_app_id``)."""
    for app in await list_apps(gateway):
        if app.app_id == app_id:
            return app
    return await apps_repo(gateway).get_by_app_id(app_id)


async def app_by_ref(gateway: Gateway, app_ref: int) -> SlackApp | None:
    """The app with store row id ``app_ref``."""
    for app in await list_apps(gateway):
        if app.id == app_ref:
            return app
    return await apps_repo(gateway).get(app_ref)


async def app_by_name(gateway: Gateway, name: str) -> SlackApp | None:
    """The app configured or provisioned under ``name``."""
    return await apps_repo(gateway).get_by_name(name)


async def resolve_app(gateway: Gateway, name: str | None = None) -> SlackApp:
    """The app called ``name``, or the first app when no name is given.

    Raises :class:`AppNotFound` with a message that lists the known apps.
    """
    apps = await list_apps(gateway, fresh=True)
    if not apps:
        raise AppNotFound(
            "no Slack app is configured: run `slackbridge apps provision` or set SLACKBRIDGE_APPS"
        )
    if name is None:
        return apps[0]
    for app in apps:
        if name in (app.name, app.app_id):
            return app
    known = ", ".join(a.name for a in apps)
    raise AppNotFound(f"no Slack app named {name!r} (known apps: {known})")
