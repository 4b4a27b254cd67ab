"""Fixtures for the operator actions' tests: a real store (SQLite, and PostgreSQL when its URL
is set) with apps, workspaces, endpoints and deliveries put in through the repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppSpec, SlackApp
from slackbridge.store.repositories.installations import (
    Installation,
    InstallationSpec,
    UserTokenSpec,
)
from slackbridge.store.store import Store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, public_url="https://gw.example/")


async def add_app(store: Store, name: str, app_id: str) -> SlackApp:
    return await store.apps.upsert(
        AppSpec(name=name, app_id=app_id, client_id=f"c-{name}", signing_secret=f"s-{name}")
    )


async def install(
    store: Store,
    app: SlackApp,
    team_id: str,
    *,
    ref: str | None = None,
    user_token: str | None = None,
) -> Installation:
    saved = await store.installations.save(
        InstallationSpec(
            app_ref=app.id,
            team_id=team_id,
            team_name=f"team {team_id}",
            bot_token=f"xoxb-{team_id}-{app.name}",
            bot_user_id="U0BOT",
            bot_scopes=("chat:write",),
            product_ref=ref,
            user_token=UserTokenSpec("U1", token=f"xoxp-{team_id}") if user_token else None,
        )
    )
    return saved.installation


@pytest.fixture
def db(store: Store) -> Database:
    return store.db


@pytest.fixture
def keys(store: Store) -> Keyring:
    return store.keyring
