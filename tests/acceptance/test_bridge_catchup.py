"""Catch-up after a stop, as an operator runs it: ``slackbridge serve`` is stopped while people
keep replying in a bridged thread, then started again on the same data dir; every reply reaches
the product once, in order, as ``conversation.message.created``.

The app is installed through "Add to Slack" and the conversation made through the product API,
as a product would; Slack's retries of the events sent while the gateway was down come a minute
later, after the test is done, so what brings the replies is the catch-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from slackbridge.emulator.testing import DEFAULT_TEST_SCOPES, make_test_app
from tests.support.processes import stop_process, wait_healthy
from tests.support.product import Hook, Product, run_product
from tests.support.servers import free_port
from tests.support.stack import EmulatorServer, browser, consent, run_emulator, start_install

pytestmark = pytest.mark.slow

SECRET = "whsec_" + "YnJpZGdlLWNhdGNoLXVwLXNlY3JldC1mb3ItaG9va3M="
API_KEY = "sbk_test_" + "c" * 32
ACME, ALICE, BOB, SUPPORT = "T0ACME0001", "U0ACME0001", "U0ACME0002", "C0ACME0SUP"
_EVENTS = ["message.channels", "reaction_added", "reaction_removed", "channel_archive"]


@dataclass
class _Serve:
    """``slackbridge serve`` in a subprocess on one port and data dir."""

    env: dict[str, str]
    port: int
    log: Path
    emulator: EmulatorServer
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "slackbridge.cli",
                "serve",
                "--port",
                str(self.port),
                env=self.env,
                stdout=out,
                stderr=out,
            )
        await wait_healthy(
            self.process, self.url + "/readyz", "gateway", log=lambda: self.log.read_text()[-3000:]
        )

    async def stop(self) -> None:
        if self.process is not None:
            await stop_process(self.process)


def _created(product: Product) -> list[Hook]:
    return [
        h
        for h in product.accepted()
        if h.type == "conversation.message.created" and h.data["conversation"]["key"] == "t-1"
    ]


async def _act(emulator: EmulatorServer, path: str, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=20.0) as client:
        answer = await client.post(f"{emulator.url}/_emulator/{path}", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def _wait(product: Product, count: int, within: float) -> list[Hook]:
    deadline = time.monotonic() + within
    while len(_created(product)) < count:
        assert time.monotonic() < deadline, [h.data for h in _created(product)]
        await asyncio.sleep(0.1)
    return _created(product)


async def test_replies_posted_while_stopped_reach_the_product_once_in_order(
    tmp_path: Path,
) -> None:
    async with run_emulator() as emulator, run_product(SECRET) as product:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        scopes = list(DEFAULT_TEST_SCOPES)
        app = make_test_app(
            emulator.state,
            bot_scopes=scopes,
            event_request_url=url + "/slack/events",
            bot_events=_EVENTS,
            redirect_urls=[url + "/slack/oauth/callback"],
        )
        app.distributed = True
        config = {
            "name": "default",
            "app_id": app.id,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "signing_secret": app.signing_secret,
            "bot_scopes": scopes,
        }
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")},
            "SLACKBRIDGE_DATA_DIR": str(tmp_path / "data"),
            "SLACKBRIDGE_PUBLIC_URL": url,
            "SLACKBRIDGE_SLACK_API_URL": emulator.api_url,
            "SLACKBRIDGE_SLACK_URL": emulator.url,
            "SLACKBRIDGE_APPS": json.dumps([config]),
            "SLACKBRIDGE_API_KEYS": API_KEY,
            "SLACKBRIDGE_WEBHOOK_URL": product.hook_url,
            "SLACKBRIDGE_WEBHOOK_SECRET": SECRET,
            "SLACKBRIDGE_WEBHOOK_RETRY_SCALE": "0.05",
            "SLACKBRIDGE_BRIDGE_HISTORY_PER_MINUTE": "600",
            "SLACKBRIDGE_BRIDGE_CATCHUP_INTERVAL": "1",
            "SLACKBRIDGE_LOG_LEVEL": "WARNING",
        }
        gateway = _Serve(env, port, tmp_path / "gateway.log", emulator)
        try:
            await gateway.start()
            async with browser() as client:
                authorize = await start_install(client, gateway)
                back = await client.get(await consent(emulator, authorize, ACME, ALICE))
            assert back.status_code == 200, back.text
            bot = emulator.state.installations[(app.id, ACME)].bot_user_id
            await _act(
                emulator, "conversations/invite", channel_id=SUPPORT, user_id=ALICE, users=[bot]
            )
            async with httpx.AsyncClient(
                base_url=url + "/api/v1", headers={"Authorization": f"Bearer {API_KEY}"}
            ) as api:
                body = {"workspace": ACME, "channel": SUPPORT, "card": {"text": "Ticket 1"}}
                assert (await api.put("/conversations/t-1", json=body)).status_code == 201
                deadline = time.monotonic() + 30
                while (conversation := (await api.get("/conversations/t-1")).json())[
                    "state"
                ] != "open":
                    assert time.monotonic() < deadline, conversation
                    await asyncio.sleep(0.1)
            thread = conversation["thread_ts"]
            first = await _act(
                emulator, "messages", channel_id=SUPPORT, user_id=BOB, text="r0", thread_ts=thread
            )
            await _wait(product, 1, within=30)

            await gateway.stop()
            posted = [first["ts"]]
            for i, who in enumerate((ALICE, BOB, ALICE), 1):
                reply = await _act(
                    emulator,
                    "messages",
                    channel_id=SUPPORT,
                    user_id=who,
                    text=f"r{i}",
                    thread_ts=thread,
                )
                posted.append(reply["ts"])

            await gateway.start()
            created = await _wait(product, 4, within=45)
        finally:
            await gateway.stop()
    assert [h.data["message"]["ts"] for h in created] == posted
    assert [h.data["message"]["text"] for h in created] == ["r0", "r1", "r2", "r3"]
    assert len({h.webhook_id for h in created}) == 4
