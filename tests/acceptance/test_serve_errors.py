"""``slackbridge serve`` that can't start says why, in one friendly message, and exits 1."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.standalone import open_gateway
from slackbridge.store.crypto import generate_key
from tests.support.servers import free_port

pytestmark = pytest.mark.slow
_CLI = [sys.executable, "-m", "slackbridge.cli"]


async def _serve(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")},
        "SLACKBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
        **env,
    }
    proc = await asyncio.create_subprocess_exec(
        *_CLI,
        "serve",
        *args,
        cwd=tmp_path,
        env=full,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("serve started instead of refusing") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def _refused(code: int, out: str, *words: str) -> None:
    assert code == 1, out
    assert "Traceback" not in out
    assert "Error:" in out
    for word in words:
        assert word in out, out


async def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out = await _serve(tmp_path, "--port", str(port))
    _refused(code, out, f"port {port}", "already in use", "--port")
    assert not (tmp_path / "data" / "slackbridge.db").exists()  # refused before touching it


async def test_an_address_that_is_not_here(tmp_path: Path) -> None:
    code, out = await _serve(tmp_path, "--host", "host.invalid", "--port", str(free_port()))
    _refused(code, out, "cannot listen on host.invalid", "--host")


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SLACKBRIDGE_DATABASE_URL": "mysql://u@h/db"}, ["unsupported database"]),
        (
            {"SLACKBRIDGE_DATABASE_URL": "postgresql+asyncpg://u:hunter2@127.0.0.1:1/db"},
            ["could not use the database", "SLACKBRIDGE_DATABASE_URL"],
        ),
        ({"SLACKBRIDGE_SECRET_KEYS": "short"}, ["SLACKBRIDGE_SECRET_KEYS", "generate-key"]),
        ({"SLACKBRIDGE_APPS": "{not json"}, ["SLACKBRIDGE_APPS", "JSON"]),
        ({"SLACKBRIDGE_APPS": '[{"name": "a"}, {"name": "a"}]'}, ["different name"]),
        ({"SLACKBRIDGE_LOG_LEVEL": "loud"}, ["SLACKBRIDGE_LOG_LEVEL"]),
        ({"SLACKBRIDGE_PORT": "eighty"}, ["SLACKBRIDGE_PORT"]),
    ],
    ids=["db-scheme", "db-down", "keys", "apps-json", "apps-names", "log-level", "port"],
)
async def test_a_bad_configuration(tmp_path: Path, env: dict[str, str], words: list[str]) -> None:
    code, out = await _serve(tmp_path, "--port", str(free_port()), **env)
    _refused(code, out, *words)
    assert "hunter2" not in out


async def test_a_broken_slackbridge_toml(tmp_path: Path) -> None:
    (tmp_path / "slackbridge.toml").write_text("[[apps]]\nname = 'x\n")
    code, out = await _serve(tmp_path, "--port", str(free_port()))
    _refused(code, out, "slackbridge.toml is not valid TOML")


async def test_a_mistyped_key_in_slackbridge_toml(tmp_path: Path) -> None:
    (tmp_path / "slackbridge.toml").write_text("[[apps]]\nname = 'x'\nsocket_mod = true\n")
    code, out = await _serve(tmp_path, "--port", str(free_port()))
    _refused(code, out, "unknown key 'apps[0].socket_mod' (did you mean 'apps[0].socket_mode'?)")


async def test_keys_that_do_not_decrypt_the_stored_secrets(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    app = SlackAppConfig(name="a", client_id="1.2", client_secret=SecretStr("s3cret"))
    stored = Settings(data_dir=tmp_path / "data", secret_keys=SecretStr(old), apps=[app])
    async with open_gateway(stored):  # the app's secret is stored under the old key
        pass
    code, out = await _serve(tmp_path, "--port", str(free_port()), SLACKBRIDGE_SECRET_KEYS=new)
    _refused(code, out, "no configured key can decrypt", "SLACKBRIDGE_SECRET_KEYS")


async def test_a_failure_inside_the_start_up_is_explained_too(tmp_path: Path) -> None:
    # Not checked before the server starts: the webhook endpoints are synced at start-up.
    code, out = await _serve(
        tmp_path, "--port", str(free_port()), SLACKBRIDGE_WEBHOOK_URL="ftp://product.example"
    )
    _refused(code, out, "must start with http:// or https://", "SLACKBRIDGE_")


async def test_a_webhook_url_at_a_metadata_address_is_refused(tmp_path: Path) -> None:
    code, out = await _serve(
        tmp_path,
        "--port",
        str(free_port()),
        SLACKBRIDGE_WEBHOOK_URL="http://user:hunter2@169.254.169.254/latest/meta-data/",
    )
    _refused(code, out, "is a link-local or cloud metadata address")
    assert "SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL=true" in out and "hunter2" not in out


async def test_a_bad_declared_command(tmp_path: Path) -> None:
    (tmp_path / "slackbridge.toml").write_text(
        '[[commands]]\nname = "add"\npattern = "add {title:txt}"\n'
    )
    code, out = await _serve(tmp_path, "--port", str(free_port()))
    _refused(code, out, "commands[0].pattern", "unknown argument type 'txt'", "column 12")
