"""A workspace that can't be asked about its people (not installed, disconnected) is not asked
again for every batch: its events go out with the ids only, and it is asked again a few seconds
later."""

from __future__ import annotations

from pathlib import Path

import httpx

from slackbridge.domain.events import DomainEvent
from slackbridge.pipeline import enrich
from slackbridge.pipeline.enrich import enrich_users
from slackbridge.ports import WorkspaceUnavailable
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.users import CachedUser

TEAM, USER = "T0GONE0001", "U0GONE0001"


def _event(n: int) -> DomainEvent:
    return DomainEvent(
        type="message.posted",
        team_id=TEAM,
        app_id=None,
        data={"user": {"id": USER}},
        ordering_key=f"channel:{n}",
        dedupe_key=f"Ev{n}",
        occurred_at=0.0,
    )


async def test_an_unavailable_workspace_is_not_asked_per_batch(
    database: Database, keyring: Keyring, tmp_path: Path
) -> None:
    asked: list[str] = []

    async def lookup_user(team_id: str, user_id: str, app_id: str | None) -> CachedUser:
        asked.append(user_id)
        raise WorkspaceUnavailable(team_id, "not_installed")

    async with httpx.AsyncClient() as http:
        gateway = Gateway(
            settings=Settings(data_dir=tmp_path), db=database, keyring=keyring, http=http
        )
        first = await enrich_users(gateway, [_event(1)], lookup_user)
        second = await enrich_users(gateway, [_event(2)], lookup_user)
        assert asked == [USER]  # the second batch did not ask
        assert first[0].data["user"] == {"id": USER} == second[0].data["user"]
        # Once the pause is over, the workspace is asked again.
        memory = enrich._MEMORY.of(gateway)
        memory.unavailable[TEAM] = 0.0
        await enrich_users(gateway, [_event(3)], lookup_user)
        assert asked == [USER, USER]
