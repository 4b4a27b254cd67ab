"""The conversation bridge as a new user would run it: ``slackbridge emulator`` and
``slackbridge serve`` as real processes, the app provisioned and installed from the command line,
then a still and a noisy conversation driven with the typed client. The gateway is killed with
SIGKILL right after creating a conversation was accepted: after a restart it exists in Slack
exactly once, and its first message follows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from slackbridge.client import Slackbridge
from slackbridge.emulator.seed import DEFAULT_CONFIGURATION_TOKEN
from tests.support.processes import stop_process, wait_healthy
from tests.support.servers import free_port

pytestmark = pytest.mark.slow
_CLI = [sys.executable, "-m", "slackbridge.cli"]
ACME, ALICE, BOB, SUPPORT = "T0ACME0001", "U0ACME0001", "U0ACME0002", "C0ACME0SUP"
API_KEY = "sbk_accept_" + "b" * 32


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


@asynccontextmanager
async def _process(
    args: list[str], env: dict[str, str], health: str, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(*args, env=env, stdout=out, stderr=out)
        try:
            await wait_healthy(proc, health, f"slackbridge {args[3]}", log=lambda: _read(log))
            yield proc
        finally:
            await stop_process(proc)


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *_CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _install(env: dict[str, str], slack: str) -> None:
    code, out = await _cli(env, "apps", "provision")
    assert code == 0, out
    async with httpx.AsyncClient(timeout=20.0) as browser:
        start = await browser.get(env["SLACKBRIDGE_PUBLIC_URL"] + "/slack/install")
        assert start.status_code == 302, start.text
        approve = await browser.post(
            f"{slack}/_emulator/oauth/approve",
            json={"authorize_url": start.headers["location"], "team_id": ACME, "user_id": ALICE},
        )
        assert approve.status_code == 200, approve.text
        assert (await browser.get(approve.json()["redirect_url"])).status_code == 200


async def _messages(slack: str, channel: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        answer = await client.get(f"{slack}/_emulator/conversations/{ACME}/{channel}/messages")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["messages"])


async def test_conversations_from_the_command_line_survive_a_kill(tmp_path: Path) -> None:
    slack_port, gateway_port = free_port(), free_port()
    slack = f"http://127.0.0.1:{slack_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")},
        "SLACKBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "SLACKBRIDGE_PUBLIC_URL": gateway,
        "SLACKBRIDGE_SLACK_API_URL": f"{slack}/api/",
        "SLACKBRIDGE_SLACK_URL": slack,
        "SLACKBRIDGE_SLACK_CONFIGURATION_TOKEN": DEFAULT_CONFIGURATION_TOKEN,
        "SLACKBRIDGE_API_KEYS": API_KEY,
        "SLACKBRIDGE_OUTBOX_LEASE_SECONDS": "2",
        "SLACKBRIDGE_LOG_LEVEL": "WARNING",
    }
    serve = [*_CLI, "serve", "--port", str(gateway_port)]
    emulator = [*_CLI, "emulator", "--port", str(slack_port)]
    async with _process(emulator, env, f"{slack}/_emulator/state", tmp_path / "emulator.log"):
        async with _process(serve, env, f"{gateway}/healthz", tmp_path / "gateway.log") as gw:
            await _install(env, slack)
            async with Slackbridge(gateway, API_KEY) as sb:
                answers = await asyncio.gather(
                    *(
                        sb.conversations.put(
                            "ticket-1",
                            workspace=ACME,
                            channel=SUPPORT,
                            card={"text": "Ticket 1: the printer"},
                        )
                        for _ in range(8)
                    )
                )
                assert {a.key for a in answers} == {"ticket-1"}
                await sb.conversations.post(
                    "ticket-1",
                    id="m1",
                    author={"persona": {"name": "Dana (support)"}},
                    text="We are on it",
                )
            gw.send_signal(signal.SIGKILL)
            await gw.wait()
        async with _process(serve, env, f"{gateway}/healthz", tmp_path / "gateway.log"):
            async with Slackbridge(gateway, API_KEY) as sb:
                conversation = await sb.conversations.wait_open("ticket-1", within=60)
                assert conversation.state == "open" and conversation.thread_ts
                sent = await sb.conversations.wait_message("ticket-1", "m1", within=60)
                assert sent.state == "sent" and sent.ts
                noisy = await sb.conversations.put(
                    "case-2", workspace=ACME, mode="noisy", invite=[BOB]
                )
                assert noisy.mode == "noisy"
                opened = await sb.conversations.wait_open("case-2", within=60)
                assert opened.channel is not None
                closed = await sb.conversations.close("case-2", message="Done")
                assert closed.state == "closed"
            messages = await _messages(slack, SUPPORT)
            cards = [m for m in messages if m.get("text") == "Ticket 1: the printer"]
            assert len(cards) == 1, cards
