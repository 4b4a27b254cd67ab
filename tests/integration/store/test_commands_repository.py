"""The declared commands' table: one list per source, replaced as a whole (both engines)."""

from __future__ import annotations

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.commands import CommandsRepository

ADD = {"name": "add", "pattern": "add {title:text}", "via": ["mention", "dm"]}
DONE = {"name": "done", "pattern": "done {id:number}", "examples": ["done 3"]}


async def test_each_source_is_replaced_as_a_whole(database: Database, keyring: Keyring) -> None:
    repo = CommandsRepository(database, keyring)
    assert await repo.all() == {}
    await repo.replace("config", [ADD])
    await repo.replace("api", [DONE, ADD])
    assert await repo.all() == {"config": [ADD], "api": [DONE, ADD]}
    await repo.replace("api", [])
    assert await repo.all() == {"config": [ADD], "api": []}
