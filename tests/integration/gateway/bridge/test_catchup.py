"""Catch-up: replies posted, edited or deleted while the gateway was stopped reach the product
once, in order, after it starts again (their events went to a gateway that wasn't there)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from slackbridge.bridge.catchup import CATCHUP_CHANGES, CATCHUP_MESSAGES, CATCHUP_REQUESTS
from slackbridge.store.repositories.bridge_conversations import (
    ConversationsRepository,
    NewConversation,
)
from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    API_KEY,
    BOB,
    GENERAL,
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
    return _of(product, key, "conversation.message.created")


def _of(product: ProductServer, key: str, type_: str) -> list[dict[str, Any]]:
    return [e for e in product.of_type(type_) if e["data"]["conversation"]["key"] == key]


def _settings(product: ProductServer) -> dict[str, Any]:
    """A gateway delivering to ``product`` whose catch-up sweeps twice a second."""
    return {
        "api_keys": API_KEY,
        "webhook_url": product.url,
        "webhook_secret": product.secret,
        "webhook_retry_scale": 0.02,
        "bridge_history_per_minute": 600.0,
        "bridge_catchup_interval": 0.5,
    }


async def _installed(emulator: EmulatorServer, gw: Any, channel: str) -> None:
    """Provision the app, install it into Acme, and invite its bot into ``channel``."""
    await gw.provision()
    async with browser() as b:
        page = await install_via_browser(b, gw, ACME, ALICE)
    assert page.status_code == 200, page.text
    bot_user = next(
        inst.bot_user_id for (_, team), inst in emulator.state.installations.items() if team == ACME
    )
    await _act(
        emulator, "conversations/invite", channel_id=channel, user_id=ALICE, users=[bot_user]
    )


async def _conversation(
    gw: Any, key: str, mode: str, channel: str, thread_ts: str | None = None
) -> None:
    """Open a conversation of the bridge in Acme's ``channel`` (a still one on ``thread_ts``)."""
    await ConversationsRepository(gw.gateway.db, gw.gateway.keyring).create(
        NewConversation(
            key=key,
            team_id=ACME,
            mode=mode,
            state="open",
            channel_id=channel,
            thread_ts=thread_ts,
            created_by="test",
        )
    )


async def _sweeps(count: int) -> None:
    """Wait until the catch-up has read Slack ``count`` more times."""
    swept = CATCHUP_REQUESTS.labels("ok")._value.get()
    deadline = time.monotonic() + 30
    while CATCHUP_REQUESTS.labels("ok")._value.get() < swept + count:
        assert time.monotonic() < deadline, "the catch-up stopped sweeping"
        await asyncio.sleep(0.05)


async def test_replies_posted_while_stopped_arrive_once_in_order_after_restart(
    emulator: EmulatorServer, product: ProductServer, tmp_path: Path
) -> None:
    settings = _settings(product)
    data_dir = tmp_path / "gateway"
    async with run_gateway(emulator, data_dir, **settings) as gw:
        await _installed(emulator, gw, SUPPORT)
        card = await _act(emulator, "messages", channel_id=SUPPORT, user_id=ALICE, text="card")
        await _conversation(gw, "ticket-9", "still", SUPPORT, thread_ts=card["ts"])
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
        await _sweeps(3)
    created = _created(product, "ticket-9")
    assert [e["data"]["message"]["ts"] for e in created] == [live["ts"], *missed]
    assert [e["data"]["message"]["text"] for e in created] == ["r0", "r1", "r2", "r3"]
    assert created[1]["data"]["message"]["author"]["name"] == "alice"
    assert CATCHUP_MESSAGES._value.get() - before == 3
    tss = Counter(
        e["data"]["message"]["ts"] for e in product.of_type("conversation.message.created")
    )
    assert max(tss.values()) == 1


async def test_a_noisy_channels_messages_and_thread_replies_are_caught_up(
    emulator: EmulatorServer, product: ProductServer, tmp_path: Path
) -> None:
    settings = _settings(product)
    data_dir = tmp_path / "gateway"
    async with run_gateway(emulator, data_dir, **settings) as gw:
        await _installed(emulator, gw, GENERAL)
        await _conversation(gw, "room-9", "noisy", GENERAL)
        first = await _act(emulator, "messages", channel_id=GENERAL, user_id=BOB, text="n0")
        await product.wait_for(lambda p: len(_created(p, "room-9")) == 1)

    top = await _act(emulator, "messages", channel_id=GENERAL, user_id=ALICE, text="n1")
    reply = await _act(
        emulator, "messages", channel_id=GENERAL, user_id=BOB, text="n2", thread_ts=top["ts"]
    )
    old_thread = await _act(
        emulator, "messages", channel_id=GENERAL, user_id=BOB, text="n3", thread_ts=first["ts"]
    )
    async with run_gateway(emulator, data_dir, **settings):
        await product.wait_for(lambda p: len(_created(p, "room-9")) == 4, within=60)
    created = _created(product, "room-9")
    assert [e["data"]["message"]["ts"] for e in created] == [
        first["ts"],
        top["ts"],
        reply["ts"],
        old_thread["ts"],
    ]
    assert created[2]["data"]["message"]["thread_ts"] == top["ts"]


