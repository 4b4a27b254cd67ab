"""The bridge's tables: conversations created once per key with their operations, messages by
product id, ts and operation, user links and the lookup cache, watched channels."""

from __future__ import annotations

import asyncio

import pytest

from slackbridge.store.errors import ConflictError
from slackbridge.store.repositories.bridge_conversations import NewConversation
from slackbridge.store.repositories.bridge_messages import NewProductMessage, PostOperations
from slackbridge.store.repositories.outbox import NewOutboxMessage
from slackbridge.store.store import Store


def _post(conversation_id: int, text: str = "card") -> list[NewOutboxMessage]:
    return [
        NewOutboxMessage(
            team_id="T1",
            method="chat.postMessage",
            payload={"channel": "C1", "args": {"text": text}},
            lane_key=f"T1:conv:{conversation_id}",
        )
    ]


async def test_concurrent_creates_of_one_key_make_one_conversation_and_one_operation(
    store: Store,
) -> None:
    new = NewConversation(key="ticket-1", team_id="T1", mode="still", channel_id="C1")
    results = await asyncio.gather(*(store.conversations.create(new, _post) for _ in range(20)))
    assert sum(r.created for r in results) == 1
    assert len({r.conversation.id for r in results}) == 1
    rows = await store.outbox.list(team_id="T1")
    assert len(rows) == 1
    conversation = results[0].conversation
    assert conversation.create_operation_id == rows[0].message_id
    assert rows[0].lane_key == f"T1:conv:{conversation.id}"
    assert await store.conversations.by_create_operation(rows[0].message_id) == conversation


async def test_conversation_state_place_and_listing(store: Store) -> None:
    first = (
        await store.conversations.create(
            NewConversation(key="a", team_id="T1", mode="still", channel_id="C1", title="A")
        )
    ).conversation
    second = (
        await store.conversations.create(NewConversation(key="b", team_id="T2", mode="noisy"))
    ).conversation
    opened = await store.conversations.update(
        first.id, expect_state="creating", state="open", thread_ts="1.000100"
    )
    assert opened is not None and opened.state == "open"
    assert await store.conversations.update(first.id, expect_state="creating", state="x") is None
    assert await store.conversations.by_place("T1", "C1", "1.000100") == opened
    await store.conversations.update(second.id, state="open", channel_id="C9")
    found = await store.conversations.by_place("T2", "C9")
    assert found is not None and found.key == "b"
    assert [c.key for c in await store.conversations.list(team_id="T1")] == ["a"]
    assert [c.key for c in await store.conversations.list(after_id=first.id)] == ["b"]
    moved, changed = await store.conversations.change_state(
        first.id, state="closed", from_states=("open",), operations=_post(first.id, "bye")
    )
    assert changed and moved is not None and moved.state == "closed"
    assert moved.state_operation_id is not None
    _, again = await store.conversations.change_state(
        first.id, state="closed", from_states=("open",)
    )
    assert not again
    await store.conversations.touch(second.id, seen_ts="5.000000")
    await store.conversations.touch(second.id, seen_ts="4.000000")
    touched = await store.conversations.get("b")
    assert touched is not None and touched.last_seen_ts == "5.000000"
    assert [c.key for c in await store.conversations.most_recently_active()] == ["b"]


async def test_product_messages_are_stored_once_with_their_operations(store: Store) -> None:
    conversation = (
        await store.conversations.create(NewConversation(key="k", team_id="T1", mode="still"))
    ).conversation
    new = NewProductMessage(
        conversation_id=conversation.id,
        product_message_id="m1",
        author={"persona": {"name": "Ann"}},
        request_digest="d1",
    )

    def ops() -> PostOperations:
        post, upload = (
            NewOutboxMessage(team_id="T1", method=m, payload={}, lane_key="T1:conv:1")
            for m in ("chat.postMessage", "files.upload")
        )
        return PostOperations(post=post, files=[upload])

    results = await asyncio.gather(
        *(store.bridge_messages.add_product_message(new, ops) for _ in range(10))
    )
    assert sum(r.created for r in results) == 1
    message = results[0].message
    assert message.state == "queued" and message.operation_id is not None
    assert len(message.file_operation_ids) == 1
    assert len(await store.outbox.list(team_id="T1")) == 2
    assert await store.bridge_messages.by_operation(message.operation_id) == message
    settled = await store.bridge_messages.settle(message.id, state="sent", ts="2.000100")
    assert settled is not None
    assert await store.bridge_messages.by_ts(conversation.id, "2.000100") == settled
    assert await store.bridge_messages.get(conversation.id, "m1") == settled
    assert await store.bridge_messages.pending() == []

    edit = NewOutboxMessage(team_id="T1", method="chat.update", payload={}, lane_key="x")
    changed, rows = await store.bridge_messages.add_operations(message.id, [edit])
    assert changed.last_operation_id == rows[0].message_id

    seen = await store.bridge_messages.record_slack_message(conversation.id, "3.000100")
    again = await store.bridge_messages.record_slack_message(conversation.id, "3.000100")
    assert seen.created and not again.created and seen.message.origin == "slack"


