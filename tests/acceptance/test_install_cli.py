"""The whole install story through the command line, as a new user would run it.

``slackbridge emulator`` and ``slackbridge serve`` run as real processes; the app is created with
``slackbridge apps provision``, installed through the browser flow, listed and removed with
``slackbridge workspaces``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from slackbridge.emulator.seed import DEFAULT_CONFIGURATION_TOKEN
from tests.support.processes import stop_process, wait_healthy
from tests.support.servers import free_port

pytestmark = pytest.mark.slow
_CLI = [sys.executable, "-m", "slackbridge.cli"]


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


@asynccontextmanager
async def _process(
    args: list[str], env: dict[str, str], health: str, log: Path
) -> AsyncIterator[None]:
    """Run a server process until the block ends; wait until ``health`` answers 200."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*args, env=env, stdout=out, stderr=out)
        try:
            await wait_healthy(proc, health, f"slackbridge {args[3]}", log=lambda: _read(log))
            yield
        finally:
            await stop_process(proc)


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *_CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_provision_install_list_and_remove_from_the_command_line(tmp_path: Path) -> None:
    slack_port, gateway_port = free_port(), free_port()
    slack = f"http://127.0.0.1:{slack_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")},
        "COLUMNS": "200",
        "SLACKBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "SLACKBRIDGE_PUBLIC_URL": gateway,
        "SLACKBRIDGE_SLACK_API_URL": f"{slack}/api/",
        "SLACKBRIDGE_SLACK_URL": slack,
        "SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN": DEFAULT_CONFIGURATION_TOKEN,
    }
    async with (
        _process(
            [*_CLI, "emulator", "--port", str(slack_port)],
            env,
            f"{slack}/_emulator/state",
            tmp_path / "emulator.log",
        ),
        _process(
            [*_CLI, "serve", "--port", str(gateway_port)],
            env,
            f"{gateway}/healthz",
            tmp_path / "gateway.log",
        ),
    ):
        code, out = await _cli(env, "apps", "provision")
        assert code == 0, out
        assert "created" in out and "verified" in out

        code, link = await _cli(env, "workspaces", "install-link", "acme-account")
        assert code == 0, link
        async with httpx.AsyncClient(timeout=20.0) as browser:
            start = await browser.get(link.splitlines()[0])
            assert start.status_code == 302, start.text
            assert "server" not in start.headers  # the gateway doesn't say what it runs on
            approve = await browser.post(
                f"{slack}/_emulator/oauth/approve",
                json={
                    "authorize_url": start.headers["location"],
                    "team_id": "T0ACME0001",
                    "user_id": "U0ACME0001",
                },
            )
            assert approve.status_code == 200, approve.text
            done = await browser.get(approve.json()["redirect_url"])
            assert done.status_code == 200, done.text

        code, out = await _cli(env, "workspaces", "list", "--json")
        assert code == 0, out
        (row,) = json.loads(out)
        assert (row["team_id"], row["status"], row["ref"]) == (
            "T0ACME0001",
            "active",
            "acme-account",
        )

        code, out = await _cli(env, "workspaces", "remove", "T0ACME0001", "--yes")
        assert code == 0, out
        assert "Removed" in out

        code, out = await _cli(env, "workspaces", "list", "--json")
        assert json.loads(out)[0]["status"] == "removed"

        code, out = await _cli(env, "workspaces", "remove", "T0ACME0001", "--yes")
        assert code == 1
        assert "no installation" in out and "Traceback" not in out
