"""Helpers for tests that use the emulator: install an app without OAuth, run the app in-process.

``install_app_for_tests`` provisions an app and installs it straight through the state (the same
code path OAuth uses), so a test gets a working bot token in one call::

    state = build_state()
    install = install_app_for_tests(state, "T0ACME0001", ["chat:write"], channels=["general"])
    async with emulator_client(create_app(state)) as client:
        await client.post("/api/chat.postMessage", headers=install.bot_headers, ...)
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette

from slackbridge.emulator.installs import install
from slackbridge.emulator.ops_channels import join_channel
from slackbridge.emulator.state import App, EmulatorState, Installation, SlashCommand, Token

__all__ = [
    "DEFAULT_TEST_SCOPES",
    "TestInstall",
    "emulator_client",
    "install_app_for_tests",
    "make_test_app",
]

# Enough for an app that reads and writes conversations, users, reactions, files and views.
DEFAULT_TEST_SCOPES: tuple[str, ...] = (
    "app_mentions:read",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "chat:write.customize",
    "chat:write.public",
    "commands",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:history",
    "im:read",
    "im:write",
    "mpim:history",
    "mpim:read",
    "mpim:write",
    "reactions:read",
    "reactions:write",
    "team:read",
    "users:read",
    "users:read.email",
    "users.profile:read",
)


@dataclass
class TestInstall:
    """What a test needs from an installed app."""

    __test__ = False  # not a pytest test class

    app: App
    installation: Installation
    bot_token: str
    user_token: str | None

    @property
    def team_id(self) -> str:
        return self.installation.team_id

    @property
    def bot_user_id(self) -> str:
        return self.installation.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.installation.bot_id

    @property
    def bot_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bot_token}"}

    @property
    def user_headers(self) -> dict[str, str]:
        if self.user_token is None:
            raise ValueError("this install has no user token (pass user_scopes)")
        return {"Authorization": f"Bearer {self.user_token}"}


def make_test_app(
    state: EmulatorState,
    *,
    name: str = "Test App",
    bot_scopes: Sequence[str] = DEFAULT_TEST_SCOPES,
    user_scopes: Sequence[str] = (),
    event_request_url: str | None = None,
    bot_events: Sequence[str] = (),
    interactivity_url: str | None = None,
    slash_commands: Sequence[tuple[str, str]] = (),
    socket_mode: bool = False,
    token_rotation: bool = False,
    redirect_urls: Sequence[str] = (),
    **fields: Any,
) -> App:
    """Register an app as ``apps.manifest.create`` would, with fresh credentials.

    ``slash_commands`` are ``(command, url)`` pairs; ``fields`` are further :class:`App` fields.
    """
    app = App(
        id=state.ids.next("A"),
        name=name,
        client_id=f"{secrets.randbelow(10**13):013d}.{secrets.randbelow(10**13):013d}",
        client_secret=state.ids.secret(16),
        signing_secret=state.ids.secret(16),
        verification_token=secrets.token_hex(12),
        manifest={"display_information": {"name": name}},
        redirect_urls=list(redirect_urls),
        bot_scopes=list(bot_scopes),
        user_scopes=list(user_scopes),
        event_request_url=event_request_url,
        bot_events=list(bot_events),
        interactivity_url=interactivity_url,
        slash_commands=[SlashCommand(command=c, url=u) for c, u in slash_commands],
        socket_mode=socket_mode,
        token_rotation=token_rotation,
        **fields,
    )
    state.apps[app.id] = app
    return app


def install_app_for_tests(
    state: EmulatorState,
    team_id: str,
    scopes: Sequence[str] = DEFAULT_TEST_SCOPES,
    *,
    app: App | None = None,
    user_scopes: Sequence[str] = (),
    installer_user_id: str | None = None,
    channels: Sequence[str] = (),
) -> TestInstall:
    """Install an app (a new one unless ``app`` is given) into ``team_id`` with bot ``scopes``.

    The installer defaults to the workspace's first admin. ``channels`` (ids or names) are joined
    by the bot, as an ``/invite`` would (emitting ``member_joined_channel``).
    """
    ws = state.workspaces.get(team_id)
    if ws is None:
        raise ValueError(f"no workspace {team_id}")
    if installer_user_id is None:
        people = [u for u in ws.users.values() if not u.is_bot and u.id != "USLACKBOT"]
        installer_user_id = next((u.id for u in people if u.is_admin), people[0].id)
    if app is None:
        app = make_test_app(state, bot_scopes=scopes, user_scopes=user_scopes)
    result = install(
        state,
        app,
        team_id,
        installer_user_id,
        bot_scopes=list(scopes),
        user_scopes=list(user_scopes),
    )
    bot_token: Token | None = result.bot_token
    if bot_token is None:
        raise ValueError("an app needs at least one bot scope to get a bot token")
    bot_user = ws.users[result.installation.bot_user_id]
    for ref in channels:
        channel = ws.channels.get(ref) or ws.channel_named(ref)
        if channel is None:
            raise ValueError(f"no channel {ref} in {team_id}")
        join_channel(state, channel, bot_user, inviter=installer_user_id)
    return TestInstall(
        app=app,
        installation=result.installation,
        bot_token=bot_token.token,
        user_token=result.user_token.token if result.user_token else None,
    )


@asynccontextmanager
async def emulator_client(
    app: Starlette, *, base_url: str = "http://emulator.test"
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``app`` in-process, with the app's lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
