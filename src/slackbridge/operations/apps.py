"""The Slack apps the gateway serves: list them, pick one, provision them.

Provisioning talks to Slack's manifest API, which is the Slack edge's job: the caller passes
it in as a port (``provision(config, token)``) and gets back whatever that port returns, one
result per app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from slackbridge.operations.errors import AppNotConfigured, AppNotFound, MissingConfigurationToken
from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppsRepository, SlackApp

__all__ = [
    "ProvisionPlan",
    "app_config",
    "list_apps",
    "plan_provisioning",
    "provision_apps",
    "resolve_app",
]

_R = TypeVar("_R")

#: The port that provisions one app at Slack with a configuration token.
Provision = Callable[[SlackAppConfig, str], Awaitable[_R]]


async def list_apps(db: Database, keyring: Keyring) -> list[SlackApp]:
    """Every stored app, in creation order, as the store has it now."""
    return await AppsRepository(db, keyring).list()


async def resolve_app(db: Database, keyring: Keyring, name: str | None = None) -> SlackApp:
    """The app called ``name`` (its name or Slack app id), or the first app when no name is
    given. Raises :class:`AppNotFound`, whose reason lists the known apps."""
    apps = await list_apps(db, keyring)
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


def app_config(settings: Settings, name: str | None) -> SlackAppConfig:
    """The configured app called ``name`` (the first when None; a bare default when none is
    configured). Raises :class:`AppNotConfigured` naming the configured apps."""
    if name is None:
        return settings.apps[0] if settings.apps else SlackAppConfig()
    for config in settings.apps:
        if config.name == name:
            return config
    if name == "default" or not settings.apps:
        return SlackAppConfig(name=name)
    known = ", ".join(c.name for c in settings.apps)
    raise AppNotConfigured(f"no app named {name!r} is configured", f"Configured apps: {known}")


@dataclass(frozen=True)
class ProvisionPlan:
    """What ``apps provision`` will do: which configured apps, with which token."""

    configs: tuple[SlackAppConfig, ...]
    token: str

    def __repr__(self) -> str:  # the token is a credential
        return f"ProvisionPlan(apps={[c.name for c in self.configs]!r})"


def plan_provisioning(
    settings: Settings, *, token: str | None = None, app: str | None = None
) -> ProvisionPlan:
    """The apps to provision (``app``, or every configured one) and the configuration token
    (``token``, else ``SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN``). Raises
    :class:`MissingConfigurationToken` or :class:`AppNotConfigured`."""
    chosen = token or (
        settings.slack_configuration_token.get_secret_value()
        if settings.slack_configuration_token
        else None
    )
    if not chosen:
        raise MissingConfigurationToken(
            "no configuration token",
            "Create one at https://api.slack.com/apps (Your App Configuration Tokens → "
            "Generate Token) and pass --configuration-token or set "
            "SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN. The emulator prints its own at start.",
        )
    configs = [app_config(settings, app)] if app or not settings.apps else list(settings.apps)
    return ProvisionPlan(tuple(configs), chosen)


async def provision_apps(plan: ProvisionPlan, provision: Provision[_R]) -> list[_R]:
    """Provision every app of ``plan`` in turn through the ``provision`` port (which creates
    the app at Slack or updates it and stores its credentials); its results, in order."""
    return [await provision(config, plan.token) for config in plan.configs]