async def test_edits_and_deletions_made_while_stopped_arrive_once_after_restart(
    emulator: EmulatorServer, product: ProductServer, tmp_path: Path
) -> None:
    settings = _settings(product)
    data_dir = tmp_path / "gateway"
    async with run_gateway(emulator, data_dir, **settings) as gw:
        await _installed(emulator, gw, SUPPORT)
        card = await _act(emulator, "messages", channel_id=SUPPORT, user_id=ALICE, text="card")
        await _conversation(gw, "ticket-7", "still", SUPPORT, thread_ts=card["ts"])
        replies = []
        for i, who in enumerate((BOB, ALICE, BOB)):
            posted = await _act(
                emulator,
                "messages",
                channel_id=SUPPORT,
                user_id=who,
                text=f"e{i}",
                thread_ts=card["ts"],
            )
            replies.append(posted["ts"])
        await product.wait_for(lambda p: len(_created(p, "ticket-7")) == 3)
        # An edit heard live: the product has it, the store its new content.
        await _act(emulator, "messages/edit", channel_id=SUPPORT, ts=replies[2], text="e2, fixed")
        await product.wait_for(
            lambda p: len(_of(p, "ticket-7", "conversation.message.edited")) == 1
        )

    # Stopped: the edit's and the deletion's events meet a closed port.
    await _act(emulator, "messages/edit", channel_id=SUPPORT, ts=replies[0], text="e0, fixed")
    await _act(emulator, "messages/delete", channel_id=SUPPORT, ts=replies[1], user_id=ALICE)
    edits_before = CATCHUP_CHANGES.labels("edited")._value.get()
    deletions_before = CATCHUP_CHANGES.labels("deleted")._value.get()

    async with run_gateway(emulator, data_dir, **settings):
        await product.wait_for(
            lambda p: (
                len(_of(p, "ticket-7", "conversation.message.edited")) == 2
                and _of(p, "ticket-7", "conversation.message.deleted")
            ),
            within=60,
        )
        # The sweeps after it (the live edit old enough to be looked at) send nothing again.
        await _sweeps(3)
    edited = _of(product, "ticket-7", "conversation.message.edited")
    assert [(e["data"]["message"]["ts"], e["data"]["message"]["text"]) for e in edited] == [
        (replies[2], "e2, fixed"),
        (replies[0], "e0, fixed"),
    ]
    deleted = _of(product, "ticket-7", "conversation.message.deleted")
    assert [e["data"]["message"]["ts"] for e in deleted] == [replies[1]]
    assert len(_created(product, "ticket-7")) == 3
    assert CATCHUP_CHANGES.labels("edited")._value.get() - edits_before == 1
    assert CATCHUP_CHANGES.labels("deleted")._value.get() - deletions_before == 1


async def test_a_noisy_channels_reply_and_message_deleted_while_stopped_arrive_once(
    emulator: EmulatorServer, product: ProductServer, tmp_path: Path
) -> None:
    settings = _settings(product)
    data_dir = tmp_path / "gateway"
    async with run_gateway(emulator, data_dir, **settings) as gw:
        await _installed(emulator, gw, GENERAL)
        await _conversation(gw, "room-8", "noisy", GENERAL)
        top = await _act(emulator, "messages", channel_id=GENERAL, user_id=BOB, text="d0")
        replies = []
        for i, who in enumerate((ALICE, BOB), 1):
            posted = await _act(
                emulator,
                "messages",
                channel_id=GENERAL,
                user_id=who,
                text=f"d{i}",
                thread_ts=top["ts"],
            )
            replies.append(posted["ts"])
        later = []
        for i in (3, 4):
            posted = await _act(emulator, "messages", channel_id=GENERAL, user_id=BOB, text=f"d{i}")
            later.append(posted["ts"])
        await product.wait_for(lambda p: len(_created(p, "room-8")) == 5)

    # Stopped: the deletions' events meet a closed port. A reply with a newer one after it in
    # its thread, a top-level message with a newer one after it in the channel.
    await _act(emulator, "messages/delete", channel_id=GENERAL, ts=replies[0], user_id=ALICE)
    await _act(emulator, "messages/delete", channel_id=GENERAL, ts=later[0], user_id=BOB)
    deletions_before = CATCHUP_CHANGES.labels("deleted")._value.get()

    async with run_gateway(emulator, data_dir, **settings):
        await product.wait_for(
            lambda p: len(_of(p, "room-8", "conversation.message.deleted")) == 2, within=60
        )
        # The sweeps after it send nothing again.
        await _sweeps(3)
    deleted = _of(product, "room-8", "conversation.message.deleted")
    assert sorted(e["data"]["message"]["ts"] for e in deleted) == sorted([replies[0], later[0]])
    assert len(_created(product, "room-8")) == 5
    assert CATCHUP_CHANGES.labels("deleted")._value.get() - deletions_before == 2
