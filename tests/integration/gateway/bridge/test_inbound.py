"""Slack → product through the bridge: people's messages, edits, deletions and reactions in a
conversation's thread or channel become conversation.* webhooks, once each, in order; the
gateway's own posts never come back; watched channels open conversations."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.emulator.ops_channels import archive_channel
from slackbridge.store.repositories.bridge_conversations import (
    Conversation,
    ConversationsRepository,
    NewConversation,
)
from slackbridge.store.repositories.bridge_users import UserLinksRepository
from slackbridge.store.repositories.watched_channels import WatchedChannelsRepository
from tests.integration.gateway.api.conftest import ACME, ALICE, BOB, GENERAL, SUPPORT, ApiStack
from tests.integration.gateway.bridge.conftest import act, invite_bot


@pytest.fixture
def stack(inbound: ApiStack) -> ApiStack:
    """These tests hear Slack's events from #support: the bot is a member."""
    return inbound


def _conversations(stack: ApiStack) -> ConversationsRepository:
    gw = stack.gateway.gateway
    return ConversationsRepository(gw.db, gw.keyring)


async def open_still(
    stack: ApiStack, key: str = "ticket-1", channel: str = SUPPORT
) -> Conversation:
    """A still conversation whose card a person posted (the API's card post is the bridge
    engineer's; here the thread just has to exist)."""
    card = await act(stack, "messages", channel_id=channel, user_id=ALICE, text=f"card {key}")
    created = await _conversations(stack).create(
        NewConversation(
            key=key,
            team_id=ACME,
            mode="still",
            state="open",
            channel_id=channel,
            thread_ts=card["ts"],
            created_by="test",
        )
    )
    return created.conversation


def _of(stack: ApiStack, *types: str) -> list[dict[str, Any]]:
    return stack.product.of_type(*types)


def _conv(stack: ApiStack, key: str, *types: str) -> list[dict[str, Any]]:
    return [e for e in _of(stack, *types) if e["data"]["conversation"]["key"] == key]


async def _heard(stack: ApiStack, key: str, type_: str, count: int = 1) -> None:
    await stack.product.wait_for(lambda p: len(_conv(stack, key, type_)) >= count)


async def test_replies_edits_deletions_and_reactions_of_a_still_thread(stack: ApiStack) -> None:
    gw = stack.gateway.gateway
    await UserLinksRepository(gw.db, gw.keyring).put_link(
        ACME, "agent-7", slack_user=BOB, email=None
    )
    conv = await open_still(stack)
    root = conv.thread_ts
    first = await act(
        stack, "messages", channel_id=SUPPORT, user_id=BOB, text="one", thread_ts=root
    )
    await _heard(stack, "ticket-1", "conversation.message.created")
    second = await act(
        stack, "messages", channel_id=SUPPORT, user_id=ALICE, text="two", thread_ts=root
    )
    # Not the conversation's: another top-level message of the channel.
    await act(stack, "messages", channel_id=SUPPORT, user_id=ALICE, text="elsewhere")
    await stack.product.wait_for(
        lambda p: len(_conv(stack, "ticket-1", "conversation.message.created")) == 2
    )
    created = _conv(stack, "ticket-1", "conversation.message.created")
    assert [e["data"]["message"]["ts"] for e in created] == [first["ts"], second["ts"]]
    data = created[0]["data"]
    assert data["conversation"] == {
        "key": "ticket-1",
        "mode": "still",
        "channel": SUPPORT,
        "thread_ts": root,
    }
    assert data["message"]["text"] == "one"
    assert data["message"]["author"] == {
        "slack_user": BOB,
        "name": "bob",
        "real_name": "Bob Baker",
        "email": "bob@acme.test",
        "product_user": "agent-7",
        "bot_id": None,
    }
    assert data["message"]["broadcast"] is False

    # Slack doesn't promise the order of separate events: each step waits for the one before.
    await act(stack, "messages/edit", channel_id=SUPPORT, ts=first["ts"], text="one!")
    await _heard(stack, "ticket-1", "conversation.message.edited")
    await act(stack, "reactions", channel_id=SUPPORT, ts=second["ts"], user_id=BOB, name="eyes")
    await _heard(stack, "ticket-1", "conversation.reaction.added")
    await act(stack, "messages/delete", channel_id=SUPPORT, ts=second["ts"])
    await _heard(stack, "ticket-1", "conversation.message.deleted")
    (edited,) = _conv(stack, "ticket-1", "conversation.message.edited")
    assert edited["data"]["message"]["text"] == "one!"
    assert edited["data"]["previous"]["text"] == "one"
    (reaction,) = _conv(stack, "ticket-1", "conversation.reaction.added")
    assert reaction["data"]["reaction"]["name"] == "eyes"
    assert reaction["data"]["reaction"]["message_ts"] == second["ts"]
    assert reaction["data"]["reaction"]["user"]["product_user"] == "agent-7"
    (deleted,) = _conv(stack, "ticket-1", "conversation.message.deleted")
    assert deleted["data"]["message"] == {"ts": second["ts"], "product_message_id": None}
    # The conversation webhooks come in Slack's order, in the channel's lane.
    order = [e["type"] for e in _conv(stack, "ticket-1", *_ALL)]
    assert order == [
        "conversation.message.created",
        "conversation.message.created",
        "conversation.message.edited",
        "conversation.reaction.added",
        "conversation.message.deleted",
    ]
    # The plain message.* webhooks still go out beside them.
    assert any(e["data"].get("ts") == first["ts"] for e in _of(stack, "message.posted"))


