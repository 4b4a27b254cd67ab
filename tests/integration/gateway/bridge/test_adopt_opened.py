"""Adopting a conversation Slack opened in a watched channel: ``PUT /conversations/{key}`` with
``adopt`` gives the stored conversation the product's key (no second row, no 409), and what
follows in the thread carries that key both ways."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from slackbridge.store.repositories.bridge_conversations import ConversationsRepository
from tests.integration.gateway.api.conftest import (
    ACME,
    ALICE,
    BOB,
    SUPPORT,
    ApiStack,
    ProductServer,
    start_stack,
)
from tests.integration.gateway.bridge.conftest import act, invite_bot, wait_message
from tests.integration.gateway.conftest import GatewayFactory


@pytest.fixture
async def stack(gateway_factory: GatewayFactory, product: ProductServer) -> AsyncIterator[ApiStack]:
    """The API stack with the bot a member of #support (where the questions are asked)."""
    from slackbridge.slack.workspaces.tokens import bot_token

    s = await start_stack(gateway_factory, product)
    creds = await bot_token(s.gateway.gateway, ACME)
    if creds.bot_user_id not in s.emulator.state.workspaces[ACME].channels[SUPPORT].members:
        await invite_bot(s, SUPPORT)
    async with s.api:
        yield s


def _opened_body(root: str) -> dict[str, Any]:
    return {"workspace": ACME, "mode": "still", "adopt": {"channel": SUPPORT, "thread_ts": root}}


async def _opened(stack: ApiStack) -> str:
    watched = await stack.api.put(
        f"/watched-channels/{SUPPORT}", json={"workspace": ACME, "open_on": "message"}
    )
    assert watched.status_code == 200, watched.text
    root = await act(stack, "messages", channel_id=SUPPORT, user_id=ALICE, text="printer!")
    await stack.product.wait_for(lambda p: bool(p.of_type("conversation.opened")))
    return str(root["ts"])


async def test_adopting_an_opened_conversation_gives_it_the_products_key(
    stack: ApiStack,
) -> None:
    root = await _opened(stack)
    gw = stack.gateway.gateway
    store = ConversationsRepository(gw.db, gw.keyring)
    opened = await store.by_place(ACME, SUPPORT, root)
    assert opened is not None and opened.key.startswith("slack:")

    adopted = await stack.api.put(
        "/conversations/ticket-1", json={**_opened_body(root), "title": "Printer"}
    )
    again = await stack.api.put("/conversations/ticket-1", json=_opened_body(root))
    other = await stack.api.put("/conversations/ticket-2", json=_opened_body(root))

    assert adopted.status_code == 201, adopted.text
    body = adopted.json()
    assert (body["key"], body["state"], body["thread_ts"], body["title"]) == (
        "ticket-1",
        "open",
        root,
        "Printer",
    )
    assert again.status_code == 200 and again.json()["key"] == "ticket-1"
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conversation_conflict"
    renamed = await store.by_place(ACME, SUPPORT, root)
    assert renamed is not None and (renamed.id, renamed.key) == (opened.id, "ticket-1")

    # Both ways under the key: a reply in Slack, and the product's answer in the thread.
    reply = await act(
        stack, "messages", channel_id=SUPPORT, user_id=BOB, text="same", thread_ts=root
    )
    await stack.product.wait_for(
        lambda p: any(
            e["data"]["message"]["ts"] == reply["ts"]
            and e["data"]["conversation"]["key"] == "ticket-1"
            for e in p.of_type("conversation.message.created")
        )
    )
    post = {"id": "a1", "author": {"persona": {"name": "Dana"}}, "text": "On it"}
    assert (await stack.api.post("/conversations/ticket-1/messages", json=post)).status_code == 202
    sent = await wait_message(stack, "ticket-1", "a1")
    assert sent["state"] == "sent"


async def test_concurrent_adoptions_of_one_thread_make_one_key(stack: ApiStack) -> None:
    root = await _opened(stack)

    answers = await asyncio.gather(
        *(stack.api.put(f"/conversations/t-{n}", json=_opened_body(root)) for n in range(4))
    )

    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1 and set(codes) <= {201, 409}, [a.text for a in answers]
    (winner,) = [a.json()["key"] for a in answers if a.status_code == 201]
    gw = stack.gateway.gateway
    stored = await ConversationsRepository(gw.db, gw.keyring).by_place(ACME, SUPPORT, root)
    assert stored is not None and stored.key == winner


async def test_concurrent_adoptions_under_one_key_all_answer_it(stack: ApiStack) -> None:
    root = await _opened(stack)

    answers = await asyncio.gather(
        *(stack.api.put("/conversations/ticket-7", json=_opened_body(root)) for _ in range(4))
    )

    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
    assert {a.json()["key"] for a in answers} == {"ticket-7"}
