"""``slackbridge db upgrade`` and ``slackbridge secrets …``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner, Result

from slackbridge.cli import app
from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import open_database
from slackbridge.store.migrate import head_revision, upgrade
from slackbridge.store.repositories.apps import AppSpec
from slackbridge.store.repositories.installations import InstallationSpec
from slackbridge.store.store import Store


async def _run(args: list[str], env: dict[str, str]) -> Result:
    # The commands call asyncio.run themselves, so they run outside this test's event loop.
    base = {"COLUMNS": "400", "SLACKBRIDGE_SECRET_KEYS": "", "SLACKBRIDGE_DATABASE_SCHEMA": ""}
    return await asyncio.to_thread(CliRunner().invoke, app, args, env={**base, **env})


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'sb.db'}"


async def test_db_upgrade_then_up_to_date(tmp_path: Path) -> None:
    env = {"SLACKBRIDGE_DATABASE_URL": _sqlite(tmp_path)}
    first = await _run(["db", "upgrade"], env)
    assert first.exit_code == 0, first.output
    assert str(tmp_path / "data" / "sb.db") in first.output
    assert f"empty database → revision {head_revision()}" in first.output
    second = await _run(["db", "upgrade"], env)
    assert second.exit_code == 0, second.output
    assert "Already up to date" in second.output


async def test_db_upgrade_masks_the_password(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    # The test server trusts local connections, so any password is accepted (and must not show).
    with_password = url.replace("postgres@", "postgres:hunter2-secret@", 1)
    assert "hunter2-secret" in with_password
    result = await _run(
        ["db", "upgrade"],
        {"SLACKBRIDGE_DATABASE_URL": with_password, "SLACKBRIDGE_DATABASE_SCHEMA": schema},
    )
    assert result.exit_code == 0, result.output
    assert "hunter2-secret" not in result.output
    assert "postgres:***@" in result.output
    assert schema in result.output


async def test_db_upgrade_reports_bad_urls_without_traceback(tmp_path: Path) -> None:
    bad = await _run(["db", "upgrade"], {"SLACKBRIDGE_DATABASE_URL": "mysql://u@h/db"})
    assert bad.exit_code == 1
    assert "unsupported database" in bad.output
    assert "Traceback" not in bad.output
    down = await _run(
        ["db", "upgrade"],
        {"SLACKBRIDGE_DATABASE_URL": "postgresql+asyncpg://u:pw@127.0.0.1:1/db"},
    )
    assert down.exit_code == 1
    assert "could not migrate" in down.output and "pw@" not in down.output
    assert "Traceback" not in down.output


async def test_secrets_rotate(tmp_path: Path) -> None:
    url = _sqlite(tmp_path)
    old, new = generate_key(), generate_key()
    await upgrade(url)
    db = open_database(url)
    try:
        store = Store(db, Keyring.parse(old))
        app_row = await store.apps.upsert(AppSpec(name="default", signing_secret="sig"))
        await store.installations.save(
            InstallationSpec(app_ref=app_row.id, team_id="T1", bot_token="xoxb-1")
        )
    finally:
        await db.close()

    missing_old = await _run(
        ["secrets", "rotate"], {"SLACKBRIDGE_DATABASE_URL": url, "SLACKBRIDGE_SECRET_KEYS": new}
    )
    assert missing_old.exit_code == 1
    assert "nothing was changed" in missing_old.output
    assert "add the old key to SLACKBRIDGE_SECRET_KEYS" in missing_old.output
    assert "Traceback" not in missing_old.output

    rotated = await _run(
        ["secrets", "rotate"],
        {"SLACKBRIDGE_DATABASE_URL": url, "SLACKBRIDGE_SECRET_KEYS": f"{new},{old}"},
    )
    assert rotated.exit_code == 0, rotated.output
    assert "slack_apps.signing_secret_enc" in rotated.output
    assert "Checked 2 stored secrets; 2 re-encrypted" in rotated.output

    db = open_database(url)
    try:
        (inst,) = await Store(db, Keyring.parse(new)).installations.list()
        assert inst.bot_token == "xoxb-1"
    finally:
        await db.close()


async def test_secrets_rotate_refuses_a_bad_key(tmp_path: Path) -> None:
    result = await _run(
        ["secrets", "rotate"],
        {"SLACKBRIDGE_DATABASE_URL": _sqlite(tmp_path), "SLACKBRIDGE_SECRET_KEYS": "short"},
    )
    assert result.exit_code == 1
    assert "generate-key" in result.output
    assert "Traceback" not in result.output


async def test_generate_key() -> None:
    result = await _run(["secrets", "generate-key"], {})
    assert result.exit_code == 0
    Keyring.parse(result.output.strip())
