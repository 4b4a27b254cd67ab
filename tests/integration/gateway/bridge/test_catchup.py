"""Catch-up: replies posted while the gateway was stopped reach the product once, in order,
after it starts again (their events went to a gateway that wasn't there)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from slackbridge.bridge.catchup import CATCHUP_MESSAGES, CATCHUP_REQUESTS
from slackbridge.store.repositories.bridge_conversations import (
    ConversationsRepository,
    NewConversation,
)
from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    API_KEY,
    BOB,
    SUPPORT,
    ProductServer,
)
from tests.support.stack import EmulatorServer, browser, install_via_browser, run_gateway


async def _act(emulator: EmulatorServer, path: str, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=20.0) as client:
        response = await client.post(f"{emulator.url}/_emulator/{path}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _created(product: ProductServer, key: str) -> list[dict[str, Any]]:
    return [
        e
        for e in product.of_type("conversation.message.created")
        if e["data"]["conversation"]["key"] == key
    ]


async def test_replies_posted_while_stopped_arrive_once_in_order_after_restart(
    emulator: EmulatorServer, product: ProductServer, tmp_path: Path
) -> None:
    settings: dict[str, Any] = {
        "api_keys": API_KEY,
        "webhook_url": product.url,
        "webhook_secret": product.secret,
        "webhook_retry_scale": 0.02,
        "bridge_history_per_minute": 600.0,
        "bridge_catchup_interval": 0.5,
    }
    data_dir = tmp_path / "gateway"
    async with run_gateway(emulator, data_dir, **settings) as gw:
        await gw.provision()
        async with browser() as b:
            page = await install_via_browser(b, gw, ACME, ALICE)
        assert page.status_code == 200, page.text
        bot = emulator.state.workspaces[ACME]
        bot_user = next(u.id for u in bot.users.values() if u.is_bot and u.id != "USLACKBOT")
        await _act(
            emulator, "conversations/invite", channel_id=SUPPORT, user_id=ALICE, users=[bot_user]
        )
        card = await _act(emulator, "messages", channel_id=SUPPORT, user_id=ALICE, text="card")
        await ConversationsRepository(gw.gateway.db, gw.gateway.keyring).create(
            NewConversation(
                key="ticket-9",
                team_id=ACME,
                mode="still",
                state="open",
                channel_id=SUPPORT,
                thread_ts=card["ts"],
                created_by="test",
            )
        )
        live = await _act(
            emulator, "messages", channel_id=SUPPORT, user_id=BOB, text="r0", thread_ts=card["ts"]
        )
        await product.wait_for(lambda p: len(_created(p, "ticket-9")) == 1)

    # Stopped: these replies' events meet a closed port (and Slack gives up on them).
    missed = []
    for i, who in enumerate((ALICE, BOB, ALICE), 1):
        posted = await _act(
            emulator,
            "messages",
            channel_id=SUPPORT,
            user_id=who,
            text=f"r{i}",
            thread_ts=card["ts"],
        )
        missed.append(posted["ts"])
    await _act(emulator, "messages", channel_id=SUPPORT, user_id=BOB, text="not in the thread")
    before = CATCHUP_MESSAGES._value.get()

    async with run_gateway(emulator, data_dir, **settings):
        await product.wait_for(lambda p: len(_created(p, "ticket-9")) == 4, within=60)
        # Three more sweeps look at the thread again: nothing is sent again.
        swept = CATCHUP_REQUESTS.labels("ok")._value.get()
        deadline = time.monotonic() + 30
        while CATCHUP_REQUESTS.labels("ok")._value.get() < swept + 3:
            assert time.monotonic() < deadline, "the catch-up stopped sweeping"
            await asyncio.sleep(0.05)
    created = _created(product, "ticket-9")
    assert [e["data"]["message"]["ts"] for e in created] == [live["ts"], *missed]
    assert [e["data"]["message"]["text"] for e in created] == ["r0", "r1", "r2", "r3"]
    assert created[1]["data"]["message"]["author"]["name"] == "alice"
    assert CATCHUP_MESSAGES._value.get() - before == 3
    tss = Counter(
        e["data"]["message"]["ts"] for e in product.of_type("conversation.message.created")
    )
    assert max(tss.values()) == 1
