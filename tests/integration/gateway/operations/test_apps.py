"""Operator actions on apps: list, pick one, plan and run provisioning through a port."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbridge.operations.apps import (
    app_config,
    list_apps,
    plan_provisioning,
    provision_apps,
    resolve_app,
)
from slackbridge.operations.errors import (
    AppNotConfigured,
    AppNotFound,
    MissingConfigurationToken,
    OperationError,
)
from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.store.store import Store

from .conftest import add_app


async def test_apps_are_listed_in_creation_order_and_resolved_by_name_or_id(store: Store) -> None:
    assert await list_apps(store.db, store.keyring) == []
    first = await add_app(store, "alpha", "A0ALPHA")
    second = await add_app(store, "beta", "A0BETA")
    assert [a.name for a in await list_apps(store.db, store.keyring)] == ["alpha", "beta"]
    assert await resolve_app(store.db, store.keyring) == first
    assert await resolve_app(store.db, store.keyring, "beta") == second
    assert await resolve_app(store.db, store.keyring, "A0BETA") == second


async def test_resolving_an_unknown_app_names_the_known_ones(store: Store) -> None:
    with pytest.raises(AppNotFound, match="no Slack app is configured") as none:
        await resolve_app(store.db, store.keyring, "alpha")
    assert "slackbridge apps provision" in str(none.value)
    await add_app(store, "alpha", "A0ALPHA")
    with pytest.raises(AppNotFound) as unknown:
        await resolve_app(store.db, store.keyring, "gamma")
    assert str(unknown.value) == "no Slack app named 'gamma' (known apps: alpha)"
    assert unknown.value.code == "app_not_found" and isinstance(unknown.value, LookupError)


def test_a_configured_app_is_picked_by_name(tmp_path: Path) -> None:
    bare = Settings(data_dir=tmp_path)
    assert app_config(bare, None).name == "default"
    assert app_config(bare, "anything").name == "anything"
    configured = Settings(
        data_dir=tmp_path, apps=[SlackAppConfig(name="one"), SlackAppConfig(name="two")]
    )
    assert app_config(configured, None).name == "one"
    assert app_config(configured, "two").name == "two"
    with pytest.raises(AppNotConfigured) as exc:
        app_config(configured, "three")
    assert exc.value.reason == "no app named 'three' is configured"
    assert exc.value.hint == "Configured apps: one, two"


def test_provisioning_needs_a_configuration_token(tmp_path: Path) -> None:
    with pytest.raises(MissingConfigurationToken) as exc:
        plan_provisioning(Settings(data_dir=tmp_path))
    assert exc.value.reason == "no configuration token"
    assert exc.value.hint is not None and "SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN" in exc.value.hint


def test_the_plan_takes_the_given_token_over_the_setting_and_hides_it(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        slack_configuration_token="xoxe.xoxp-from-settings",
        apps=[SlackAppConfig(name="one"), SlackAppConfig(name="two")],
    )
    every = plan_provisioning(settings)
    assert every.token == "xoxe.xoxp-from-settings"
    assert [c.name for c in every.configs] == ["one", "two"]
    given = plan_provisioning(settings, token="xoxe.xoxp-given", app="two")
    assert given.token == "xoxe.xoxp-given" and [c.name for c in given.configs] == ["two"]
    assert "xoxp" not in repr(given)
    with pytest.raises(OperationError):
        plan_provisioning(settings, token="xoxe.xoxp-given", app="three")


async def test_provisioning_runs_the_port_once_per_app_in_order(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, apps=[SlackAppConfig(name="one"), SlackAppConfig(name="two")]
    )
    calls: list[tuple[str, str]] = []

    async def provision(config: SlackAppConfig, token: str) -> str:
        calls.append((config.name, token))
        return f"provisioned {config.name}"

    plan = plan_provisioning(settings, token="xoxe.xoxp-t")
    assert await provision_apps(plan, provision) == ["provisioned one", "provisioned two"]
    assert calls == [("one", "xoxe.xoxp-t"), ("two", "xoxe.xoxp-t")]
