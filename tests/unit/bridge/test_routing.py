"""Routing: which conversation a Slack event belongs to, and which webhook it makes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from slackbridge.bridge.routing import Directory, Place, Watch, channels_of, route_event

T, C, N, W = "T0ACME0001", "C0ACME0SUP", "C0ACME0NSY", "C0ACME0WAT"
ROOT = "1795260608.000001"
STILL = Place(1, "conv-1", T, "still", C, ROOT)
NOISY = Place(2, "conv-2", T, "noisy", N, None)
DIRECTORY = Directory([STILL, NOISY])
BOT_USER = "UBOT"


def _own(message: Any) -> bool:
    return bool(message.get("bot_id") == "BOURS" or message.get("user") == BOT_USER)


def _msg(channel: str, ts: str, thread_ts: str | None = None, **fields: Any) -> dict[str, Any]:
    event = {"type": "message", "channel": channel, "ts": ts, "user": "U1", "text": "hi"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {**event, **fields}


def _types(routes: list[Any]) -> list[str]:
    return [r.type for r in routes]


def test_a_reply_in_a_still_thread_is_created_in_that_conversation() -> None:
    routes = route_event(T, _msg(C, "1795260608.000002", ROOT), DIRECTORY, own=_own)
    assert _types(routes) == ["conversation.message.created"]
    assert routes[0].place == STILL
    assert routes[0].ts == "1795260608.000002"


def test_other_threads_and_top_level_messages_of_a_still_channel_are_not_its_own() -> None:
    assert route_event(T, _msg(C, "1795260608.000009", "1795260608.000005"), DIRECTORY) == []
    assert route_event(T, _msg(C, "1795260608.000009"), DIRECTORY) == []
    # The card itself (the root) is never a message of the conversation.
    assert route_event(T, _msg(C, ROOT), DIRECTORY) == []


def test_anything_in_a_noisy_channel_belongs_to_it() -> None:
    top = route_event(T, _msg(N, "1795260608.000003"), DIRECTORY)
    reply = route_event(T, _msg(N, "1795260608.000004", "1795260608.000003"), DIRECTORY)
    assert _types(top) == _types(reply) == ["conversation.message.created"]
    assert top[0].place == reply[0].place == NOISY


def test_the_gateways_own_posts_never_come_back_but_other_bots_do() -> None:
    ours = _msg(C, "1795260608.000002", ROOT, bot_id="BOURS", subtype="bot_message")
    theirs = _msg(C, "1795260608.000003", ROOT, bot_id="BOTHER", subtype="bot_message")
    assert route_event(T, ours, DIRECTORY, own=_own) == []
    assert _types(route_event(T, theirs, DIRECTORY, own=_own)) == ["conversation.message.created"]


def test_thread_broadcasts_and_file_shares_are_messages_joins_are_not() -> None:
    for subtype in ("thread_broadcast", "file_share", "me_message"):
        event = _msg(C, "1795260608.000002", ROOT, subtype=subtype)
        assert _types(route_event(T, event, DIRECTORY)) == ["conversation.message.created"]
    joined = _msg(N, "1795260608.000002", subtype="channel_join")
    assert route_event(T, joined, DIRECTORY) == []


def _changed(message: dict[str, Any], previous: dict[str, Any], channel: str = C) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel,
        "message": message,
        "previous_message": previous,
    }


def test_an_edit_of_text_blocks_or_files_is_an_edit() -> None:
    before = {"ts": "1795260608.000002", "thread_ts": ROOT, "user": "U1", "text": "a"}
    for change in ({"text": "b"}, {"blocks": [{"type": "divider"}]}, {"files": [{"id": "F1"}]}):
        after = {**before, **change, "edited": {"ts": "1795260609.000000"}}
        routes = route_event(T, _changed(after, before), DIRECTORY)
        assert _types(routes) == ["conversation.message.edited"], change
        assert routes[0].previous == before


def test_unfurls_attachments_metadata_and_reply_counts_are_not_edits() -> None:
    before = {"ts": "1795260608.000002", "thread_ts": ROOT, "user": "U1", "text": "see x.com"}
    for change in (
        {"attachments": [{"title": "x.com"}]},
        {"metadata": {"event_type": "t", "event_payload": {}}},
        {"reply_count": 3, "latest_reply": "1795260608.000009"},
        {"reactions": [{"name": "eyes", "count": 1}]},
    ):
        after = {**before, **change}
        assert route_event(T, _changed(after, before), DIRECTORY) == [], change


def test_an_edit_without_previous_message_compares_with_what_the_store_saw() -> None:
    after = {"ts": "1795260608.000002", "thread_ts": ROOT, "text": "same"}
    event = _changed(after, {})
    from slackbridge.bridge.noise import content_digest

    same = content_digest(after)
    assert route_event(T, event, DIRECTORY, known_digest=lambda _c, _t: same) == []
    other = content_digest({"text": "older"})
    routes = route_event(T, event, DIRECTORY, known_digest=lambda _c, _t: other)
    assert _types(routes) == ["conversation.message.edited"]


def test_edits_of_our_own_posts_are_not_news() -> None:
    before = {"ts": "1795260608.000002", "thread_ts": ROOT, "bot_id": "BOURS", "text": "a"}
    after = {**before, "text": "b"}
    assert route_event(T, _changed(after, before), DIRECTORY, own=_own) == []


def test_a_deleted_reply_is_one_deletion() -> None:
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": C,
        "deleted_ts": "1795260608.000002",
        "previous_message": {"ts": "1795260608.000002", "thread_ts": ROOT, "user": "U1"},
    }
    routes = route_event(T, event, DIRECTORY)
    assert _types(routes) == ["conversation.message.deleted"]
    assert routes[0].ts == "1795260608.000002"


def test_a_deleted_parent_with_replies_is_one_deletion_and_no_replay() -> None:
    watched = Watch(T, W, "message")
    opened = Place(7, "slack:x", T, "still", W, ROOT)
    directory = Directory([opened], [watched])
    tombstone = {
        "ts": ROOT,
        "thread_ts": ROOT,
        "subtype": "tombstone",
        "hidden": True,
        "text": "This message was deleted.",
        "reply_count": 2,
    }
    first = route_event(
        T, _changed(tombstone, {"ts": ROOT, "text": "help", "user": "U1"}, W), directory
    )
    assert _types(first) == ["conversation.message.deleted"]
    assert first[0].ts == ROOT and first[0].place == opened
    # The tombstone goes with the last reply: that deletion names the same message (and makes
    # the same webhook id, see test_events), and the replies' deletions are their own.
    gone = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": W,
        "deleted_ts": ROOT,
        "previous_message": tombstone,
    }
    second = route_event(T, gone, directory)
    assert [(r.type, r.ts) for r in second] == [("conversation.message.deleted", ROOT)]


def test_a_watched_channel_opens_on_every_top_level_message_and_keeps_its_replies() -> None:
    directory = Directory([], [Watch(T, W, "message")])
    opened = route_event(T, _msg(W, "1795260608.000010"), directory)
    assert _types(opened) == ["conversation.opened"]
    assert opened[0].place.key is None and opened[0].place.thread_ts == "1795260608.000010"
    reply = route_event(T, _msg(W, "1795260608.000011", "1795260608.000010"), directory)
    assert _types(reply) == ["conversation.message.created"]
    assert reply[0].place.thread_ts == "1795260608.000010"


def test_a_watched_channel_opens_on_the_chosen_reaction_only() -> None:
    directory = Directory([], [Watch(T, W, "reaction", "ticket")])
    assert route_event(T, _msg(W, "1795260608.000010"), directory) == []

    def reaction(name: str, kind: str = "reaction_added") -> dict[str, Any]:
        item = {"type": "message", "channel": W, "ts": "1795260608.000010"}
        return {"type": kind, "user": "U2", "reaction": name, "item": item}

    assert route_event(T, reaction("eyes"), directory) == []
    assert route_event(T, reaction("ticket", "reaction_removed"), directory) == []
    opened = route_event(T, reaction("ticket"), directory)
    assert _types(opened) == ["conversation.opened"]
    assert opened[0].actor == "U2" and opened[0].reaction == "ticket"
    # Once stored, the reaction is a reaction on its message, not a second opening.
    stored = Directory([Place(9, "slack:y", T, "still", W, "1795260608.000010")], directory.watches)
    assert _types(route_event(T, reaction("ticket"), stored)) == ["conversation.reaction.added"]


def test_reactions_follow_their_message_into_its_conversation() -> None:
    reply = "1795260608.000002"
    item = {"type": "message", "channel": C, "ts": reply}
    event = {"type": "reaction_added", "user": "U2", "reaction": "eyes", "item": item}
    # Unknown thread: a reaction on a message of the still channel is not the conversation's.
    assert route_event(T, event, DIRECTORY) == []
    known = Directory(DIRECTORY.places, (), {(T, C, reply): ROOT})
    routes = route_event(T, event, known)
    assert _types(routes) == ["conversation.reaction.added"]
    assert (routes[0].reaction, routes[0].actor, routes[0].ts) == ("eyes", "U2", reply)
    on_card = {**event, "item": {**item, "ts": ROOT}, "type": "reaction_removed"}
    assert _types(route_event(T, on_card, DIRECTORY)) == ["conversation.reaction.removed"]
    # The gateway's own reactions (the product's, through the API) don't come back.
    assert route_event(T, {**event, "user": BOT_USER}, known, own=_own) == []


def test_archiving_a_noisy_channel_in_slack_closes_it_once() -> None:
    archived = route_event(T, {"type": "channel_archive", "channel": N, "user": "U1"}, DIRECTORY)
    assert _types(archived) == ["conversation.closed"]
    closed = Directory([Place(2, "conv-2", T, "noisy", N, None, "closed")])
    # The product closed it (state already closed) or our bot archived it: not news.
    assert route_event(T, {"type": "channel_archive", "channel": N, "user": "U1"}, closed) == []
    event = {"type": "channel_archive", "channel": N, "user": BOT_USER}
    assert route_event(T, event, DIRECTORY, own=_own) == []
    reopened = route_event(T, {"type": "channel_unarchive", "channel": N, "user": "U1"}, closed)
    assert _types(reopened) == ["conversation.reopened"]
    assert route_event(T, {"type": "channel_archive", "channel": C}, DIRECTORY) == []


def test_conversations_being_created_or_failed_hear_nothing() -> None:
    for state in ("creating", "failed"):
        directory = Directory([Place(1, "k", T, "still", C, ROOT, state)])
        assert route_event(T, _msg(C, "1795260608.000002", ROOT), directory) == []


def test_channels_of_a_batch() -> None:
    events = [_msg(C, "1"), {"type": "reaction_added", "item": {"channel": N}}, {"type": "x"}]
    assert channels_of(events) == {C, N}


_TS = st.integers(0, 30).map(lambda n: f"1795260608.{n:06d}")


@given(ts=_TS, thread=st.one_of(st.none(), _TS), channel=st.sampled_from([C, N, W, "C0OTHER"]))
def test_routing_is_deterministic_and_never_routes_to_two_places(
    ts: str, thread: str | None, channel: str
) -> None:
    directory = Directory([STILL, NOISY], [Watch(T, W, "message")])
    event = _msg(channel, ts, thread)
    routes = route_event(T, event, directory)
    assert routes == route_event(T, event, directory)
    assert len(routes) <= 1
    for route in routes:
        assert route.place.channel_id == channel


def test_an_opening_heard_again_opens_again_until_adopted() -> None:
    # A retried inbox row: the conversation was stored by the first attempt.
    stored = Place(9, None, T, "still", W, "1795260608.000010")
    for watch, event in (
        (Watch(T, W, "message"), _msg(W, "1795260608.000010")),
        (
            Watch(T, W, "reaction", "ticket"),
            {
                "type": "reaction_added",
                "user": "U2",
                "reaction": "ticket",
                "item": {"type": "message", "channel": W, "ts": "1795260608.000010"},
            },
        ),
    ):
        directory = Directory([stored], [watch])
        assert _types(route_event(T, event, directory)) == ["conversation.opened"]
        adopted = Directory([Place(9, "ticket-9", T, "still", W, "1795260608.000010")], [watch])
        assert "conversation.opened" not in _types(route_event(T, event, adopted))
