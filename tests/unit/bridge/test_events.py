"""Conversation webhooks built from routes: bodies, stable ids, files, authors."""

from __future__ import annotations

from typing import Any

from slackbridge.bridge.events import Source, author_ids, route_event_body
from slackbridge.bridge.routing import Directory, Place, Route, route_event
from slackbridge.domain.events import WEBHOOK_TYPES
from slackbridge.product.webhook_policy import webhook_id

T, C = "T0ACME0001", "C0ACME0SUP"
ROOT = "1795260608.000001"
STILL = Place(1, "conv-1", T, "still", C, ROOT)
BASE = "https://gw.example"
ALICE = {
    "slack_user": "U1",
    "name": "alice",
    "real_name": "Alice Archer",
    "email": "alice@acme.test",
    "product_user": "agent-7",
    "bot_id": None,
}


def _source(key: str = "Ev1") -> Source:
    return Source(T, None, "A1", key, 1795260608.0)


def _created(key: str = "Ev1", **fields: Any) -> Any:
    event = {
        "type": "message",
        "channel": C,
        "ts": "1795260608.000002",
        "thread_ts": ROOT,
        "user": "U1",
        "text": "hello",
        **fields,
    }
    (route,) = route_event(T, event, Directory([STILL]))
    return route_event_body(
        route,
        _source(key),
        base_url=BASE,
        authors={"U1": ALICE},
        product_ids={},
    )


def test_a_created_message_carries_conversation_author_files_and_broadcast() -> None:
    files = [{"id": "F1", "name": "a.png", "mimetype": "image/png", "size": 3, "url_private": "x"}]
    event = _created(files=files, subtype="thread_broadcast")
    assert event.type == "conversation.message.created" and event.type in WEBHOOK_TYPES
    data = event.data
    assert data["workspace"] == {"team_id": T, "enterprise_id": None, "app_id": "A1"}
    assert data["conversation"] == {
        "key": "conv-1",
        "mode": "still",
        "channel": C,
        "thread_ts": ROOT,
    }
    message = data["message"]
    assert message["author"] == ALICE
    assert message["broadcast"] is True
    assert message["files"] == [
        {
            "id": "F1",
            "name": "a.png",
            "mimetype": "image/png",
            "size": 3,
            "download_url": f"{BASE}/api/v1/files/{T}/F1/content",
        }
    ]
    assert "url_private" not in str(data)
    assert event.ordering_key == f"{T}:{C}"


def test_the_same_message_heard_twice_makes_one_webhook_id() -> None:
    # Live (event id Ev1), a Slack retry stored under another key, and catch-up: one id.
    assert webhook_id(_created("Ev1")) == webhook_id(_created("Ev2"))
    assert webhook_id(_created("catchup:x")) == webhook_id(_created("Ev1"))


def test_a_tombstone_and_its_later_deletion_make_one_deletion() -> None:
    directory = Directory([Place(7, None, T, "still", C, ROOT)])
    tombstone = {"ts": ROOT, "thread_ts": ROOT, "subtype": "tombstone", "text": "deleted"}
    changed = {"type": "message", "subtype": "message_changed", "channel": C, "message": tombstone}
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": C,
        "deleted_ts": ROOT,
        "previous_message": tombstone,
    }
    bodies = [
        route_event_body(r, _source(key), base_url=BASE, authors={}, product_ids={ROOT: "p-1"})
        for key, event in (("Ev1", changed), ("Ev2", deleted))
        for r in route_event(T, event, directory)
    ]
    assert [b.type for b in bodies] == ["conversation.message.deleted"] * 2
    assert webhook_id(bodies[0]) == webhook_id(bodies[1])
    assert bodies[0].data["message"] == {"ts": ROOT, "product_message_id": "p-1"}
    assert bodies[0].data["conversation"]["key"] is None


def test_bots_are_named_as_slack_names_them() -> None:
    event = _created(user=None, bot_id="BOTHER", username="Deploy bot", subtype="bot_message")
    author = event.data["message"]["author"]
    assert author["bot_id"] == "BOTHER" and author["name"] == "Deploy bot"
    assert author["slack_user"] is None and author["product_user"] is None


def test_reactions_name_their_message_and_the_product_message_id() -> None:
    item = {"type": "message", "channel": C, "ts": ROOT}
    event = {"type": "reaction_added", "user": "U1", "reaction": "eyes", "item": item}
    (route,) = route_event(T, event, Directory([STILL]))
    assert author_ids([route]) == {"U1"}
    body = route_event_body(
        route, _source(), base_url=BASE, authors={"U1": ALICE}, product_ids={ROOT: "p-9"}
    )
    assert body.data["reaction"] == {
        "name": "eyes",
        "user": ALICE,
        "message_ts": ROOT,
        "product_message_id": "p-9",
    }


def test_an_edit_keeps_what_it_was() -> None:
    before = {"ts": "1795260608.000002", "thread_ts": ROOT, "user": "U1", "text": "a"}
    after = {**before, "text": "b", "edited": {"ts": "1795260700.000000"}}
    event = {
        "type": "message",
        "subtype": "message_changed",
        "channel": C,
        "message": after,
        "previous_message": before,
    }
    (route,) = route_event(T, event, Directory([STILL]))
    body = route_event_body(route, _source(), base_url=BASE, authors={"U1": ALICE}, product_ids={})
    assert body.type == "conversation.message.edited"
    assert body.data["message"]["text"] == "b"
    assert body.data["previous"] == {"text": "a", "blocks": None}


def test_an_edit_has_one_webhook_id_whoever_finds_it() -> None:
    # The live message_changed (event Ev1) and catch-up's find of the same edit in history
    # (no previous message, its own source key): the id is the message's ts and edited.ts.
    after = {
        "ts": "1795260608.000002",
        "thread_ts": ROOT,
        "user": "U1",
        "text": "b",
        "edited": {"user": "U1", "ts": "1795260700.000000"},
    }
    event = {"type": "message", "subtype": "message_changed", "channel": C, "message": after}
    (live,) = route_event(
        T, {**event, "previous_message": {**after, "text": "a"}}, Directory([STILL])
    )
    found = Route("conversation.message.edited", STILL, ts=after["ts"], message=after)
    bodies = [
        route_event_body(route, _source(key), base_url=BASE, authors={}, product_ids={})
        for route, key in ((live, "Ev1"), (found, "catchup:1:1795260608.000002:abc"))
    ]
    assert webhook_id(bodies[0]) == webhook_id(bodies[1])
    # Another edit of the same message is another webhook.
    again = {**after, "text": "c", "edited": {"user": "U1", "ts": "1795260800.000000"}}
    later = Route("conversation.message.edited", STILL, ts=after["ts"], message=again)
    other = route_event_body(later, _source("Ev2"), base_url=BASE, authors={}, product_ids={})
    assert webhook_id(other) != webhook_id(bodies[0])
