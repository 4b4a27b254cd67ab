"""Catch-up over a real store (SQLite and PostgreSQL), with Slack's history scripted: edits and
deletions made while the gateway was away reach the product once, with the webhook ids the live
path gives them; nothing is deleted that a read did not prove gone; the product's own posts
never come back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from slackbridge.bridge.authors import Identities
from slackbridge.bridge.catchup import CATCHUP_CHANGES, Budget, CatchUp, HistoryPage
from slackbridge.bridge.inbound import InboundBridge
from slackbridge.bridge.noise import content_digest
from slackbridge.domain.events import DomainEvent, Received
from slackbridge.product.webhook_policy import webhook_id
from slackbridge.store.repositories.bridge_conversations import Conversation, NewConversation
from slackbridge.store.repositories.bridge_inbound import InboundRepository
from slackbridge.store.repositories.bridge_messages import NewProductMessage, PostOperations
from slackbridge.store.store import Store

T, C = "T0ACME0001", "C0ACME0SUP"
ROOT = "1795260600.000001"
R1, R2, R3, R4 = (f"179526060{i}.000001" for i in range(1, 5))
EDITED_AT = "1795260650.000001"
NOW = 1795261000.0
MARKER = {"event_type": "slackbridge_post", "event_payload": {"slackbridge_message_id": "msg_1"}}


def _reply(ts: str, text: str, **fields: Any) -> dict[str, Any]:
    return {"type": "message", "user": "U1", "text": text, "ts": ts, "thread_ts": ROOT, **fields}


class _Slack:
    """The thread as ``conversations.replies`` answers it (the parent first, then the replies
    after ``oldest``), or a read that never ends, or one that fails."""

    def __init__(self, *replies: dict[str, Any]) -> None:
        self.replies = {r["ts"]: r for r in replies}
        self.endless = False
        self.failing = False

    def edit(self, ts: str, text: str) -> dict[str, Any]:
        edited = {**self.replies[ts], "text": text, "edited": {"user": "U1", "ts": EDITED_AT}}
        self.replies[ts] = edited
        return edited

    async def fetch(
        self, _team: str, _app: str | None, method: str, args: dict[str, Any]
    ) -> HistoryPage:
        assert method == "conversations.replies" and args["ts"] == ROOT
        if self.failing:
            raise RuntimeError("conversations.replies: internal_error")
        oldest = float(args.get("oldest") or 0)
        after = [self.replies[ts] for ts in sorted(self.replies) if float(ts) > oldest]
        root = {"type": "message", "ts": ROOT, "thread_ts": ROOT, "text": "card", "bot_id": "B1"}
        cursor = "more" if self.endless else None
        return HistoryPage([root, *after], cursor, bot_id="B1", bot_user_id="UBOT")


class _Product:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def dispatch(self, events: Sequence[DomainEvent]) -> int:
        self.events.extend(events)
        return len(events)


async def _no_users(_team: str, _app: str | None, _ids: Any) -> dict[str, dict[str, Any]]:
    return {}


async def _no_sleep(_seconds: float) -> None:
    raise AssertionError("the budget should never make this catch-up wait")


def _catchup(
    store: Store, slack: _Slack | _Channel, product: _Product, lookback: float = 900.0
) -> CatchUp:
    return CatchUp(
        conversations=store.conversations,
        messages=store.bridge_messages,
        inbound=InboundRepository(store.db, store.keyring),
        fetch=slack.fetch,
        dispatch=product.dispatch,
        authors=_no_users,
        budget=Budget(per_minute=1e9, burst=1e9),
        base_url="http://gw.test",
        lookback=lookback,
        clock=lambda: NOW,
        sleep=_no_sleep,
    )


def _live(store: Store) -> InboundBridge:
    return InboundBridge(
        InboundRepository(store.db, store.keyring),
        store.conversations,
        store.bridge_messages,
        Identities(store.users, store.user_links, _no_users),
        base_url="http://gw.test",
    )


def _received(event: dict[str, Any], key: str) -> Received:
    payload = {
        "type": "event_callback",
        "team_id": T,
        "api_app_id": "A1",
        "event_id": key,
        "event_time": 1795260700,
        "event": {"channel": C, **event},
    }
    return Received("events", payload, key, 1795260700.0, lambda _m: False)


async def _conversation(store: Store, *heard: dict[str, Any]) -> Conversation:
    """A still conversation whose replies ``heard`` reached the product live."""
    created = await store.conversations.create(
        NewConversation(
            key="ticket-1",
            team_id=T,
            mode="still",
            state="open",
            channel_id=C,
            thread_ts=ROOT,
            created_by="k",
        )
    )
    live = _live(store)
    for i, reply in enumerate(heard):
        (events,) = await live([_received(reply, f"Ev{i}")])
        assert [e.type for e in events] == ["conversation.message.created"]
    found = await store.conversations.get_by_id(created.conversation.id)
    assert found is not None
    return found


def _kinds(product: _Product) -> list[tuple[str, str]]:
    return [(e.type, e.data["message"]["ts"]) for e in product.events]


@pytest.mark.parametrize("live_first", [True, False])
async def test_an_edit_made_while_away_reaches_the_product_once(
    store: Store, live_first: bool
) -> None:
    one, two = _reply(R1, "one"), _reply(R2, "two")
    conversation = await _conversation(store, one, two)
    slack, product = _Slack(one, two), _Product()
    catchup = _catchup(store, slack, product)
    edited = slack.edit(R2, "two, fixed")
    changed = {"type": "message", "subtype": "message_changed", "channel": C}
    changed |= {"message": edited, "previous_message": two, "ts": "1795260650.000002"}
    before = CATCHUP_CHANGES.labels("edited")._value.get()

    if live_first:  # the live event came after all: catch-up finds the edit told
        (heard,) = await _live(store)([_received(changed, "EvEdit")])
        assert await catchup.reconcile(conversation) == 0
        assert [e.type for e in heard] == ["conversation.message.edited"]
        return
    assert await catchup.reconcile(conversation) == 1
    assert _kinds(product) == [("conversation.message.edited", R2)]
    (event,) = product.events
    assert event.data["message"]["text"] == "two, fixed"
    assert event.data["previous"] == {"text": None, "blocks": None}  # history keeps no past
    assert CATCHUP_CHANGES.labels("edited")._value.get() - before == 1
    stored = await store.bridge_messages.by_ts(conversation.id, R2)
    assert stored is not None and stored.content_digest == content_digest(edited)
    # The next sweep finds nothing new; Slack's late retry of the live event has the same id
    # (the deliveries table keeps one).
    assert await catchup.reconcile(conversation) == 0
    (late,) = await _live(store)([_received(changed, "EvEdit")])
    assert [e.type for e in late] == ["conversation.message.edited"]
    assert webhook_id(late[0]) == webhook_id(event)
    assert late[0].dedupe_key == event.dedupe_key


async def test_a_deletion_made_while_away_reaches_the_product_once(store: Store) -> None:
    replies = [_reply(R1, "one"), _reply(R2, "two"), _reply(R3, "three")]
    conversation = await _conversation(store, *replies)
    slack, product = _Slack(replies[0], replies[2]), _Product()
    catchup = _catchup(store, slack, product)
    before = CATCHUP_CHANGES.labels("deleted")._value.get()

    assert await catchup.reconcile(conversation) == 1
    assert _kinds(product) == [("conversation.message.deleted", R2)]
    assert product.events[0].data["message"] == {"ts": R2, "product_message_id": None}
    assert CATCHUP_CHANGES.labels("deleted")._value.get() - before == 1
    stored = await store.bridge_messages.by_ts(conversation.id, R2)
    assert stored is not None and stored.deleted_at is not None
    assert await catchup.reconcile(conversation) == 0
    deleted = {"type": "message", "subtype": "message_deleted", "deleted_ts": R2}
    (late,) = await _live(store)([_received({**deleted, "previous_message": replies[1]}, "EvDel")])
    assert webhook_id(late[0]) == webhook_id(product.events[0])


async def test_no_deletion_without_a_complete_read_that_covers_the_message(store: Store) -> None:
    replies = [_reply(ts, ts) for ts in (R1, R2, R3, R4)]
    conversation = await _conversation(store, *replies)
    product = _Product()
    # The read never ended (a backlog longer than a sweep reads): R2 is not proved gone.
    partial = _Slack(replies[0], replies[2], replies[3])
    partial.endless = True
    assert await _catchup(store, partial, product).reconcile(conversation) == 0
    # The read failed: nothing is sent, nothing recorded.
    failing = _Slack()
    failing.failing = True
    with pytest.raises(RuntimeError):
        await _catchup(store, failing, product).reconcile(conversation)
    # The newest reply is gone, but nothing newer shows the read got that far.
    assert await _catchup(store, _Slack(*replies[:3]), product).reconcile(conversation) == 0
    # R1 is older than the window read (the mark, R4, less 2.5 s): not looked at.
    assert await _catchup(store, _Slack(*replies[1:]), product, 2.5).reconcile(conversation) == 0
    assert product.events == []
    for ts in (R1, R2, R4):
        stored = await store.bridge_messages.by_ts(conversation.id, ts)
        assert stored is not None and stored.deleted_at is None


async def test_the_products_own_posts_are_never_edits_or_deletions(store: Store) -> None:
    replies = [_reply(R1, "one"), _reply(R4, "four")]
    conversation = await _conversation(store, *replies)
    for ts, post_id in ((R2, "p-2"), (R3, "p-3")):
        new = NewProductMessage(conversation.id, post_id, {"product_user": "agent"}, "d", "c")
        stored = await store.bridge_messages.add_product_message(new, lambda: PostOperations(None))
        await store.bridge_messages.settle(stored.message.id, ts=ts, state="sent")
    # The product's R2 is gone from Slack, its R3 shows other words (the gateway's own edit).
    ours = {"ts": R3, "thread_ts": ROOT, "text": "changed", "bot_id": "B1", "metadata": MARKER}
    slack, product = _Slack(replies[0], ours, replies[1]), _Product()
    assert await _catchup(store, slack, product).reconcile(conversation) == 0
    assert product.events == []


# A noisy channel: R1 a thread's parent with replies R2 and R3; R4 and R5 top-level.
R5 = "1795260605.000001"


def _said(ts: str, thread_ts: str | None = None) -> dict[str, Any]:
    message = {"type": "message", "user": "U1", "text": ts, "ts": ts}
    return message | ({"thread_ts": thread_ts} if thread_ts else {})


class _Channel:
    """A channel as ``conversations.history`` (top-level messages after ``oldest``, parents
    with their replies' count and latest) and ``conversations.replies`` answer it."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self.messages = {m["ts"]: m for m in messages}
        self.asked: list[tuple[str, str | None]] = []
        self.endless = False  # every page says there is more

    async def fetch(
        self, _team: str, _app: str | None, method: str, args: dict[str, Any]
    ) -> HistoryPage:
        oldest = float(args.get("oldest") or 0)
        ordered = [self.messages[ts] for ts in sorted(self.messages, key=float)]
        if method == "conversations.history":
            self.asked.append((method, None))
            top = [m for m in ordered if m.get("thread_ts", m["ts"]) == m["ts"]]
            shown = []
            for message in top:
                replies = [m["ts"] for m in ordered if m.get("thread_ts") == message["ts"]]
                if replies:
                    message = message | {"reply_count": len(replies), "latest_reply": replies[-1]}
                shown.append(message)
            page = [m for m in shown if float(m["ts"]) > oldest][::-1]
            return HistoryPage(page, self._cursor, bot_id="B1", bot_user_id="UBOT")
        assert method == "conversations.replies"
        self.asked.append((method, args["ts"]))
        parent = self.messages[args["ts"]]
        replies = [
            m
            for m in ordered
            if m.get("thread_ts") == parent["ts"] != m["ts"] and float(m["ts"]) > oldest
        ]
        return HistoryPage([parent, *replies], self._cursor, bot_id="B1", bot_user_id="UBOT")

    @property
    def _cursor(self) -> str | None:
        return "more" if self.endless else None


async def _noisy(store: Store, *heard: dict[str, Any]) -> Conversation:
    """A noisy conversation (the whole channel) whose messages ``heard`` reached the product
    live."""
    created = await store.conversations.create(
        NewConversation(
            key="room-1", team_id=T, mode="noisy", state="open", channel_id=C, created_by="k"
        )
    )
    live = _live(store)
    for i, message in enumerate(heard):
        (events,) = await live([_received(message, f"Ev{i}")])
        assert [e.type for e in events] == ["conversation.message.created"]
    found = await store.conversations.get_by_id(created.conversation.id)
    assert found is not None
    return found


async def test_a_noisy_channels_reply_and_message_deleted_while_away_reach_the_product_once(
    store: Store,
) -> None:
    said = [_said(ROOT), _said(R1), _said(R2, R1), _said(R3, R1), _said(R4), _said(R5)]
    conversation = await _noisy(store, *said)
    recorded = await InboundRepository(store.db, store.keyring).recorded(conversation.id)
    assert {ts: r.thread_ts for ts, r in recorded.items()} == {
        ROOT: ROOT,
        R1: R1,
        R2: R1,
        R3: R1,
        R4: R4,
        R5: R5,
    }
    # While away: R1's reply R2 and the top-level R4 are deleted.
    slack, product = _Channel(said[0], said[1], said[3], said[5]), _Product()
    catchup = _catchup(store, slack, product)
    before = CATCHUP_CHANGES.labels("deleted")._value.get()

    assert await catchup.reconcile(conversation) == 2
    assert _kinds(product) == [
        ("conversation.message.deleted", R2),
        ("conversation.message.deleted", R4),
    ]
    assert slack.asked == [("conversations.history", None), ("conversations.replies", R1)]
    assert CATCHUP_CHANGES.labels("deleted")._value.get() - before == 2
    for ts in (R2, R4):
        stored = await store.bridge_messages.by_ts(conversation.id, ts)
        assert stored is not None and stored.deleted_at is not None
    assert await catchup.reconcile(conversation) == 0


async def test_a_noisy_channels_messages_recorded_without_their_thread_are_never_deleted(
    store: Store,
) -> None:
    said = [_said(ROOT), _said(R1), _said(R2, R1), _said(R3, R1), _said(R4), _said(R5)]
    conversation = await _noisy(store, *said)
    # As if recorded before the bridge kept threads (migration 0007 leaves them NULL).
    async with store.db.engine.begin() as conn:
        await conn.execute(text("UPDATE bridge_messages SET thread_ts = NULL"))
    slack, product = _Channel(said[0], said[1], said[3], said[5]), _Product()
    assert await _catchup(store, slack, product).reconcile(conversation) == 0
    assert product.events == []


async def test_a_noisy_channels_read_cut_short_deletes_nothing(store: Store) -> None:
    said = [_said(ROOT), _said(R1), _said(R2, R1), _said(R3, R1), _said(R4), _said(R5)]
    conversation = await _noisy(store, *said)
    slack, product = _Channel(said[0], said[1], said[3], said[5]), _Product()
    slack.endless = True
    assert await _catchup(store, slack, product).reconcile(conversation) == 0
    assert product.events == []
    for ts in (R2, R4):
        stored = await store.bridge_messages.by_ts(conversation.id, ts)
        assert stored is not None and stored.deleted_at is None