async def test_user_links_take_over_the_lookup_cache(store: Store) -> None:
    cached = await store.user_links.remember_lookup(
        "T1", "Ann@Example.com", slack_user="U1", name="ann", avatar_url="https://a/1.png"
    )
    assert cached.product_user is None and cached.email == "ann@example.com"
    link = await store.user_links.put_link("T1", "p-ann", email="ann@example.com")
    assert (link.slack_user, link.name, link.product_user) == ("U1", "ann", "p-ann")
    assert await store.user_links.by_email("T1", "ANN@example.com") == link
    assert await store.user_links.by_slack_user("T1", "U1") == link
    with pytest.raises(ConflictError):
        await store.user_links.put_link("T1", "p-other", email="ann@example.com")
    moved = await store.user_links.put_link("T1", "p-ann", slack_user="U2")
    assert (moved.slack_user, moved.email, moved.name) == ("U2", None, None)
    missing = await store.user_links.remember_lookup("T1", "nobody@example.com", slack_user=None)
    assert missing.slack_user is None and missing.fetched_at is not None
    assert await store.user_links.remember_profile("T1", "U2", name="Ann B", avatar_url=None) == 1
    assert await store.user_links.expire("T1") >= 1


async def test_watched_channels(store: Store) -> None:
    first = await store.watched_channels.put("T1", "C1", open_on="message")
    assert first.open_on == "message" and first.mode == "still"
    changed = await store.watched_channels.put("T1", "C1", open_on="reaction", reaction="ticket")
    assert (changed.open_on, changed.reaction) == ("reaction", "ticket")
    await store.watched_channels.put("T2", "C2", open_on="message")
    assert [w.channel_id for w in await store.watched_channels.list(team_id="T1")] == ["C1"]
    assert await store.watched_channels.remove("T1", "C1")
    assert not await store.watched_channels.remove("T1", "C1")
    assert await store.watched_channels.get("T1", "C1") is None


async def test_a_reply_to_a_closed_conversation_reopens_or_tells(store: Store) -> None:
    from slackbridge.bridge.closing import reply_to_closed

    made = await store.conversations.create(
        NewConversation(key="c", team_id="T1", mode="still", channel_id="C1"), _post
    )
    conversation = await store.conversations.update(
        made.conversation.id, state="closed", thread_ts="1.000100"
    )
    assert conversation is not None
    told = await reply_to_closed(
        store, conversation, user="U1", setting="tell", closed_message="closed, sorry"
    )
    assert told == "told"
    ephemeral = [
        r for r in await store.outbox.list(team_id="T1") if r.method == "chat.postEphemeral"
    ]
    assert ephemeral[0].payload["args"] == {
        "user": "U1",
        "text": "closed, sorry",
        "thread_ts": "1.000100",
    }
    reopened = await reply_to_closed(
        store, conversation, user="U1", setting="reopen", closed_message="x"
    )
    assert reopened == "reopened"
    after = await store.conversations.get("c")
    assert after is not None and after.state == "open"
    rows = await store.outbox.list(team_id="T1")
    assert rows[-1].method == "reactions.remove"
    assert rows[-1].payload["ref"] == made.conversation.create_operation_id
    assert await reply_to_closed(store, after, user="U1", setting="tell", closed_message="x") == (
        "ignored"
    )


async def test_an_event_before_the_answer_finds_its_message(store: Store) -> None:
    """Slack's event about a post may arrive before chat.postMessage answers: the operation id
    in its metadata names the message though its ts is not known yet."""
    from slackbridge.bridge.loop_guard import is_own_post
    from slackbridge.slack.outbound.outbox_ops import with_marker

    conversation = (
        await store.conversations.create(NewConversation(key="r", team_id="T1", mode="still"))
    ).conversation
    stored = await store.bridge_messages.add_product_message(
        NewProductMessage(
            conversation_id=conversation.id, product_message_id="m", author={}, request_digest="d"
        ),
        lambda: PostOperations(
            post=NewOutboxMessage(team_id="T1", method="chat.postMessage", payload={})
        ),
    )
    assert stored.message.ts is None and stored.message.operation_id is not None
    event = {
        "type": "message",
        "ts": "9.000100",
        "metadata": with_marker({"event_type": "slackbridge_post"}, stored.message.operation_id),
    }
    own = is_own_post(event)
    assert own is not None
    found = await store.bridge_messages.by_operation(own)
    assert found is not None and found.product_message_id == "m" and found.ts is None
