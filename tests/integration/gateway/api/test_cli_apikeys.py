"""``slackbridge apikey create|list|revoke`` against a SQLite store."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from slackbridge.cli import app
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.repositories.api_keys import ApiKey, ApiKeyScope, ApiKeysRepository


async def _run(args: list[str], data_dir: Path) -> Result:
    env = {
        "COLUMNS": "200",
        "SLACKBRIDGE_DATA_DIR": str(data_dir),
        "SLACKBRIDGE_DATABASE_URL": "",
        "SLACKBRIDGE_SECRET_KEYS": "",
        "SLACKBRIDGE_CONFIG": str(data_dir / "absent.toml"),
    }
    # The commands call asyncio.run themselves: run them off this test's event loop.
    return await asyncio.to_thread(CliRunner().invoke, app, args, env=env)


async def _verify(data_dir: Path, key: str) -> bool:
    db = open_database(f"sqlite+aiosqlite:///{data_dir / 'slackbridge.db'}")
    try:
        return await ApiKeysRepository(db, Keyring.load(None, data_dir)).verify(key) is not None
    finally:
        await db.close()


async def test_create_list_revoke(tmp_path: Path) -> None:
    created = await _run(["apikey", "create", "helpdesk-prod"], tmp_path)
    assert created.exit_code == 0, created.output
    match = re.search(r"(sbk_([0-9a-f]{8})_[A-Za-z0-9_\-]{20,})", created.output)
    assert match, created.output
    key, prefix = match.group(1), match.group(2)
    assert "not shown again" in created.output
    assert await _verify(tmp_path, key)

    listed = await _run(["apikey", "list"], tmp_path)
    assert listed.exit_code == 0, listed.output
    assert f"sbk_{prefix}" in listed.output and "helpdesk-prod" in listed.output
    assert key not in listed.output

    revoked = await _run(["apikey", "revoke", f"sbk_{prefix}"], tmp_path)
    assert revoked.exit_code == 0, revoked.output
    assert not await _verify(tmp_path, key)
    assert "helpdesk-prod" not in (await _run(["apikey", "list"], tmp_path)).output
    assert "revoked" in (await _run(["apikey", "list", "--all"], tmp_path)).output

    again = await _run(["apikey", "revoke", prefix], tmp_path)
    assert again.exit_code == 1
    assert "no active API key" in again.output and "Traceback" not in again.output


async def test_bad_names_and_empty_lists_are_explained(tmp_path: Path) -> None:
    nowhere = await _run(["apikey", "list"], tmp_path)
    assert nowhere.exit_code == 1 and "no slackbridge store" in nowhere.output
    assert (await _run(["db", "upgrade"], tmp_path)).exit_code == 0
    Keyring.load(None, tmp_path)  # the key file, as the gateway's first start makes it
    empty = await _run(["apikey", "list"], tmp_path)
    assert empty.exit_code == 0
    assert "slackbridge apikey create" in empty.output
    blank = await _run(["apikey", "create", "  "], tmp_path)
    assert blank.exit_code == 1
    assert "1 to 255 characters" in blank.output


async def _stored(data_dir: Path, key: str) -> ApiKey | None:
    db = open_database(f"sqlite+aiosqlite:///{data_dir / 'slackbridge.db'}")
    try:
        return await ApiKeysRepository(db, Keyring.load(None, data_dir)).verify(key)
    finally:
        await db.close()


async def test_scopes_are_set_at_creation_and_listed(tmp_path: Path) -> None:
    created = await _run(
        [
            "apikey",
            "create",
            "acme-support",
            "--scope",
            "read, WRITE",
            "--workspace",
            "T0ACME0001",
            "--ref",
            "account-7",
            "--ref",
            "account-[9]",
        ],
        tmp_path,
    )
    assert created.exit_code == 0, created.output
    assert "read,write" in created.output and "T0ACME0001" in created.output
    key = re.search(r"sbk_[0-9a-f]{8}_[A-Za-z0-9_\-]{20,}", created.output)
    assert key, created.output
    stored = await _stored(tmp_path, key.group(0))
    assert stored is not None
    assert stored.scope == ApiKeyScope(
        permissions=frozenset({"read", "write"}),
        team_ids=("T0ACME0001",),
        product_refs=("account-7", "account-[9]"),
    )
    plain = await _run(["apikey", "create", "ops"], tmp_path)
    admin = await _run(["apikey", "create", "root", "--scope", "admin"], tmp_path)
    assert plain.exit_code == 0 and admin.exit_code == 0
    assert "every workspace" in plain.output

    listed = (await _run(["apikey", "list"], tmp_path)).output
    rows = {line.split("│")[2].strip(): line for line in listed.splitlines() if "sbk_" in line}
    assert "read,write" in rows["acme-support"]
    assert "T0ACME0001, ref account-7, ref account-[9]" in rows["acme-support"]
    assert "read,write" in rows["ops"] and "every workspace" in rows["ops"]
    assert "admin" in rows["root"] and "every workspace" in rows["root"]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--scope", "read,delete"], "unknown permission 'delete'"),
        (["--scope", ","], "at least one permission"),
        (["--workspace", "acme"], "'acme' is not a Slack workspace id"),
        (["--ref", " "], "install ref must be 1 to 255"),
    ],
)
async def test_bad_scopes_are_explained(tmp_path: Path, options: list[str], said: str) -> None:
    result = await _run(["apikey", "create", "x", *options], tmp_path)
    assert result.exit_code == 1
    assert said in result.output and "Traceback" not in result.output
    # Refused before the store was touched: nothing was created, not even an empty store.
    assert "no slackbridge store" in (await _run(["apikey", "list"], tmp_path)).output