_ALL = (
    "conversation.opened",
    "conversation.message.created",
    "conversation.message.edited",
    "conversation.message.deleted",
    "conversation.reaction.added",
    "conversation.reaction.removed",
    "conversation.closed",
    "conversation.reopened",
)


async def test_the_gateways_own_posts_never_come_back_other_bots_do(stack: ApiStack) -> None:
    conv = await open_still(stack, "ticket-2")
    sent = await stack.api.post(
        "/messages",
        json={"workspace": ACME, "channel": SUPPORT, "thread_ts": conv.thread_ts, "text": "ours"},
    )
    assert sent.status_code == 202, sent.text
    ours = await stack.wait_status(sent.json()["id"])
    # Another app's bot in the thread (a bot_message without our marker) is news.
    other = await act(
        stack,
        "messages",
        channel_id=SUPPORT,
        user_id=ALICE,
        text="after",
        thread_ts=conv.thread_ts,
    )
    await stack.product.wait_for(
        lambda p: any(
            e["data"]["message"]["ts"] == other["ts"]
            for e in _conv(stack, "ticket-2", "conversation.message.created")
        )
    )
    tss = [e["data"]["message"]["ts"] for e in _conv(stack, "ticket-2", *_ALL)]
    assert ours["ts"] not in tss


async def test_a_noisy_channel_hears_everything_and_its_archive_closes_it(
    stack: ApiStack,
) -> None:
    await _conversations(stack).create(
        NewConversation(
            key="room-1",
            team_id=ACME,
            mode="noisy",
            state="open",
            channel_id=GENERAL,
            created_by="test",
        )
    )
    await invite_bot(stack, GENERAL)
    top = await act(stack, "messages", channel_id=GENERAL, user_id=ALICE, text="top")
    await _heard(stack, "room-1", "conversation.message.created")
    reply = await act(
        stack, "messages", channel_id=GENERAL, user_id=BOB, text="reply", thread_ts=top["ts"]
    )
    await stack.product.wait_for(
        lambda p: len(_conv(stack, "room-1", "conversation.message.created")) == 2
    )
    created = _conv(stack, "room-1", "conversation.message.created")
    assert [e["data"]["message"]["ts"] for e in created] == [top["ts"], reply["ts"]]
    assert created[0]["data"]["conversation"]["thread_ts"] is None
    state = stack.emulator.state
    archive_channel(state, state.workspaces[ACME].channels[GENERAL], ALICE)
    await stack.product.wait_for(lambda p: bool(_conv(stack, "room-1", "conversation.closed")))
    (closed,) = _conv(stack, "room-1", "conversation.closed")
    assert closed["data"]["closed_by"] == "slack"
    stored = await _conversations(stack).get("room-1")
    assert stored is not None and stored.state == "closed"


async def test_a_watched_channel_opens_a_conversation_and_keeps_its_thread(
    stack: ApiStack,
) -> None:
    gw = stack.gateway.gateway
    await WatchedChannelsRepository(gw.db, gw.keyring).put(ACME, SUPPORT, open_on="message")
    root = await act(stack, "messages", channel_id=SUPPORT, user_id=ALICE, text="printer!")
    reply = await act(
        stack, "messages", channel_id=SUPPORT, user_id=BOB, text="on it", thread_ts=root["ts"]
    )
    await stack.product.wait_for(
        lambda p: (
            bool(p.of_type("conversation.opened"))
            and bool(p.of_type("conversation.message.created"))
        )
    )
    (opened,) = _of(stack, "conversation.opened")
    assert opened["data"]["conversation"] == {
        "key": None,
        "mode": "still",
        "channel": SUPPORT,
        "thread_ts": root["ts"],
    }
    assert opened["data"]["message"]["text"] == "printer!"
    assert opened["data"]["message"]["author"]["slack_user"] == ALICE
    (created,) = _of(stack, "conversation.message.created")
    assert created["data"]["message"]["ts"] == reply["ts"]
    assert created["data"]["conversation"]["thread_ts"] == root["ts"]
    stored = await _conversations(stack).by_place(ACME, SUPPORT, root["ts"])
    assert stored is not None and stored.state == "open" and stored.created_by is None


async def test_a_watched_channel_opens_on_the_chosen_reaction(stack: ApiStack) -> None:
    gw = stack.gateway.gateway
    await WatchedChannelsRepository(gw.db, gw.keyring).put(
        ACME, SUPPORT, open_on="reaction", reaction="ticket"
    )
    root = await act(stack, "messages", channel_id=SUPPORT, user_id=ALICE, text="broken")
    await act(stack, "reactions", channel_id=SUPPORT, ts=root["ts"], user_id=BOB, name="eyes")
    await act(stack, "reactions", channel_id=SUPPORT, ts=root["ts"], user_id=BOB, name="ticket")
    await stack.product.wait_for(lambda p: bool(p.of_type("conversation.opened")))
    (opened,) = _of(stack, "conversation.opened")
    assert opened["data"]["message"]["ts"] == root["ts"]
    assert opened["data"]["message"]["text"] == "broken"
    assert opened["data"]["trigger"]["reaction"] == "ticket"
    assert opened["data"]["trigger"]["user"]["slack_user"] == BOB
